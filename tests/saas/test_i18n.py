"""French first, English available — on the site and in the Wagtail admin."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_portal_and_admin_are_french_by_default(tenant_a):
    client = Client(HTTP_HOST=tenant_a.domain)

    login = client.get("/compte/connexion/")
    admin_login = client.get("/admin/login/")

    assert login["Content-Language"] == "fr"
    assert "Connexion à votre espace" in login.content.decode()
    assert 'lang="fr"' in admin_login.content.decode()
    assert "<title>Connexion - Assureur test A</title>" in admin_login.content.decode()
    assert "Mot de passe oublié\xa0?" in admin_login.content.decode()


def test_english_is_available(tenant_a):
    client = Client(HTTP_HOST=tenant_a.domain, HTTP_ACCEPT_LANGUAGE="en")

    admin_login = client.get("/admin/login/")

    assert admin_login["Content-Language"] == "en"
    assert "Forgotten password?" in admin_login.content.decode()
