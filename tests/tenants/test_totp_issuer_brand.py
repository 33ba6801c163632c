"""Staff's authenticator app shows their insurer's name, never the platform's (white label)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from tenants import two_factor
from tests.conftest import PASSWORD
from tests.tenants.factories import InsurerAdminFactory

pytestmark = pytest.mark.django_db


def test_the_authenticator_names_the_insurer_on_its_host(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        admin_a = InsurerAdminFactory(email="emetteur@tenant-a.localhost")
        url_a = two_factor.enrolment_start(user=admin_a).config_url
    with tenant_context(tenant_b.insurer):
        admin_b = InsurerAdminFactory(email="emetteur@tenant-b.localhost")
        url_b = two_factor.enrolment_start(user=admin_b).config_url

    assert f"issuer={quote('Assureur test A')}" in url_a
    assert f"issuer={quote('Assureur test B')}" in url_b
    assert "gide" not in url_a and "Assureur test B" not in url_a


def test_the_operator_authenticator_names_the_platform():
    operator = get_user_model().objects.create_superuser(
        username="op-emetteur@egide.localhost", email="op-e@egide.localhost", password=PASSWORD
    )

    url = two_factor.enrolment_start(user=operator).config_url

    assert f"issuer={quote('Égide')}" in url
