"""Each host serves its own insurer's site; one insurer's pages are unreachable from another."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

pytestmark = pytest.mark.django_db


def test_each_host_shows_its_own_branded_home_page(tenant_a, tenant_b):
    page_a = Client(HTTP_HOST=tenant_a.domain).get("/").content.decode()
    page_b = Client(HTTP_HOST=tenant_b.domain).get("/").content.decode()

    assert "Votre e-réputation, protégée par Assureur test A" in page_a
    assert "--primary: #0b4f6c" in page_a
    assert "Assureur test B" not in page_a
    assert "Votre e-réputation, protégée par Assureur test B" in page_b
    assert "--primary: #5b2a86" in page_b
    assert "Assureur test A" not in page_b


def test_a_page_published_in_one_insurer_is_a_404_on_the_other(tenant_a, tenant_b, unique):
    from wagtail.models import Page, Site

    with tenant_context(tenant_a.insurer):
        home = Site.objects.get().root_page.specific
        child = Page(title=f"Page {unique}", slug=f"page-{unique}")
        home.add_child(instance=child)
        child.save_revision().publish()

    assert Client(HTTP_HOST=tenant_a.domain).get(f"/page-{unique}/").status_code == 200
    assert Client(HTTP_HOST=tenant_b.domain).get(f"/page-{unique}/").status_code == 404


def test_unknown_host_is_not_served():
    response = Client(HTTP_HOST="inconnu.localhost").get("/")

    assert response.status_code == 404


def test_public_host_shows_the_operator_page_and_a_404_is_a_404():
    client = Client(HTTP_HOST="localhost")

    home = client.get("/")
    missing = client.get("/rien-ici/")

    assert "Égide, la garantie e-réputation en marque blanche" in home.content.decode()
    # Wagtail's redirect middleware would crash here (no wagtailredirects table in public).
    assert missing.status_code == 404


def test_wagtail_redirects_still_work_on_an_insurer_host(tenant_a, unique):
    from wagtail.contrib.redirects.models import Redirect

    with tenant_context(tenant_a.insurer):
        Redirect.objects.create(old_path=f"/ancien-{unique}", redirect_link="/nouveau/")

    response = Client(HTTP_HOST=tenant_a.domain).get(f"/ancien-{unique}/")

    assert (response.status_code, response["Location"]) == (301, "/nouveau/")
