"""The second demo insurer's own site: home copy, offer, plans and guides that differ from the first.

The first demo insurer keeps what every new insurer gets at onboarding
(``cover.services.site.site_pages_ensure`` and ``cover.demo.DEMO_PLANS``); the second one shows
that two insurers on Égide are two different brands: other words, two plans instead of three,
other guarantees and prices, its own prevention guides and another site style (see
``Branding.site_style``).

The guides only repeat advice already in the onboarding guides (DOMAIN.md §1 and §5); no new rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wagtail.models import Page

from cover.models import GuideIndexPage, GuidePage, HomePage, OfferPage
from cover.services.site import SEED_GUIDES

DEMO_VARIANT_STANDARD = "standard"
DEMO_VARIANT_SECOND = "second"


@dataclass(frozen=True)
class DemoSiteCopy:
    headline: str
    intro: str
    offer_intro: str
    guides_intro: str
    # (slug, title, summary, body): ``{name}`` in the body is the insurer's display name.
    guides: tuple[tuple[str, str, str, str], ...] = field(default_factory=tuple)


SECOND_SITE = DemoSiteCopy(
    headline="Médecins : gardez la main sur ce qui se dit de vous en ligne",
    intro=(
        "<p>Un avis blessant, une fiche d'établissement erronée, un article qui vous met en "
        "cause : {name} veille chaque jour sur votre nom, conserve les preuves et mène les "
        "démarches avec vous, de la demande amiable à l'avocat.</p>"
    ),
    offer_intro=(
        "<p>Deux formules claires : la veille pour être prévenu, la "
        "défense pour être accompagné jusqu'au bout. Souscription en ligne en quelques minutes.</p>"
    ),
    guides_intro=(
        "<p>Les fiches pratiques de {name} : quoi faire, dans quel ordre, quand un contenu "
        "vous concerne.</p>"
    ),
    guides=(
        (
            "premier-avis-negatif",
            "Un avis négatif vient de paraître : les bons réflexes",
            "Ne pas répondre à chaud, garder la preuve, vérifier s'il est illicite.",
            "<p>Un avis désagréable n'est pas forcément illicite, et une réponse écrite sous "
            "le coup de l'émotion peut vous exposer davantage que l'avis lui-même.</p>"
            "<h2>Dans l'heure</h2><ul>"
            "<li>Ne répondez pas tout de suite : relisez l'avis le lendemain.</li>"
            "<li>Faites une capture complète de la page, adresse, date et heure visibles.</li>"
            "<li>Déclarez le contenu à {name} depuis votre espace : nous en fixons la preuve."
            "</li></ul>"
            "<h2>Dans les jours qui suivent</h2><ul>"
            "<li>Si vous répondez, restez général : le secret médical vous interdit d'évoquer "
            "la situation d'un patient, même pour vous défendre.</li>"
            "<li>Si l'avis vous semble injurieux, diffamatoire ou dénigrant, nos juristes "
            "vérifient les recours possibles : certains délais sont très courts.</li></ul>",
        ),
        (
            "fiche-etablissement",
            "Votre fiche d'établissement en ligne : la vérifier et la corriger",
            "Horaires, adresse, spécialité : reprendre la main sur les informations publiées.",
            "<p>Les fiches d'annuaire et d'établissement sont souvent la première chose que "
            "voient vos patients. Elles sont parfois créées sans vous, avec des erreurs.</p>"
            "<h2>Vérifier</h2><ul>"
            "<li>Recherchez votre nom, votre spécialité et votre ville sur les moteurs de "
            "recherche et les principaux annuaires.</li>"
            "<li>Relevez les informations inexactes : horaires, adresse, téléphone, "
            "modalités de rendez-vous.</li></ul>"
            "<h2>Corriger</h2><ul>"
            "<li>Revendiquez la fiche avec un compte professionnel pour la mettre à jour "
            "vous-même.</li>"
            "<li>Si la plateforme refuse, {name} l'accompagne dans ses demandes de "
            "rectification ou de suppression.</li></ul>",
        ),
    ),
)

SECOND_PLANS: tuple[dict[str, Any], ...] = (
    {
        "name": "Veille Plus",
        "slug": "veille-plus",
        "summary": "Une veille chaque semaine et les premières démarches de retrait.",
        "sort_order": 1,
        "monitoring_frequency": "weekly",
        "max_keywords": 5,
        "max_watched_pages": 3,
        "removal_requests_per_year": 4,
        "positive_content_campaigns_per_year": 0,
        "per_claim_ceiling_cents": 500_000,
        "annual_ceiling_cents": 1_000_000,
        "cleanup_subceiling_cents": 200_000,
        "deductible_cents": 10_000,
        "intervention_threshold_cents": 20_000,
        "waiting_period_days": 15,
        "price_cents": 1450,
        "billing_period": "month",
    },
    {
        "name": "Défense intégrale",
        "slug": "defense-integrale",
        "summary": "Veille quotidienne, avocat et constat pris en charge, deux ans d'antériorité.",
        "sort_order": 2,
        "monitoring_frequency": "daily",
        "max_keywords": 20,
        "max_watched_pages": 10,
        "removal_requests_per_year": 10,
        "positive_content_campaigns_per_year": 3,
        "per_claim_ceiling_cents": 2_000_000,
        "annual_ceiling_cents": 4_000_000,
        "cleanup_subceiling_cents": 800_000,
        "deductible_cents": 0,
        "intervention_threshold_cents": 0,
        "waiting_period_days": 0,
        "anteriority": "retroactive_years",
        "anteriority_years": 2,
        "territory": "Union européenne",
        "price_cents": 28_900,
        "billing_period": "year",
    },
)
SECOND_POLICY_PLAN = "veille-plus"


def demo_site_copy_apply(*, home: Page, copy: DemoSiteCopy, display_name: str) -> None:
    """Give an insurer's seeded site the demo copy and guides; a second run changes nothing.

    The onboarding guides are replaced by the copy's own guides, so the two demo sites share none.
    """

    def fill(text: str) -> str:
        return text.replace("{name}", display_name)

    def publish_if_changed(page: Page, **values: str) -> None:
        if all(getattr(page, name) == value for name, value in values.items()):
            return
        for name, value in values.items():
            setattr(page, name, value)
        page.save_revision().publish()

    home = home.specific
    if isinstance(home, HomePage):
        publish_if_changed(home, headline=fill(copy.headline), intro=fill(copy.intro))
    offer = home.get_children().filter(slug="formules").type(OfferPage).first()
    if offer is not None:
        publish_if_changed(offer.specific, intro=fill(copy.offer_intro))
    index_page = home.get_children().filter(slug="guides").type(GuideIndexPage).first()
    if index_page is None:
        return
    index = index_page.specific
    publish_if_changed(index, intro=fill(copy.guides_intro))
    stock = {slug for slug, *_rest in SEED_GUIDES} - {slug for slug, *_rest in copy.guides}
    for page in index.get_children().filter(slug__in=stock):
        page.delete()
    existing = set(index.get_children().values_list("slug", flat=True))
    for slug, title, summary, body in copy.guides:
        if slug in existing:
            continue
        guide = GuidePage(title=title, slug=slug, summary=summary, body=fill(body))
        index.add_child(instance=guide)
        guide.save_revision().publish()
