"""Each person lands on their own home after signing in or choosing their password
(tenants.landing): insurer admin → Wagtail dashboard, claims handler → claims queue, doctor →
portal, operator → platform console. A safe ``next`` still wins; an unsafe one is ignored."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import tenant_context

from tests.conftest import PASSWORD, staff_login
from tests.tenants.factories import (
    ClaimsHandlerFactory,
    DoctorUserFactory,
    InsurerAdminFactory,
)

pytestmark = pytest.mark.django_db

QUEUE = "/admin/sinistres/"
VERIFY = "/compte/double-authentification/"
ENROL = "/compte/double-authentification/activer/"


def _login(host: str, username: str, path: str, **extra) -> str:
    response = Client(HTTP_HOST=host).post(
        path, {"username": username, "password": PASSWORD, **extra}
    )
    assert response.status_code == 302, response.content.decode()[:300]
    return response["Location"]


def test_the_admin_login_lands_each_role_on_its_home(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="atterrit-admin@tenant-a.localhost")
        handler = ClaimsHandlerFactory(email="atterrit-gestion@tenant-a.localhost")
    host = tenant_a.domain

    # Wagtail's login form always posts next=/admin/ (its default): that means « no next ».
    assert _login(host, admin.username, "/admin/login/", next="/admin/") == "/admin/"
    assert _login(host, handler.username, "/admin/login/", next="/admin/") == QUEUE
    assert _login(host, handler.username, "/admin/login/") == QUEUE
    assert _login(host, handler.username, "/admin/login/", next="/admin/pages/") == "/admin/pages/"
    assert (
        _login(host, handler.username, "/admin/login/", next="https://ailleurs.example/") == QUEUE
    )


def test_the_portal_login_lands_doctors_on_the_portal_and_staff_in_the_admin(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory(email="dr.atterrit@exemple.fr")
        admin = InsurerAdminFactory(email="atterrit-portail@tenant-a.localhost")
        handler = ClaimsHandlerFactory(email="atterrit-portail-g@tenant-a.localhost")
    host = tenant_a.domain

    assert _login(host, doctor.username, "/compte/connexion/") == "/portail/"
    assert _login(host, admin.username, "/compte/connexion/") == "/admin/"
    assert _login(host, handler.username, "/compte/connexion/") == QUEUE
    assert _login(host, doctor.username, "/compte/connexion/", next="/portail/profil/") == (
        "/portail/profil/"
    )
    assert _login(host, doctor.username, "/compte/connexion/", next="//ailleurs.example/") == (
        "/portail/"
    )


def _password_set(host: str, user) -> tuple[Client, str]:
    client = Client(HTTP_HOST=host)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    form_url = client.get(f"/compte/mot-de-passe/{uid}/{token}/")["Location"]
    new = "un-nouveau-mot-de-passe-solide-7"
    done = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302, done.content.decode()[:300]
    return client, done["Location"]


def test_choosing_a_password_signs_in_and_lands_on_the_role_home(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="invite-admin@tenant-a.localhost")
        doctor = DoctorUserFactory(email="dr.invite@exemple.fr")
        for user in (admin, doctor):
            user.set_unusable_password()
            user.save()

        admin_client, admin_home = _password_set(tenant_a.domain, admin)
        doctor_client, doctor_home = _password_set(tenant_a.domain, doctor)

        assert get_user_model().objects.get(pk=admin.pk).has_usable_password()
    assert admin_home == "/admin/"  # not the doctors' login page any more
    # Signed in by the password; the admin still enrols a second factor before any admin page.
    assert admin_client.get("/admin/")["Location"] == f"{ENROL}?next=%2Fadmin%2F"
    assert doctor_home == "/portail/"
    assert doctor_client.get("/portail/").status_code == 200


def test_a_used_invitation_link_signs_nobody_in(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory(email="dr.lien-use@exemple.fr")
        doctor.set_unusable_password()
        doctor.save()
        _password_set(tenant_a.domain, doctor)
        uid = urlsafe_base64_encode(force_bytes(doctor.pk))
        token = default_token_generator.make_token(get_user_model().objects.get(pk=doctor.pk))
    replay = Client(HTTP_HOST=tenant_a.domain)
    stale_token = "cbxk7z-0123456789abcdef0123456789abcdef"
    page = replay.get(f"/compte/mot-de-passe/{uid}/{stale_token}/", follow=True)

    assert page.status_code == 200
    assert "_auth_user_id" not in replay.session
    assert token  # a fresh token exists, the stale one was refused


def test_the_second_factor_without_next_lands_on_the_role_home(tenant_a):
    with tenant_context(tenant_a.insurer):
        handler = ClaimsHandlerFactory(email="atterrit-2fa@tenant-a.localhost")
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, handler)

    assert client.get(VERIFY)["Location"] == QUEUE


def test_the_operator_lands_on_the_platform_console(tenant_a):
    operator = get_user_model().objects.create_superuser(
        username="operateur-atterrit@egide.localhost", email="op@egide.localhost", password=PASSWORD
    )
    client = Client(HTTP_HOST="localhost")
    staff_login(client, operator)

    assert _login("localhost", operator.username, "/admin/login/") == "/admin/"
    assert client.get(VERIFY)["Location"] == "/admin/"
