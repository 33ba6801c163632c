"""Platform profiles as data: every profile file in ``cleanup/platforms/profiles/`` reads its own
test page (``tests/cleanup/platform_pages/``, markup written to mimic the platform), later pages
are reached (« page suivante » links followed on the same host, « Voir plus » clicked in the
browser), a broken profile file is refused with its name, and a known platform whose markup
changed is reported « page non reconnue » by the real scan.

Pages are served by the fake review platform of ``tests/cleanup/conftest.py`` (a real HTTP server
on 127.0.0.1); script-driven pages are rendered in Chromium behind the monitoring guard."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from cleanup.extract import reviews_extract
from cleanup.fetch import page_fetch
from cleanup.models import Scan
from cleanup.platforms import (
    PLATFORM_PROFILES,
    PROFILES_DIR,
    ProfileError,
    platform_for_url,
    profiles_load,
)
from cleanup.render import page_render, page_scan
from cleanup.services.scans import scan_request, scan_run
from cleanup.services.watch import watch_profile_save, watched_page_add
from tests.cleanup.conftest import LOOPBACK, SCAN1_REVIEWS, jsonld_page
from tests.cleanup.factories import doctor_with_policy

PAGES = Path(__file__).resolve().parent / "platform_pages"
PROFILE_KEYS = sorted(path.stem for path in PROFILES_DIR.glob("*.toml"))
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json"}

# Per profile: the aggregate, then every review (id, author, date, rating, text, permalink,
# experience date) in page order; "{site}" is the server's root, "{dir}" the pages' folder.
# `first_page` reviews are those of the first page alone (before pagination or « Voir plus »).
EXPECTED: dict[str, dict] = {
    "pagesjaunes": {
        "aggregate": (4.3, 5),
        "first_page": 3,
        "pages_read": 2,
        "clicks": 0,
        "reviews": [
            ("pagesjaunes:pj-9001", "Sophie L.", date(2026, 3, 12), 5.0,
             "Médecin très à l'écoute, prend le temps d'expliquer. Je recommande vivement.",
             "{site}/pros/05123456/avis#pj-9001", None),
            ("pagesjaunes:pj-9002", "Marc D.", date(2026, 2, 2), 2.5,
             "Attente interminable, 1h30 en salle d'attente malgré le rendez-vous.",
             "{site}/pros/05123456/avis#pj-9002", None),
            ("pagesjaunes:pj-9003", "Anonyme", date(2026, 1, 1), 4.0,
             "Bon médecin, secrétariat difficile à joindre.",
             "{site}/pros/05123456/avis#pj-9003", None),
            ("pagesjaunes:pj-9004", "Julien R.", date(2025, 11, 28), 5.0,
             "Diagnostic rapide et juste, merci docteur.",
             "{site}/pros/05123456/avis#pj-9004", None),
            ("pagesjaunes:pj-9005", "Nadia B.", date(2025, 10, 3), 3.0, "Correct sans plus.",
             "{site}/pros/05123456/avis#pj-9005", None),
        ],
    },
    "trustpilot": {
        "aggregate": (3.8, 4),
        "first_page": 2,
        "pages_read": 2,  # page 2's « Page suivante » leaves the host: not followed
        "clicks": 0,
        "reviews": [
            ("trustpilot:65f0a1b2c3d4e5f6a7b8c9d0", "Hélène V.", date(2026, 3, 5), 4.0,
             "Le docteur a bien pris en charge mon fils, accueil agréable.",
             "{site}/reviews/65f0a1b2c3d4e5f6a7b8c9d0", date(2026, 3, 3)),
            ("trustpilot:65f0a1b2c3d4e5f6a7b8c9d1", "Paul M.", date(2026, 2, 20), 1.0,
             "Rendez-vous annulé deux fois sans prévenir.",
             "{site}/reviews/65f0a1b2c3d4e5f6a7b8c9d1", date(2026, 2, 18)),
            ("trustpilot:65f0a1b2c3d4e5f6a7b8c9d2", "Inès K.", date(2025, 12, 1), 5.0,
             "Très bon suivi de grossesse.",
             "{site}/reviews/65f0a1b2c3d4e5f6a7b8c9d2", date(2025, 11, 28)),
            ("trustpilot:65f0a1b2c3d4e5f6a7b8c9d3", "Thomas G.", date(2025, 11, 15), 5.0,
             "Équipe sympathique et efficace.",
             "{site}/reviews/65f0a1b2c3d4e5f6a7b8c9d3", date(2025, 11, 14)),
        ],
    },
    "forum-sante": {
        "aggregate": (None, None),
        "first_page": 2,
        "pages_read": 2,
        "clicks": 0,
        "reviews": [
            ("forum-sante:p1201", "lyonnaise69", date(2026, 3, 12), None,
             "Bonjour, quelqu'un connaît le Dr Martin, généraliste à Lyon 2e ? Je cherche un "
             "médecin traitant.", "{dir}/forum-sante.html#p1201", None),
            ("forum-sante:p1202", "Doc_ou_pas", date(2026, 3, 13), None,
             "quelqu'un connaît le Dr Martin Oui, très bien, elle m'a suivie pendant des "
             "années.", "{dir}/forum-sante.html#p1202", None),
            # « Publié il y a 3 jours »: no date rather than a guessed one
            ("forum-sante:p1240", "grincheux_du_69", None, None,
             "Pas d'accord, consultation expédiée en cinq minutes.",
             "{dir}/forum-sante-2.html#p1240", None),
        ],
    },
    "google-maps": {
        "aggregate": (4.1, 8),
        "first_page": 3,
        "pages_read": 1,
        "clicks": 2,
        "reviews": [
            ("google-maps:ChdDSUhNMG9nS0VJQ0FnSUR4", "Sophie Laurent", None, 5.0,
             "Excellente médecin, très humaine.", None, None),
            ("google-maps:ChdDSUhNMG9nS0VJQ0FnSUR5", "Marc Durand", None, 2.0,
             "Retard d'une heure, aucune excuse.", None, None),
            ("google-maps:ChdDSUhNMG9nS0VJQ0FnSUR6", "Karim B.", None, 4.0,
             "Compétente mais toujours pressée.", None, None),
            ("google-maps:ChdDSUhNMG9nS0VJQ0FnSUQx", "Élodie P.", None, 5.0,
             "Je recommande sans hésiter.", None, None),
            ("google-maps:ChdDSUhNMG9nS0VJQ0FnSUQy", "Jean-Pierre V.", None, 1.0,
             "Secrétariat désagréable.", None, None),
            ("google-maps:ChdDSUhNMG9nS0VJQ0FnSUQz", "Chloé T.", None, 5.0,
             "Toujours disponible pour mes enfants.", None, None),
            ("google-maps:ChdDSUhNMG9nS0VJQ0FnSUQ0", "Luc M.", None, 4.0, "Bon médecin.",
             None, None),
            ("google-maps:ChdDSUhNMG9nS0VJQ0FnSUQ1", "Amina S.", None, 3.0, "Correct.",
             None, None),
        ],
    },
    "facebook": {
        "aggregate": (4.6, 4),
        "first_page": 2,
        "pages_read": 1,
        "clicks": 1,
        "reviews": [
            ("facebook:10159876543210001", "Chantal R.", date(2026, 3, 13), None,
             "Toujours à l'écoute, cabinet bien tenu.",
             "{site}/chantal.r/posts/10159876543210001", None),
            ("facebook:10159876543210002", "Bruno F.", date(2026, 2, 25), None,
             "Impossible d'avoir un rendez-vous avant trois semaines.",
             "{site}/bruno.f/posts/10159876543210002", None),
            ("facebook:10159876543210003", "Martine L.", date(2026, 1, 2), None,
             "Médecin de famille depuis quinze ans, merci.",
             "{site}/martine.l/posts/10159876543210003", None),
            ("facebook:10159876543210004", "Yanis D.", date(2025, 12, 14), None,
             "Très bon accueil.", "{site}/yanis.d/posts/10159876543210004", None),
        ],
    },
    "generic-hreview": {
        "aggregate": (None, None),
        "first_page": 2,
        "pages_read": 1,
        "clicks": 0,
        "reviews": [
            ("generic-hreview:avis-31", "Bernard C.", date(2026, 1, 15), 4.0,
             "Médecin sérieuse, explications claires.", "{site}/avis/31", None),
            ("generic-hreview:avis-32", "Odile F.", date(2025, 12, 2), 3.5,
             "Ponctuelle, mais cabinet peu accessible en fauteuil.", None, None),
        ],
    },
    "demo-avis": {
        "aggregate": (3.5, 2),
        "first_page": 2,
        "pages_read": 1,
        "clicks": 0,
        "reviews": [
            ("demo-avis:d-101", "Lucie M.", date(2026, 2, 10), 5.0,
             "Très bonne prise en charge.", None, date(2026, 2, 3)),
            ("demo-avis:d-102", "Gérard P.", date(2026, 1, 20), 2.0,
             "Consultation trop rapide.", None, None),
        ],
    },
}  # fmt: skip


@pytest.fixture
def platform_pages(review_site):
    """Every test page served under /platform_pages/; returns the folder's URL."""
    for path in PAGES.iterdir():
        review_site.put(
            f"/platform_pages/{path.name}",
            path.read_bytes(),
            content_type=CONTENT_TYPES[path.suffix],
        )
    return review_site.url("/platform_pages")


def _rows(extract):
    return [
        (r.review_id, r.author, r.date, r.rating, r.text, r.permalink, r.experience_date)
        for r in extract.reviews
    ]


def _expected(key: str, *, site: str, folder: str) -> list[tuple]:
    def fill(value):
        return value.format(site=site, dir=folder) if isinstance(value, str) else value

    return [
        (rid, author, day, rating, text, fill(link), experience)
        for rid, author, day, rating, text, link, experience in EXPECTED[key]["reviews"]
    ]


# --------------------------------------------------------------------------- one page per profile


def test_the_profiles_are_loaded_from_their_files():
    assert sorted(PLATFORM_PROFILES) == PROFILE_KEYS
    assert {"google-maps", "pagesjaunes", "trustpilot", "facebook", "forum-sante"} <= set(
        PLATFORM_PROFILES
    )


@pytest.mark.parametrize("key", PROFILE_KEYS)
def test_every_profile_file_has_a_test_page_and_expectations(key):
    assert (PAGES / f"{key}.html").is_file(), f"profil {key} sans page de test"
    assert key in EXPECTED, f"profil {key} sans résultat attendu"
    pagination = PLATFORM_PROFILES[key].pagination
    if pagination is not None:
        assert (PAGES / f"{key}-2.html").is_file(), f"profil paginé {key} sans page 2"


@pytest.mark.parametrize("key", PROFILE_KEYS)
def test_profile_page_yields_its_reviews(key, platform_pages, review_site):
    # given the platform's test page, watched with its platform named
    url = f"{platform_pages}/{key}.html"
    expected = EXPECTED[key]

    # when it is scanned (fetch, render when the platform needs scripts, later pages)
    page, extract = page_scan(url=url, platform=key, allowed_networks=LOOPBACK)

    # then every review comes with its author, date, rating, text and permalink
    assert _rows(extract) == _expected(key, site=review_site.base_url, folder=platform_pages)
    assert (extract.aggregate.rating, extract.aggregate.count) == expected["aggregate"]
    assert (extract.source, extract.platform) == ("fallback", key)
    assert (page.pages_read, page.load_more_clicks) == (expected["pages_read"], expected["clicks"])
    assert page.rendered is PLATFORM_PROFILES[key].requires_javascript


# --------------------------------------------------------------------------- later reviews


@pytest.mark.parametrize("key", ["pagesjaunes", "trustpilot", "forum-sante"])
def test_pagination_brings_the_later_pages_on_the_same_host_only(key, platform_pages, review_site):
    # given the first page alone holds only the first reviews
    url = f"{platform_pages}/{key}.html"
    alone = reviews_extract(html=page_fetch(url=url, allowed_networks=LOOPBACK).html, url=url,
                            platform=key)  # fmt: skip
    first = EXPECTED[key]["first_page"]
    assert len(alone.reviews) == first < len(EXPECTED[key]["reviews"])
    review_site.requests.clear()

    # when the page is scanned
    _page, extract = page_scan(url=url, platform=key, allowed_networks=LOOPBACK)

    # then page 2 was read once, no other page (the previous-page link and an off-host « page
    # suivante » are not followed), and its reviews follow those of page 1
    assert review_site.requests == [f"/platform_pages/{key}.html", f"/platform_pages/{key}-2.html"]
    assert [r.review_id for r in extract.reviews[:first]] == [r.review_id for r in alone.reviews]


def test_pagination_is_bounded_by_the_profile(platform_pages, review_site):
    # given a listing whose every page links to a further one
    for n in range(1, 30):
        review_site.put(
            f"/boucle/{n}.html",
            f'<html><body><div class="forum-thread"><div class="message" id="p{n}">'
            f'<div class="message-contenu">Message {n}</div></div></div>'
            f'<div class="pages"><a class="page-suivante" href="{n + 1}.html">Suivante</a>'
            f"</div></body></html>",
        )

    # when it is scanned as a forum thread
    page, extract = page_scan(
        url=review_site.url("/boucle/1.html"), platform="forum-sante", allowed_networks=LOOPBACK
    )

    # then no more pages than the profile allows are read
    limit = PLATFORM_PROFILES["forum-sante"].pagination.max_pages
    assert page.pages_read == limit == len(review_site.requests)
    assert [r.text for r in extract.reviews] == [f"Message {n}" for n in range(1, limit + 1)]


def test_without_its_profile_a_script_page_shows_only_its_first_reviews(platform_pages):
    # given the Google Maps page rendered with no platform profile (no « Plus d'avis » clicks)
    url = f"{platform_pages}/google-maps.html"
    page = page_render(url=url, allowed_networks=LOOPBACK)

    # then only the first three reviews are there: the later ones need the clicks
    extract = reviews_extract(html=page.html, url=url, platform="google-maps")
    assert page.load_more_clicks == 0
    assert len(extract.reviews) == EXPECTED["google-maps"]["first_page"] == 3


def test_schema_org_markup_stays_the_first_pass_on_a_known_platform(review_site):
    # given a platform page that publishes schema.org reviews
    url = review_site.put("/jsonld", jsonld_page(reviews=SCAN1_REVIEWS, rating="2.7", count=3))

    # when it is read with a platform profile
    extract = reviews_extract(
        html=page_fetch(url=url, allowed_networks=LOOPBACK).html, url=url, platform="trustpilot"
    )

    # then the markup is used, not the profile
    assert extract.source == "json-ld"
    assert len(extract.reviews) == len(SCAN1_REVIEWS)


def test_platforms_are_found_from_their_domains():
    assert platform_for_url(url="https://www.pagesjaunes.fr/pros/05123456").key == "pagesjaunes"
    assert platform_for_url(url="https://fr.trustpilot.com/review/x").key == "trustpilot"
    assert platform_for_url(url="https://www.google.com/maps/place/x").key == "google-maps"
    assert platform_for_url(url="https://m.facebook.com/cabinet/reviews").key == "facebook"
    assert platform_for_url(url="https://forum.doctissimo.fr/sante/x.htm").key == "forum-sante"
    assert platform_for_url(url="https://pagesjaunes.fr.example.com/") is None


# --------------------------------------------------------------------------- broken profile files

VALID = """
key = "essai"
name = "Essai"
domains = ["essai.test"]
review = "li.avis"
[fields]
author = ".auteur"
"""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (VALID + 'couleur = "bleu"\n', "clé(s) inconnue(s) dans [fields] : couleur"),
        (VALID.replace('review = "li.avis"', 'review = "li..avis"'),
         "sélecteur CSS invalide pour review"),
        (VALID.replace('author = ".auteur"', 'author = { css = "p[", attribute = "x" }'),
         "sélecteur CSS invalide pour fields.author"),
        (VALID + '[load_more]\ncss = "button"\nmax_clicks = 500\n',
         "load_more.max_clicks doit être un entier entre 1 et 20"),
        (VALID + "[pagination]\nmax_pages = 3\n", "pagination.next doit être un texte non vide"),
        (VALID.replace('key = "essai"', 'key = "autre"'), "doit être le nom du fichier"),
        (VALID.replace("[fields]", "rating_best = 0\n[fields]"),
         "rating_best doit être un nombre positif"),
        (VALID.replace("[fields]", 'date_formats = ["us"]\n[fields]'), "date_formats"),
        (VALID + "author = ", "TOML illisible"),
        ("nom = 'x'\n" + VALID, "clé(s) inconnue(s) dans le profil : nom"),
    ],
)  # fmt: skip
def test_a_profile_file_with_an_error_is_refused_with_its_name(tmp_path, content, message):
    # given a profile folder with one good file and one broken file
    (tmp_path / "bon.toml").write_text(VALID.replace("essai", "bon"), encoding="utf-8")
    (tmp_path / "essai.toml").write_text(content, encoding="utf-8")

    # when the profiles are loaded, then the broken file is named in the error
    with pytest.raises(ProfileError) as error:
        profiles_load(directory=tmp_path)
    assert str(error.value).startswith("Profil de plateforme essai.toml : ")
    assert message in str(error.value)


def test_a_good_profile_folder_loads(tmp_path):
    (tmp_path / "essai.toml").write_text(VALID, encoding="utf-8")
    profiles = profiles_load(directory=tmp_path)
    assert list(profiles) == ["essai"]
    assert (profiles["essai"].review, profiles["essai"].author.css) == ("li.avis", ".auteur")


# --------------------------------------------------------------------------- markup changed


@pytest.mark.django_db
def test_a_known_platform_whose_markup_changed_is_reported_not_recognised(
    tenant_a, platform_pages, review_site
):
    with tenant_context(tenant_a.insurer):
        profile = watch_profile_save(
            doctor=doctor_with_policy(tag="91a70001"), name_variants=["Dr Claire Martin"],
            practice_name="", city="Lyon", specialty="", keywords=[],
        )  # fmt: skip
        # given one PagesJaunes listing as the profile knows it, and one whose markup changed
        known = watched_page_add(
            profile=profile, url=f"{platform_pages}/pagesjaunes.html", label="PagesJaunes",
            platform="pagesjaunes",
        )  # fmt: skip
        changed_html = (PAGES / "pagesjaunes.html").read_text(encoding="utf-8")
        changed_html = changed_html.replace('class="avis"', 'class="bi-avis-item"')
        changed_url = review_site.put("/pj-nouvelle-maquette.html", changed_html)
        changed = watched_page_add(
            profile=profile, url=changed_url, label="PagesJaunes (nouvelle maquette)",
            platform="pagesjaunes",
        )  # fmt: skip

        # when the real scan runs
        scan = scan_run(scan_id=scan_request(profile=profile, enqueue=False).pk)

        # then the known page's five reviews (both pages of it) are the baseline, and the
        # changed one is reported « page non reconnue », without any alert about it
        assert (scan.status, scan.pages_failed) == (Scan.Status.DONE, 0)
        assert scan.baseline_reviews == 5
        assert known.reviews.count() == 5
        assert changed.reviews.count() == 0
        assert (
            "Page non reconnue : aucun avis lu sur PagesJaunes (nouvelle maquette) — demander "
            "une capture." in scan.notes
        )
        assert "Page non reconnue : aucun avis lu sur PagesJaunes —" not in scan.notes
        assert not scan.alerts.filter(url=changed_url).exists()
