"""The insurer's public site: offer comparing published plans only, guides, FAQ, legal notices."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from tests.cover.factories import PlanFactory

pytestmark = pytest.mark.django_db


def test_the_offer_page_compares_only_the_published_plans_of_its_insurer(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        PlanFactory(slug="essentielle", name="Essentielle", price_cents=990)
        PlanFactory(slug="retiree", name="Retirée", published=False)
        draft = PlanFactory(slug="brouillon", name="Brouillon")
        draft.live = False
        draft.save()
    with tenant_context(tenant_b.insurer):
        PlanFactory(slug="chez-b", name="Formule de B")

    html = Client(HTTP_HOST=tenant_a.domain).get("/formules/").content.decode()

    assert "Essentielle" in html and "9,90\u00a0€ par mois" in html
    assert "Retirée" not in html and "Brouillon" not in html and "Formule de B" not in html
    assert 'href="/compte/inscription/?formule=essentielle"' in html


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/guides/", "Guides de prévention"),
        ("/guides/veille/", "Surveiller sa réputation numérique"),
        ("/guides/repondre-aux-avis/", "Répondre à un avis sans rompre le secret médical"),
        (
            "/guides/avis-illicites-et-fiches/",
            "Avis illicites et fiches professionnelles : les recours",
        ),
        ("/faq/", "Questions fréquentes"),
        ("/mentions-legales/", "Mentions légales"),
    ],
)
def test_onboarding_publishes_the_site_pages_in_french(tenant_a, path, title):
    response = Client(HTTP_HOST=tenant_a.domain).get(path)

    assert response.status_code == 200
    assert f"<h1>{title}</h1>" in response.content.decode()
