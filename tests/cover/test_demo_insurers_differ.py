"""The two demo insurers are two brands, not one site renamed: other home copy, plans, prices,
guides and site style; the home page sells with prices and a sign-up button."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from wagtail.models import Site

from cover.demo import demo_offer_seed
from cover.demo_content import SECOND_PLANS, SECOND_SITE
from cover.models import Branding, GuidePage, HomePage, Policy
from cover.selectors import plans_published
from cover.services.site import SEED_GUIDES
from saas.demo import demo_site_style_set
from tests.tenants.factories import DoctorUserFactory

pytestmark = pytest.mark.django_db


def _site_state() -> dict:
    home = Site.objects.get(is_default_site=True).root_page.specific
    assert isinstance(home, HomePage)
    return {
        "headline": home.headline,
        "plans": [(p.name, p.price_cents, p.billing_period) for p in plans_published()],
        "guides": sorted(GuidePage.objects.live().values_list("title", flat=True)),
        "style": Branding.for_site(Site.objects.get(is_default_site=True)).site_style,
    }


def test_the_second_demo_insurer_differs_from_the_first(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        DoctorUserFactory(email="dr.a@exemple.fr")
        demo_offer_seed(doctor_email="dr.a@exemple.fr")
        first = _site_state()
    with tenant_context(tenant_b.insurer):
        doctor_b = DoctorUserFactory(email="dr.b@exemple.fr")
        demo_site_style_set(site_style="classic")
        demo_offer_seed(doctor_email="dr.b@exemple.fr", variant="second")
        second = _site_state()
        # idempotent: a second run changes nothing
        demo_site_style_set(site_style="classic")
        demo_offer_seed(doctor_email="dr.b@exemple.fr", variant="second")
        assert _site_state() == second
        policy_plan = Policy.objects.get(doctor__user=doctor_b).plan_version.terms["plan_name"]
        home_html = Client(HTTP_HOST=tenant_b.domain).get("/").content.decode()
        offer_html = Client(HTTP_HOST=tenant_b.domain).get("/formules/").content.decode()

    assert first["plans"] == [
        ("Essentielle", 990, "month"),
        ("Sérénité", 1990, "month"),
        ("Intégrale", 34_900, "year"),
    ]
    assert second["plans"] == [
        (p["name"], p["price_cents"], p["billing_period"]) for p in SECOND_PLANS
    ]
    assert second["headline"] == SECOND_SITE.headline != first["headline"]
    assert first["guides"] == sorted(title for _slug, title, *_ in SEED_GUIDES)
    assert second["guides"] == sorted(title for _slug, title, *_ in SECOND_SITE.guides)
    assert not set(first["guides"]) & set(second["guides"])
    assert (first["style"], second["style"]) == ("modern", "classic")
    assert policy_plan == "Veille Plus"
    # the home page sells: plans with their price, a sign-up button; the site's own style
    assert "14,50\u00a0€ par mois" in home_html and "289,00\u00a0€ par an" in home_html
    assert 'href="/compte/inscription/?formule=defense-integrale"' in home_html
    assert 'id="home-signup"' in home_html
    assert '<body class="style-classic">' in home_html
    assert "Rétroactivité de 2 ans" in offer_html and "Essentielle" not in offer_html
