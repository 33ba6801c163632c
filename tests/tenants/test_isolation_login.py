"""A user of one insurer cannot log in to another insurer's admin or portal."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.util import random_hex
from django_tenants.utils import tenant_context

from saas.totp_code import totp_code
from tenants.two_factor import totp_device_set
from tests.conftest import PASSWORD
from tests.tenants.factories import ClaimsHandlerFactory, DoctorUserFactory

pytestmark = pytest.mark.django_db


def _admin_login(client: Client, email: str):
    return client.post("/admin/login/", {"username": email, "password": PASSWORD})


def _authenticator(tenant, email: str):
    """Staff need a second factor (tests/tenants/test_staff_2fa.py): give them an app."""
    with tenant_context(tenant.insurer):
        user = get_user_model().objects.get(username=email)
        return totp_device_set(user=user, key_hex=random_hex(20))


def _second_factor(client: Client, device) -> None:
    secret = base64.b32encode(device.bin_key).decode()
    response = client.post("/compte/double-authentification/", {"code": totp_code(secret=secret)})
    assert response.status_code == 302


def test_insurer_admin_logs_in_on_its_own_host(tenant_a):
    device = _authenticator(tenant_a, tenant_a.admin_email)
    client = Client(HTTP_HOST=tenant_a.domain)

    response = _admin_login(client, tenant_a.admin_email)
    _second_factor(client, device)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_insurer_admin_cannot_log_in_on_another_insurers_host(tenant_a, tenant_b):
    client = Client(HTTP_HOST=tenant_b.domain)

    response = _admin_login(client, tenant_a.admin_email)

    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    with tenant_context(tenant_b.insurer):
        assert not get_user_model().objects.filter(email=tenant_a.admin_email).exists()


def test_a_session_from_one_host_is_not_valid_on_another(tenant_a, tenant_b):
    client_a = Client(HTTP_HOST=tenant_a.domain)
    _admin_login(client_a, tenant_a.admin_email)
    session_cookie = client_a.cookies["sessionid"].value

    client_b = Client(HTTP_HOST=tenant_b.domain)
    client_b.cookies["sessionid"] = session_cookie

    assert client_b.get("/admin/").status_code == 302


def test_doctor_logs_in_to_the_portal_of_their_insurer_only(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        DoctorUserFactory(email="dr.portail@exemple.fr")

    client_a = Client(HTTP_HOST=tenant_a.domain)
    ok = client_a.post(
        "/compte/connexion/", {"username": "dr.portail@exemple.fr", "password": PASSWORD}
    )
    client_b = Client(HTTP_HOST=tenant_b.domain)
    refused = client_b.post(
        "/compte/connexion/", {"username": "dr.portail@exemple.fr", "password": PASSWORD}
    )

    assert (ok.status_code, ok["Location"]) == (302, "/portail/")
    home = client_a.get("/portail/").content.decode()
    assert "Bonjour Camille Durand" in home
    assert 'href="/veille/"' in home and 'href="/portail/sinistres/"' in home
    assert 'href="/preuves/"' in home
    assert refused.status_code == 200
    assert "_auth_user_id" not in client_b.session
    # A doctor is not staff: the Wagtail admin stays closed to them.
    assert client_a.get("/admin/").status_code == 302


def test_claims_handler_reaches_the_admin_of_their_insurer_only(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        handler = ClaimsHandlerFactory(email="gestion@exemple.fr")
        assert handler.is_staff

    device = _authenticator(tenant_a, "gestion@exemple.fr")
    client_a = Client(HTTP_HOST=tenant_a.domain)
    client_b = Client(HTTP_HOST=tenant_b.domain)

    assert _admin_login(client_a, "gestion@exemple.fr").status_code == 302
    _second_factor(client_a, device)
    assert client_a.get("/admin/").status_code == 200
    assert _admin_login(client_b, "gestion@exemple.fr").status_code == 200
    assert client_b.get("/admin/").status_code == 302
