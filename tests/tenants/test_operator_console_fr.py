"""The operator console (Django admin on the platform host) speaks French, in the Égide style.

Every list, add and change page of every model the console registers is fetched as a verified
operator; each must answer 200 and show none of Django's, django-tenants' or the models' English
strings.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse as _reverse

from tenants.admin import platform_admin
from tenants.models import Insurer, PlatformPlan
from tests.conftest import PASSWORD, staff_login

pytestmark = pytest.mark.django_db


def reverse(name: str, args: list | None = None) -> str:
    return _reverse(name, urlconf="saas.urls_public", args=args)


# English seen in the raw console (issue 11) and the usual admin strings around them.
ENGLISH = (
    "Not available",
    "Schema name",
    "Is primary",
    "IS PRIMARY",
    "Site administration",
    "Django administration",
    "Django site admin",
    "Add insurer",
    "Change insurer",
    "Select insurer",
    "Recent actions",
    "My actions",
    "Welcome,",
    "View site",
    "Change password",
    "Log out",
    "Save and add another",
    "Save and continue editing",
    "Authentication and Authorization",
    "Domains",
    "Domain:",
    "Filter",
    "Search ",
    " action selected",
    "Action:",
    " Go ",
    "Stripe product id",
    "Stripe price",
    "Users",
    "Groups",
    "Devices",
    "Access attempts",
    "Access logs",
    "Access failure",
    "Tenants",
    "Tasks",
    "Timestamps",
    "Throttling",
)
_CODE = re.compile(r"<script.*?</script>|<style.*?</style>|<svg.*?</svg>|<!--.*?-->", re.S)
_SHOWN_ATTRIBUTES = re.compile(r'\b(?:value|placeholder|title|aria-label)="([^"]*)"')
_TAG = re.compile(r"<[^>]+>")


def _visible(html: str) -> str:
    """What a person reads or hears: text, button values, placeholders, titles and labels."""
    html = _CODE.sub(" ", html)
    shown = " ".join(_SHOWN_ATTRIBUTES.findall(html))
    return " ".join((_TAG.sub(" ", html) + " " + shown).split())


def _english_in(html: str) -> list[str]:
    text = _visible(html)
    return [phrase for phrase in ENGLISH if phrase in text]


@pytest.fixture
def operator_client(tenant_a) -> Client:
    operator = get_user_model().objects.create_superuser(
        username="operateur-fr@egide.localhost", email="op-fr@egide.localhost", password=PASSWORD
    )
    client = Client(HTTP_HOST="localhost")
    staff_login(client, operator)
    return client


def _console_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model, model_admin in platform_admin._registry.items():
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        del model_admin
    return urls


def test_every_console_page_is_in_french(operator_client, tenant_a):
    plan = PlatformPlan.objects.create(code="essentiel-fr", name="Essentiel", monthly_price_cents=1)
    pages = [
        *_console_urls(),
        reverse("admin:tenants_insurer_change", args=[tenant_a.insurer.pk]),
        reverse("admin:tenants_platformplan_change", args=[plan.pk]),
    ]

    found: dict[str, list[str]] = {}
    statuses: dict[str, int] = {}
    for url in pages:
        response = operator_client.get(url)
        statuses[url] = response.status_code
        if response.status_code == 200:
            english = _english_in(response.content.decode())
            if english:
                found[url] = english

    assert {url: status for url, status in statuses.items() if status not in (200, 403)} == {}
    assert found == {}


def test_the_console_has_its_own_header_and_title(operator_client):
    page = operator_client.get(reverse("admin:index")).content.decode()

    assert "<title>Tableau de bord | Console Égide</title>" in page
    assert 'id="site-name"><a href="/admin/">Console Égide</a>' in page


def test_the_insurer_list_has_french_column_titles(operator_client, tenant_a):
    page = operator_client.get(reverse("admin:tenants_insurer_changelist")).content.decode()

    for title in ("Nom", "Schéma", "Domaine", "Statut"):
        assert f">{title}</a>" in page or f">{title}</span>" in page, title
    assert tenant_a.insurer.name in page
    assert Insurer.objects.filter(schema_name="public").exists()
