"""An insurer admin manages its staff's accounts but never grants, nor takes over, superuser."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import tenant_context

from tests.conftest import PASSWORD, staff_login
from tests.tenants.factories import InsurerAdminFactory, UserFactory

pytestmark = pytest.mark.django_db


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    with tenant_context(tenant.insurer):
        staff_login(client, user)  # and the second factor
    return client


def _new_user_form(email: str) -> dict:
    return {
        "username": email,
        "email": email,
        "first_name": "Paul",
        "last_name": "Lemoine",
        "password1": "Un-mot-de-passe-solide-2026",
        "password2": "Un-mot-de-passe-solide-2026",
        "is_superuser": "on",
    }


def test_an_insurer_admin_creates_a_user_who_is_never_superuser(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email=f"admin-{unique}@exemple.fr")
    client = _client(tenant_a, admin)
    email = f"nouveau-{unique}@exemple.fr"

    form_page = client.get("/admin/users/new/")
    response = client.post("/admin/users/new/", _new_user_form(email))

    assert form_page.status_code == 200
    assert 'name="is_superuser"' not in form_page.content.decode()
    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        created = get_user_model().objects.get(username=email)
        assert created.is_superuser is False


def test_an_insurer_admin_cannot_make_an_existing_user_superuser(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email=f"admin-{unique}@exemple.fr")
        other = UserFactory(email=f"autre-{unique}@exemple.fr")
    client = _client(tenant_a, admin)

    response = client.post(
        f"/admin/users/edit/{other.pk}/",
        {
            "username": other.username,
            "email": other.email,
            "first_name": "Camille",
            "last_name": "Durand",
            "is_active": "on",
            "is_superuser": "on",
        },
    )

    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        other.refresh_from_db()
        assert other.is_superuser is False


def test_an_insurer_admin_cannot_edit_a_superusers_account(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email=f"admin-{unique}@exemple.fr")
        root = UserFactory(email=f"root-{unique}@exemple.fr", is_superuser=True)
    client = _client(tenant_a, admin)

    page = client.get(f"/admin/users/edit/{root.pk}/")
    response = client.post(
        f"/admin/users/edit/{root.pk}/",
        {
            "username": root.username,
            "email": f"pirate-{unique}@exemple.fr",
            "first_name": "Camille",
            "last_name": "Durand",
            "password1": "Pris-en-main-2026-xyz",
            "password2": "Pris-en-main-2026-xyz",
            "is_active": "on",
        },
    )

    assert page.status_code in (302, 403)
    assert response.status_code in (302, 403)
    with tenant_context(tenant_a.insurer):
        root.refresh_from_db()
        assert root.email == f"root-{unique}@exemple.fr"
        assert root.check_password(PASSWORD)


def test_a_superuser_still_grants_superuser(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        root = UserFactory(email=f"root-{unique}@exemple.fr", is_superuser=True, is_staff=True)
    client = _client(tenant_a, root)
    email = f"second-{unique}@exemple.fr"

    response = client.post("/admin/users/new/", _new_user_form(email))

    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        assert get_user_model().objects.get(username=email).is_superuser is True
