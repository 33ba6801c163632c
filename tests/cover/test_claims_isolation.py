"""A doctor sees only their own claims; nothing of insurer A is reachable from insurer B."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from cover.claims.models import Claim, ClaimEvent, ReplyDraft
from cover.claims.selectors.claims import claims_of_doctor, claims_queue
from tests.conftest import PASSWORD, staff_login
from tests.cover.claims_factories import claim_create, doctor_create, handler_create

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str) -> None:
    assert (
        client.post("/compte/connexion/", {"username": email, "password": PASSWORD}).status_code
        == 302
    )


def test_another_doctors_claim_is_a_404_and_nothing_changes(tenant_a):
    with tenant_context(tenant_a.insurer):
        owner = doctor_create(last_name="Martin")
        intruder = doctor_create(last_name="Bernard")
        claim = claim_create(doctor=owner)
        events_before = ClaimEvent.objects.filter(claim=claim).count()
    client = Client(HTTP_HOST=tenant_a.domain)
    _login(client, intruder.user.email)

    for path in (
        f"/portail/sinistres/{claim.pk}/",
        f"/portail/sinistres/{claim.pk}/questionnaire/",
        f"/portail/sinistres/{claim.pk}/reponse/",
    ):
        assert client.get(path).status_code == 404
    post = client.post(f"/portail/sinistres/{claim.pk}/reponse/", {"action": "no_reply"})
    assert post.status_code == 404
    listing = client.get("/portail/sinistres/")
    assert claim.reference not in listing.content.decode()

    with tenant_context(tenant_a.insurer):
        assert ClaimEvent.objects.filter(claim=claim).count() == events_before
        assert ReplyDraft.objects.filter(claim=claim).count() == 0
        assert list(claims_of_doctor(doctor=intruder)) == []


def test_the_owner_sees_the_timeline(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_create(today=datetime.date(2025, 3, 12))
        email = claim.doctor.user.email
    client = Client(HTTP_HOST=tenant_a.domain)
    _login(client, email)
    page = client.get(f"/portail/sinistres/{claim.pk}/").content.decode()
    assert claim.reference in page
    assert "Sinistre déclaré" in page


def test_nothing_of_insurer_a_is_reachable_from_insurer_b(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        claim = claim_create()
        reference = claim.reference
    with tenant_context(tenant_b.insurer):
        assert list(claims_queue()) == []
        assert not Claim.objects.filter(reference=reference).exists()
        handler_b = handler_create(email="gestion@tenant-b.example")
    client = Client(HTTP_HOST=tenant_b.domain)
    with tenant_context(tenant_b.insurer):
        staff_login(client, handler_b)
    queue = client.get("/admin/sinistres/")
    assert queue.status_code == 200
    assert reference not in queue.content.decode()
    assert client.get(f"/admin/sinistres/{claim.pk}/").status_code == 404


def test_a_doctor_cannot_open_the_handlers_workspace(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_create()
        doctor_user = claim.doctor.user
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        client.force_login(doctor_user)
    assert client.get(f"/admin/sinistres/{claim.pk}/").status_code in (302, 403)
    assert client.post(f"/admin/sinistres/{claim.pk}/garantie/").status_code in (302, 403)
    with tenant_context(tenant_a.insurer):
        claim.refresh_from_db()
        assert claim.cover_status == "pending"
