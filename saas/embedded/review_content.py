"""What the demo review site publishes: fictitious doctors, their reviews per version, and a
directory listing in the PagesJaunes layout, with the paths the site serves them at.

``saas.embedded.review_site`` renders and serves them; the demo seed (``saas.demo``) watches
these pages. Every text here is fictitious and written for Égide.
"""

from __future__ import annotations

from dataclasses import dataclass

PLATFORM_NAME = "AvisSanté (démonstration)"


@dataclass(frozen=True)
class DemoReview:
    id: str
    author: str
    date: str
    rating: int
    text: str


@dataclass(frozen=True)
class DemoDoctor:
    slug: str
    name: str
    specialty: str
    city: str
    # reviews[v - 1] is what version v shows, in page order (newest first).
    versions: tuple[tuple[DemoReview, ...], ...]


def _versions(
    base: tuple[DemoReview, ...],
    *,
    added_v2: DemoReview,
    edited_v2: DemoReview,
    added_v3: DemoReview,
) -> tuple[tuple[DemoReview, ...], ...]:
    v2 = (added_v2, *(edited_v2 if r.id == edited_v2.id else r for r in base))
    return (base, v2, (added_v3, *v2))


MARTIN_BASE = (
    DemoReview(
        "avis-1104",
        "Nathalie P.",
        "2026-11-04",
        5,
        "Médecin à l'écoute, qui prend le temps d'expliquer. Je recommande.",
    ),
    DemoReview(
        "avis-1021",
        "Marc T.",
        "2026-10-21",
        4,
        "Consultation sérieuse, cabinet propre et bien situé. Je recommande ce cabinet.",
    ),
    DemoReview(
        "avis-0930",
        "Lucie R.",
        "2026-09-30",
        3,
        "Médecin compétente mais souvent en retard, prévoir de l'attente.",
    ),
    DemoReview(
        "avis-0912",
        "Olivier B.",
        "2026-09-12",
        5,
        "Très bon suivi de mes enfants, toujours disponible en cas d'urgence.",
    ),
)
BERNARD_BASE = (
    DemoReview(
        "avis-2110",
        "Isabelle M.",
        "2026-11-10",
        5,
        "Excellent cardiologue, diagnostic précis et explications claires.",
    ),
    DemoReview(
        "avis-2026",
        "Thomas G.",
        "2026-10-26",
        4,
        "Rendez-vous obtenu rapidement, examen complet. Secrétariat aimable.",
    ),
    DemoReview(
        "avis-2003",
        "Hélène D.",
        "2026-10-03",
        2,
        "Consultation trop rapide à mon goût, peu de temps pour les questions.",
    ),
)

DOCTORS: dict[str, DemoDoctor] = {
    d.slug: d
    for d in (
        DemoDoctor(
            slug="dr-claire-martin",
            name="Dr Claire Martin",
            specialty="Médecin généraliste",
            city="Créteil",
            versions=_versions(
                MARTIN_BASE,
                added_v2=DemoReview(
                    "avis-1201",
                    "Patient anonyme",
                    "2026-12-01",
                    1,
                    "Ce médecin est un escroc : elle m'a facturé une consultation jamais "
                    "réalisée. Une vraie charlatan, fuyez.",
                ),
                edited_v2=DemoReview(
                    "avis-1021",
                    "Marc T.",
                    "2026-10-21",
                    2,
                    "Je ne recommande plus ce cabinet : secrétariat désagréable et "
                    "rendez-vous annulé la veille.",
                ),
                added_v3=DemoReview(
                    "avis-1205",
                    "Sandrine V.",
                    "2026-12-05",
                    5,
                    "Merci au Dr Martin pour sa patience et son suivi attentif.",
                ),
            ),
        ),
        DemoDoctor(
            slug="dr-paul-bernard",
            name="Dr Paul Bernard",
            specialty="Cardiologue",
            city="Versailles",
            versions=_versions(
                BERNARD_BASE,
                added_v2=DemoReview(
                    "avis-2201",
                    "Julien K.",
                    "2026-12-02",
                    1,
                    "Un menteur qui a falsifié mon dossier pour couvrir une erreur médicale. "
                    "À éviter absolument.",
                ),
                edited_v2=DemoReview(
                    "avis-2026",
                    "Thomas G.",
                    "2026-10-26",
                    2,
                    "Rendez-vous obtenu rapidement, mais examen bâclé. Je ne recommande plus.",
                ),
                added_v3=DemoReview(
                    "avis-2204",
                    "Martine L.",
                    "2026-12-04",
                    5,
                    "Cardiologue rassurant et très professionnel, merci.",
                ),
            ),
        ),
    )
}


def doctor_slug(first_name: str, last_name: str) -> str:
    return f"dr-{first_name}-{last_name}".lower()


def page_path(slug: str) -> str:
    return f"/avis/{slug}"


# --------------------------------------------------------------------------- listing

# A directory listing in the PagesJaunes layout (``cleanup/platforms/profiles/pagesjaunes.toml``):
# no schema.org markup, reviews in HTML blocks, a « Voir plus d'avis » link to page 2. The demo
# watches it with ``platform="pagesjaunes"``, so a scan reads it through that profile, both pages.
LISTING_PLATFORM_NAME = "PagesJaunes (démonstration)"
LISTING_PROFILE = "pagesjaunes"


@dataclass(frozen=True)
class DemoListing:
    slug: str
    doctor: str  # the doctor's name as the directory writes it: « Nom Prénom »
    activity: str
    address: str
    pages: tuple[tuple[DemoReview, ...], ...]


LISTINGS: dict[str, DemoListing] = {
    d.slug: d
    for d in (
        DemoListing(
            slug="dr-paul-bernard",
            doctor="Bernard Paul",
            activity="Cardiologue",
            address="8 avenue de Saint-Cloud, 78000 Versailles",
            pages=(
                (
                    DemoReview(
                        "pj-3101", "Agnès V.", "2026-11-18", 5,
                        "Cardiologue consciencieux, explications claires sur mon traitement.",
                    ),
                    DemoReview(
                        "pj-3102", "Bruno C.", "2026-10-29", 4,
                        "Examen complet et compte rendu envoyé rapidement à mon généraliste.",
                    ),
                    DemoReview(
                        "pj-3103", "Anonyme", "2026-10-07", 4,
                        "Cabinet facile d'accès, un peu d'attente le jour du rendez-vous.",
                    ),
                ),
                (
                    DemoReview(
                        "pj-3104", "Gérard F.", "2026-09-15", 1,
                        "Un incompétent dangereux qui m'a mal soigné, un vrai boucher. Fuyez.",
                    ),
                    DemoReview(
                        "pj-3105", "Claire H.", "2026-08-30", 5,
                        "Très bon suivi après mon infarctus, merci.",
                    ),
                ),
            ),
        ),
    )
}  # fmt: skip


def listing_path(slug: str, number: int = 1) -> str:
    return f"/pagesjaunes/pros/{slug}" + (f"/page-{number}" if number > 1 else "")
