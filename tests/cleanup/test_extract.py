"""Review extraction: schema.org markup in its three syntaxes, CSS fallback, stable ids."""

from __future__ import annotations

from datetime import date

import pytest

from cleanup.extract import (
    AggregateRating,
    date_parse,
    rating_normalise,
    review_hash_id,
    reviews_extract,
)
from cleanup.fetch import page_fetch
from cleanup.platforms import FieldSelector, PlatformProfile
from tests.cleanup.conftest import (
    JS_SHELL_PAGE,
    LATIN1_REVIEWS,
    LOOPBACK,
    MICRODATA_PAGE,
    RDFA_PAGE,
    SCAN1_REVIEWS,
    demo_page,
    jsonld_page,
)


def _rows(extract):
    return [(r.review_id, r.author, r.date, r.rating, r.text, r.source) for r in extract.reviews]


def test_jsonld_reviews_and_aggregate(review_site):
    # given
    url = review_site.put("/jsonld", jsonld_page(reviews=SCAN1_REVIEWS, rating="2.7", count=3))
    page = page_fetch(url=url, allowed_networks=LOOPBACK)
    # when
    extract = reviews_extract(html=page.html, url=page.final_url, platform=None)
    # then
    assert extract.source == "json-ld"
    assert extract.platform is None
    assert extract.aggregate == AggregateRating(rating=2.7, count=3)
    assert extract.needs_javascript is False
    assert _rows(extract) == [
        (
            review_hash_id(
                author="Sophie L.",
                published=date(2024, 3, 2),
                text="Médecin attentif et à l'écoute, je recommande.",
            ),
            "Sophie L.",
            date(2024, 3, 2),
            5.0,
            "Médecin attentif et à l'écoute, je recommande.",
            "json-ld",
        ),
        (
            review_hash_id(
                author="Marc D.",
                published=date(2024, 4, 10),
                text="Attente de deux heures, consultation bâclée.",
            ),
            "Marc D.",
            date(2024, 4, 10),
            1.0,
            "Attente de deux heures, consultation bâclée.",
            "json-ld",
        ),
        (
            review_hash_id(
                author="Julie P.",
                published=date(2024, 5, 20),
                text="Secrétariat injoignable au téléphone.",
            ),
            "Julie P.",
            date(2024, 5, 20),
            2.0,
            "Secrétariat injoignable au téléphone.",
            "json-ld",
        ),
    ]
    assert all(r.id_from_markup is False for r in extract.reviews)


def test_microdata_reviews_on_a_ten_point_scale(review_site):
    # given
    url = review_site.put("/microdata", MICRODATA_PAGE)
    page = page_fetch(url=url, allowed_networks=LOOPBACK)
    # when
    extract = reviews_extract(html=page.html, url=url, platform=None)
    # then: itemid gives the id, ratings are brought to 5
    assert extract.source == "microdata"
    assert extract.aggregate == AggregateRating(rating=3.75, count=2)
    assert _rows(extract) == [
        (
            url + "#avis-101",
            "Nadia R.",
            date(2024, 2, 14),
            4.5,
            "Très bon suivi, explications claires.",
            "microdata",
        ),
        (
            url + "#avis-102",
            "Luc T.",
            date(2024, 3, 1),
            3.0,
            "Correct, mais retard important.",
            "microdata",
        ),
    ]
    assert all(r.id_from_markup for r in extract.reviews)


def test_rdfa_reviews_with_french_dates(review_site):
    # given
    url = review_site.put("/rdfa", RDFA_PAGE)
    page = page_fetch(url=url, allowed_networks=LOOPBACK)
    # when
    extract = reviews_extract(html=page.html, url=url, platform=None)
    # then
    assert extract.source == "rdfa"
    assert extract.aggregate == AggregateRating(rating=4.5, count=2)
    assert sorted(_rows(extract)) == [
        (url + "#r-7", "Hélène V.", date(2024, 1, 8), 5.0, "Disponible et rassurante.", "rdfa"),
        (url + "#r-8", "Omar K.", date(2024, 2, 3), 4.0, "Bon accueil.", "rdfa"),
    ]


def test_page_without_markup_uses_the_platform_profile(review_site):
    # given
    html = demo_page(
        reviews=[
            {"id": "17", "author": "Jean B.", "date": "2024-01-05", "experience": "2023-12-20",
             "rating": "1", "text": "Un vrai charlatan."},
            {"id": "18", "author": "Lea C.", "date": "05/01/2024", "rating": "4,5",
             "text": "Très bien."},
        ],
        rating="2,8",
        count=2,
    )  # fmt: skip
    url = review_site.put("/demo/martin", html)
    page = page_fetch(url=url, allowed_networks=LOOPBACK)
    # when
    extract = reviews_extract(html=page.html, url=url, platform="demo-avis")
    # then
    assert extract.source == "fallback"
    assert extract.platform == "demo-avis"
    assert extract.aggregate == AggregateRating(rating=2.8, count=2)
    assert _rows(extract) == [
        ("demo-avis:17", "Jean B.", date(2024, 1, 5), 1.0, "Un vrai charlatan.", "fallback"),
        ("demo-avis:18", "Lea C.", date(2024, 1, 5), 4.5, "Très bien.", "fallback"),
    ]
    assert [r.experience_date for r in extract.reviews] == [date(2023, 12, 20), None]


def test_latin1_page_without_markup(review_site):
    # given: a legacy platform page in ISO-8859-1
    html = demo_page(reviews=LATIN1_REVIEWS, rating="2,5", count=2, charset="iso-8859-1")
    url = review_site.put("/latin1/avis", html.encode("latin-1"), content_type="text/html")
    page = page_fetch(url=url, allowed_networks=LOOPBACK)
    # when
    extract = reviews_extract(html=page.html, url=url, platform="demo-avis")
    # then
    assert _rows(extract) == [
        ("demo-avis:a1", "Agnès F.", date(2024, 2, 1), 1.0,
         "Très déçue, médecin désagréable et pressé.", "fallback"),
        ("demo-avis:a2", "Rémi G.", date(2024, 2, 3), 4.0, "Ponctuel, cabinet agréable.",
         "fallback"),
    ]  # fmt: skip


def test_platform_is_found_from_the_domain():
    # given: the demo platform's domain, no platform named by the caller
    html = demo_page(reviews=LATIN1_REVIEWS[:1], rating="1", count=1)
    # when
    extract = reviews_extract(html=html, url="https://www.avis-demo.test/dr-x", platform=None)
    # then
    assert extract.platform == "demo-avis"
    assert [r.review_id for r in extract.reviews] == ["demo-avis:a1"]


def test_generic_hreview_microformat_without_platform():
    # given
    html = """<html><body><div class="hreview" id="hr-1"><span class="reviewer">Paul</span>
    <abbr class="dtreviewed" title="2023-11-02">2 nov.</abbr><span class="rating">2</span>
    <p class="description">Peu disponible.</p></div></body></html>"""
    # when
    extract = reviews_extract(html=html, url="https://blog.example/avis", platform=None)
    # then
    assert extract.platform == "generic-hreview"
    assert _rows(extract) == [
        ("generic-hreview:hr-1", "Paul", date(2023, 11, 2), 2.0, "Peu disponible.", "fallback")
    ]


def test_javascript_shell_is_detected():
    # when
    extract = reviews_extract(html=JS_SHELL_PAGE, url="https://spa.example/", platform=None)
    # then
    assert extract.needs_javascript is True
    assert extract.reviews == ()
    assert extract.source == "none"


def test_plain_page_without_reviews_does_not_need_javascript():
    html = (
        "<html><body>"
        + "<p>Le cabinet est ouvert du lundi au vendredi.</p>" * 10
        + "</body></html>"
    )
    extract = reviews_extract(html=html, url="https://cabinet.example/", platform=None)
    assert (extract.needs_javascript, extract.reviews, extract.source) == (False, (), "none")


def test_unknown_platform_is_an_error():
    with pytest.raises(KeyError):
        reviews_extract(html="<html></html>", url="https://x.example/", platform="inconnue")


def test_hash_id_survives_an_edit_after_the_first_words():
    # given
    words = "Un deux trois quatre cinq six sept huit neuf dix onze douze"
    # when
    first = review_hash_id(author="Marc", published=date(2024, 1, 1), text=words + " fin.")
    edited = review_hash_id(author="marc", published=date(2024, 1, 1), text=words + " autre fin.")
    changed = review_hash_id(author="Marc", published=date(2024, 1, 1), text="Zéro " + words)
    # then
    assert first == edited
    assert first != changed
    assert first.startswith("h:") and len(first) == 18


@pytest.mark.parametrize(
    ("value", "best", "expected"),
    [("4", None, 4.0), ("8", "10", 4.0), ("4,5", None, 4.5), ("7/10", None, 3.5),
     ("3", "5", 3.0), ("12", "5", 5.0), ("", None, None), ("sans note", None, None)],
)  # fmt: skip
def test_rating_normalisation(value, best, expected):
    assert rating_normalise(value=value, best=best) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2024-03-01T10:00:00+01:00", date(2024, 3, 1)), ("05/01/2024", date(2024, 1, 5)),
     ("1er janvier 2024", date(2024, 1, 1)), ("le 3 févr. 2024", date(2024, 2, 3)),
     ("17 AOÛT 2023", date(2023, 8, 17)), ("il y a un an", None), ("31/02/2024", None)],
)  # fmt: skip
def test_date_parsing(value, expected):
    assert date_parse(value) == expected


@pytest.mark.parametrize(
    ("value", "formats", "expected"),
    [("03/04/2026", ["iso", "french"], None), ("03/04/2026", ["dmy"], date(2026, 4, 3)),
     ("Publié le 12 mars 2026 à 14:32", ["french"], date(2026, 3, 12)),
     ("12 mars 2026", ["iso"], None), ("il y a 3 jours", [], None),
     ("Publié il y a 2 semaines", ["french", "dmy", "iso"], None)],
)  # fmt: skip
def test_date_parsing_limited_to_the_profile_formats(value, formats, expected):
    # relative dates are never turned into a date, whatever the formats allowed
    assert date_parse(value, formats=formats) == expected


def test_a_permalink_is_made_absolute_and_identifies_a_review_without_id():
    # given a platform whose reviews have a link but no id attribute
    profile = PlatformProfile(
        key="essai", name="Essai", domains=(), review="li.avis",
        author=FieldSelector(".auteur"), text=FieldSelector(".texte"),
        permalink=FieldSelector("a.lien", attribute="href"),
        aggregate_count=FieldSelector(".total"),
    )  # fmt: skip
    html = """<html><body><p class="total">(1 234 avis)</p><ul>
    <li class="avis"><b class="auteur">Anne</b><p class="texte">Bien.</p>
      <a class="lien" href="../avis/77?ref=liste">lien</a></li>
    <li class="avis"><b class="auteur">Bob</b><p class="texte">Bof.</p>
      <a class="lien" href="javascript:void(0)">lien</a></li></ul></body></html>"""

    # when
    extract = reviews_extract(
        html=html, url="https://avis.example/dr/martin", platform="essai",
        profiles={"essai": profile},
    )  # fmt: skip

    # then the link is absolute and is the id; a script link is no permalink (hash id instead)
    first, second = extract.reviews
    assert (first.review_id, first.permalink, first.id_from_markup) == (
        "https://avis.example/avis/77?ref=liste", "https://avis.example/avis/77?ref=liste", True,
    )  # fmt: skip
    assert (second.permalink, second.id_from_markup) == (None, False)
    assert second.review_id == review_hash_id(author="Bob", published=None, text="Bof.")
    assert extract.aggregate == AggregateRating(rating=None, count=1234)


def test_broken_jsonld_does_not_hide_the_microdata():
    # given: a truncated JSON-LD block before valid microdata
    html = MICRODATA_PAGE.replace(
        "<head>", '<head><script type=\'application/ld+json\'>{"@type": "Physician",</script>'
    )
    # when
    extract = reviews_extract(html=html, url="https://avis.example/p", platform=None)
    # then
    assert extract.source == "microdata"
    assert [r.review_id for r in extract.reviews] == [
        "https://avis.example/p#avis-101",
        "https://avis.example/p#avis-102",
    ]


def test_xml_declaration_in_a_decoded_page_is_tolerated():
    html = '<?xml version="1.0" encoding="iso-8859-1"?>' + MICRODATA_PAGE
    extract = reviews_extract(html=html, url="https://avis.example/p", platform=None)
    assert len(extract.reviews) == 2
