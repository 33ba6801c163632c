"""Wagtail's « site name » is the insurer's own in its admin, never the platform's brand."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from tests.conftest import staff_login
from tests.tenants.factories import InsurerAdminFactory

pytestmark = pytest.mark.django_db


def test_the_site_name_follows_the_insurer(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        name_a = str(settings.WAGTAIL_SITE_NAME)
    with tenant_context(tenant_b.insurer):
        name_b = str(settings.WAGTAIL_SITE_NAME)
    connection.set_schema_to_public()
    assert (name_a, name_b) == ("Assureur test A", "Assureur test B")
    assert str(settings.WAGTAIL_SITE_NAME) == "Égide"


def test_the_page_deletion_confirmation_asks_for_the_insurers_name(tenant_a):
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.test import RequestFactory
    from wagtail.admin.views.pages.utils import type_to_delete_confirmation

    with tenant_context(tenant_a.insurer):
        wrong = RequestFactory().post("/", {"confirm_site_name": "Égide"})
        wrong._messages = CookieStorage(wrong)
        right = RequestFactory().post("/", {"confirm_site_name": "Assureur test A"})
        right._messages = CookieStorage(right)
        assert type_to_delete_confirmation(wrong) is False
        assert type_to_delete_confirmation(right) is True
        admin = InsurerAdminFactory(email="admin-nom@tenant-a.localhost")
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, admin)
    home = client.get("/admin/")
    assert home.status_code == 200
    assert "Égide" not in home.content.decode()
