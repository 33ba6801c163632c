"""What changed between two scans: reviews added, edited, removed; ratings; search ranks."""

from __future__ import annotations

from datetime import UTC, datetime

from cleanup.changes import (
    RankMove,
    RatingPoint,
    rating_history,
    reviews_diff,
    search_results_diff,
    url_key,
)
from cleanup.extract import AggregateRating, reviews_extract
from cleanup.render import page_scan
from cleanup.search_providers import GoogleCse, SearchResult
from tests.cleanup.conftest import (
    GOOGLE_CX,
    GOOGLE_KEY,
    LOOPBACK,
    SCAN1_REVIEWS,
    SCAN2_REVIEWS,
    demo_page,
    jsonld_page,
)


def _scan(site, path):
    return page_scan(url=site.url(path), platform=None, allowed_networks=LOOPBACK, render=False)[1]


def test_review_added_edited_and_removed_between_two_scans(review_site):
    # given: the platform page as seen by the first scan
    review_site.put("/dr-martin", jsonld_page(reviews=SCAN1_REVIEWS, rating="2.7", count=3))
    first = _scan(review_site, "/dr-martin")
    # and the platform changes: Marc's review is edited, Julie's removed, Karim's added
    review_site.put("/dr-martin", jsonld_page(reviews=SCAN2_REVIEWS, rating="2.3", count=3))
    second = _scan(review_site, "/dr-martin")
    # when
    changes = reviews_diff(before=first, after=second)
    # then
    assert [(r.author, r.text) for r in changes.new] == [
        ("Karim B.", "Un vrai charlatan, il m’a charcuté et mérite d'être radié.")
    ]
    assert [(r.author, r.text) for r in changes.removed] == [
        ("Julie P.", "Secrétariat injoignable au téléphone.")
    ]
    assert [(e.before.text, e.after.text, e.fields) for e in changes.edited] == [
        (
            "Attente de deux heures, consultation bâclée.",
            "Attente de deux heures, consultation bâclée. Ce médecin est un escroc.",
            ("text",),
        )
    ]
    assert (changes.rating_before, changes.rating_after, changes.rating_delta) == (2.7, 2.3, -0.4)
    assert (changes.count_before, changes.count_after, changes.count_delta) == (3, 3, 0)
    assert changes.removed_may_be_pagination is False
    assert changes.has_changes is True


def test_edit_of_a_review_with_a_markup_id_is_matched_by_id(review_site):
    # given: same ids, the rating and text of review 2 change
    base = [
        {"id": "1", "author": "Anna", "date": "2024-01-01", "rating": "5", "text": "Parfait."},
        {"id": "2", "author": "Bob", "date": "2024-01-02", "rating": "3", "text": "Moyen."},
    ]
    review_site.put("/demo", demo_page(reviews=base, rating="4", count=2))
    first = reviews_extract(html=demo_page(reviews=base, rating="4", count=2),
                            url=review_site.url("/demo"), platform="demo-avis")  # fmt: skip
    changed = [base[0], {**base[1], "rating": "1", "text": "Très mauvais finalement."}]
    second = reviews_extract(html=demo_page(reviews=changed, rating="3", count=2),
                             url=review_site.url("/demo"), platform="demo-avis")  # fmt: skip
    # when
    changes = reviews_diff(before=first, after=second)
    # then
    assert changes.new == ()
    assert changes.removed == ()
    assert [
        (e.after.review_id, e.fields, e.before.rating, e.after.rating) for e in changes.edited
    ] == [("demo-avis:2", ("text", "rating"), 3.0, 1.0)]
    assert changes.rating_delta == -1.0


def test_first_scan_reports_every_review_as_new(review_site):
    review_site.put("/first", jsonld_page(reviews=SCAN1_REVIEWS, rating="2.7", count=3))
    changes = reviews_diff(before=None, after=_scan(review_site, "/first"))
    assert [r.author for r in changes.new] == ["Sophie L.", "Marc D.", "Julie P."]
    assert (changes.edited, changes.removed, changes.rating_before) == ((), (), None)


def test_review_missing_from_a_paginated_page_is_marked_as_possibly_paginated():
    # given: the page says 40 reviews but shows 1; the other one scrolled to page 2
    a = {"id": "1", "author": "A", "date": "2024-01-01", "rating": "5", "text": "Bien."}
    b = {"id": "2", "author": "B", "date": "2024-01-02", "rating": "2", "text": "Bof."}
    before = reviews_extract(html=demo_page(reviews=[a, b], rating="3.5", count=39),
                             url="https://avis-demo.test/x", platform="demo-avis")  # fmt: skip
    after = reviews_extract(html=demo_page(reviews=[a], rating="3.5", count=40),
                            url="https://avis-demo.test/x", platform="demo-avis")  # fmt: skip
    # when
    changes = reviews_diff(before=before, after=after)
    # then
    assert [r.review_id for r in changes.removed] == ["demo-avis:2"]
    assert changes.removed_may_be_pagination is True


def test_no_change_between_identical_scans(review_site):
    review_site.put("/same", jsonld_page(reviews=SCAN1_REVIEWS, rating="2.7", count=3))
    first, second = _scan(review_site, "/same"), _scan(review_site, "/same")
    changes = reviews_diff(before=first, after=second)
    assert (changes.new, changes.edited, changes.removed, changes.has_changes) == (
        (),
        (),
        (),
        False,
    )


def test_search_results_that_move_between_two_scans(search_api):
    # given: first scan of the doctor's name
    query = '"Claire Martin"'
    search_api.results[query] = [
        ("https://annuaire.example/claire-martin", "Annuaire", ""),
        ("https://avis.example/dr-martin", "Avis Dr Martin", ""),
        ("https://blog.example/article", "Article", ""),
        ("https://ancien.example/page", "Ancien", ""),
        ("https://ordre.example/annuaire", "Annuaire ordinal", ""),
    ]
    provider = GoogleCse(api_key=GOOGLE_KEY, cx=GOOGLE_CX, base_url=search_api.base_url)
    first = provider.search(query, num=10)
    # and a month later: the review site rose, a forum thread appeared, a page dropped out
    search_api.results[query] = [
        ("https://avis.example/dr-martin/", "Avis Dr Martin", ""),
        ("https://forum.example/sujet-123", "Forum : Dr Martin", "Méfiez-vous"),
        ("https://annuaire.example/claire-martin", "Annuaire", ""),
        ("https://blog.example/article", "Article", ""),
        ("https://ordre.example/annuaire", "Annuaire ordinal", ""),
    ]
    second = provider.search(query, num=10)
    # when
    changes = search_results_diff(before=first, after=second)
    # then
    assert changes.new == (
        SearchResult(2, "https://forum.example/sujet-123", "Forum : Dr Martin", "Méfiez-vous"),
    )
    assert changes.dropped == (SearchResult(4, "https://ancien.example/page", "Ancien", ""),)
    assert changes.moved == (
        RankMove("https://avis.example/dr-martin/", before_rank=2, after_rank=1),
        RankMove("https://annuaire.example/claire-martin", before_rank=1, after_rank=3),
        RankMove("https://blog.example/article", before_rank=3, after_rank=4),
    )
    assert [m.delta for m in changes.moved] == [1, -2, -1]
    assert changes.unchanged == 1


def test_first_search_scan_reports_every_result_as_new():
    after = [
        SearchResult(1, "https://a.example/", "A", ""),
        SearchResult(2, "https://b.example/", "B", ""),
    ]
    changes = search_results_diff(before=None, after=after)
    assert (len(changes.new), changes.dropped, changes.moved, changes.unchanged) == (2, (), (), 0)


def test_url_key_ignores_case_port_fragment_and_trailing_slash():
    assert url_key("HTTPS://Avis.Example:443/Dr-Martin/#avis") == "https://avis.example/Dr-Martin"
    assert url_key("http://avis.example:8080/?id=3") == "http://avis.example:8080/?id=3"


def test_rating_history_orders_scans_and_computes_deltas():
    t1 = datetime(2024, 1, 1, tzinfo=UTC)
    t2 = datetime(2024, 2, 1, tzinfo=UTC)
    t3 = datetime(2024, 3, 1, tzinfo=UTC)
    history = rating_history(
        points=[
            (t3, AggregateRating(3.1, 14)),
            (t1, AggregateRating(4.2, 10)),
            (t2, AggregateRating(None, 12)),
        ]
    )
    assert history == [
        RatingPoint(t1, 4.2, 10, None, None),
        RatingPoint(t2, None, 12, None, 2),
        RatingPoint(t3, 3.1, 14, None, 2),
    ]
