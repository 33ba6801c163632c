"""The operator onboards an insurer from the platform admin, with the same service."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_exists

from tenants.models import Insurer
from tests.conftest import staff_login

pytestmark = pytest.mark.django_db


def _operator_client(*, superuser: bool) -> Client:
    user_model = get_user_model()
    user = user_model.objects.create_user(
        username="op@egide.localhost", password="x-Pass-123", is_staff=True, is_superuser=superuser
    )
    client = Client(HTTP_HOST="localhost")
    staff_login(client, user)
    return client


def test_operator_onboards_an_insurer_from_the_admin(django_capture_on_commit_callbacks):
    client = _operator_client(superuser=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/tenants/insurer/add/",
            {"name": "Assureur Admin", "domain": "par-admin.localhost", "admin_email": "a@pa.fr"},
        )

    insurer = Insurer.objects.get(name="Assureur Admin")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/tenants/insurer/{insurer.pk}/change/"
    assert insurer.is_ready
    assert schema_exists(insurer.schema_name)


def test_operator_sees_a_clear_error_for_a_taken_domain(tenant_a):
    client = _operator_client(superuser=True)
    before = Insurer.objects.count()

    response = client.post(
        "/admin/tenants/insurer/add/",
        {"name": "Copie", "domain": tenant_a.domain, "admin_email": "a@copie.fr"},
    )

    assert response.status_code == 200
    assert "Le domaine tenant-a.localhost est déjà utilisé." in response.content.decode()
    assert Insurer.objects.count() == before


def test_staff_without_permission_cannot_onboard():
    client = _operator_client(superuser=False)
    before = Insurer.objects.count()

    response = client.post(
        "/admin/tenants/insurer/add/",
        {"name": "Interdit", "domain": "interdit.localhost", "admin_email": "a@i.fr"},
    )

    assert response.status_code == 302
    assert Insurer.objects.count() == before
    assert not schema_exists("interdit")
