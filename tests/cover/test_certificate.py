"""The certificate of cover: a PDF for a policy in force, refused for a lapsed one."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django_tenants.utils import tenant_context

from cover.models import Policy
from tests.cover.factories import PolicyFactory

pytestmark = pytest.mark.django_db


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    with tenant_context(tenant.insurer):
        client.force_login(user)
    return client


def test_an_active_policy_gets_its_certificate_as_a_pdf(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory()

    response = _client(tenant_a, policy.doctor.user).get(
        f"/portail/contrat/{policy.number}/attestation.pdf"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="attestation-{policy.number}.pdf"'
    )
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_a_past_due_policy_gets_no_certificate_and_a_french_reason(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(status=Policy.Status.PAST_DUE)

    response = _client(tenant_a, policy.doctor.user).get(
        f"/portail/contrat/{policy.number}/attestation.pdf"
    )

    assert response.status_code == 302
    assert response["Location"] == "/portail/contrat/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Ce contrat n'est pas en vigueur : aucune attestation ne peut être délivrée."
    ]


def test_another_doctors_policy_is_a_404(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory()
        intruder = PolicyFactory().doctor.user

    response = _client(tenant_a, intruder).get(f"/portail/contrat/{policy.number}/attestation.pdf")

    assert response.status_code == 404
