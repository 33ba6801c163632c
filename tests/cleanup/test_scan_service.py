"""A scan reads the watched pages and the results on the doctor's name, says exactly what
changed since the previous scan, scores it, raises alerts and e-mails the digest.

Against the fake review platform and the fake Google Custom Search API of
``tests/cleanup/conftest.py`` (real HTTP servers on 127.0.0.1)."""

from __future__ import annotations

import pytest
from django.core import mail
from django_tenants.utils import tenant_context
from wagtail.models import Site

from cleanup.models import Alert, Mention, RatingPoint, Review, Scan, SearchSettings
from cleanup.selectors import rank_history
from cleanup.services.scans import scan_request, scan_run
from cleanup.services.watch import watch_profile_save, watched_page_add
from tests.cleanup.conftest import (
    BRAVE_TOKEN,
    JS_APP,
    JS_SHELL_PAGE,
    LATIN1_REVIEWS,
    MICRODATA_PAGE,
    SCAN1_REVIEWS,
    SCAN2_REVIEWS,
    demo_page,
    jsonld_page,
)
from tests.cleanup.factories import doctor_with_policy

pytestmark = pytest.mark.django_db

QUERY = '"Dr Claire Martin"'


def _profile(doctor):
    return watch_profile_save(
        doctor=doctor, name_variants=["Dr Claire Martin"], practice_name="", city="Lyon",
        specialty="Médecine générale", keywords=[],
    )  # fmt: skip


def _scan(profile):
    return scan_run(scan_id=scan_request(profile=profile, enqueue=False).pk)


def _search_on(api):
    settings = SearchSettings.for_site(Site.objects.get(is_default_site=True))
    settings.provider, settings.api_key = "brave", BRAVE_TOKEN
    settings.base_url, settings.results_per_query = api.base_url, 10
    settings.save()


def _alerts(scan):
    return [
        (a.kind, a.review.author if a.review else a.url, a.rating, a.negativity, a.band,
         [(f["category"], f["term"]) for f in a.flags])
        for a in scan.alerts.order_by("pk")
    ]  # fmt: skip


def test_jsonld_page_review_added_edited_and_removed(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        # given a doctor watching one platform page publishing JSON-LD
        profile = _profile(doctor_with_policy(tag="5ca0a001"))
        url = review_site.put(
            "/dr-martin", jsonld_page(reviews=SCAN1_REVIEWS, rating="2.7", count=3)
        )
        page = watched_page_add(profile=profile, url=url, label="Avis Santé")

        # when the first scan runs
        first = _scan(profile)

        # then the reviews are recorded as a baseline: one summary listing the negative ones
        assert (first.status, first.progress, first.pages_total, first.pages_failed) == (
            Scan.Status.DONE, 100, 1, 0,
        )  # fmt: skip
        assert (first.new_reviews, first.edited_reviews, first.removed_reviews) == (0, 0, 0)
        assert first.baseline_reviews == 3
        assert _alerts(first) == [("baseline", url, None, 1.0, "", [])]
        baseline = first.alerts.get()
        assert baseline.text == (
            "Relevé initial : 3 avis enregistrés, dont 2 négatifs ou signalés à examiner."
        )
        assert [(e["author"], e["rating"]) for e in baseline.detail["examine"]] == [
            ("Marc D.", 1.0), ("Julie P.", 2.0),
        ]  # fmt: skip
        assert Review.objects.filter(page=page, removed_at__isnull=True).count() == 3

        # when the platform changes (Marc edits, Karim posts, Julie's review goes) and we rescan
        review_site.put("/dr-martin", jsonld_page(reviews=SCAN2_REVIEWS, rating="2.3", count=3))
        mail.outbox.clear()
        second = _scan(profile)

        # then exactly those three changes are detected, with the flagged passages
        assert (second.new_reviews, second.edited_reviews, second.removed_reviews) == (1, 1, 1)
        assert _alerts(second) == [
            ("new_review", "Karim B.", 1.0, 1.0, "very_negative",
             [("INJURE", "charlatan"), ("DIFFAMATION", "charcuté"), ("DIFFAMATION", "radié")]),
            ("edited_review", "Marc D.", 1.0, 1.0, "very_negative", [("DIFFAMATION", "escroc")]),
            ("removed_review", "Julie P.", 2.0, None, "", []),
        ]  # fmt: skip
        edited = second.alerts.get(kind="edited_review")
        assert edited.detail == {
            "fields": ["text"], "before": {"text": "Attente de deux heures, consultation bâclée."},
            "became_flagged": True,
        }  # fmt: skip
        flag = edited.flags[0]
        assert (flag["passage"], flag["start"], flag["end"]) == (
            "Ce médecin est un escroc.", 63, 69,
        )  # fmt: skip
        marc = Review.objects.get(page=page, author="Marc D.")
        assert marc.text == "Attente de deux heures, consultation bâclée. Ce médecin est un escroc."
        assert [e["fields"] for e in marc.edits] == [["text"]]
        julie = Review.objects.get(page=page, author="Julie P.")
        assert julie.removed_at is not None and julie.removed_at <= second.finished_at
        assert Review.objects.filter(page=page, removed_at__isnull=True).count() == 3
        assert list(
            RatingPoint.objects.filter(page=page).order_by("at").values_list("rating", "count")
        ) == [(2.7, 3), (2.3, 3)]

        # and the digest says what changed, most worrying first
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.subject == "Veille e-réputation : 3 changements"
        assert message.to == [profile.doctor.user.email]
        assert (
            "nouveaux avis : 1 ; avis modifiés : 1 ; avis disparus : 1 ; nouveaux résultats : 0"
            in message.body
        )
        lines = [line for line in message.body.splitlines() if line.startswith("* ")]
        assert lines == [
            "* Nouvel avis — Karim B. sur Avis Santé — note 1,0/5",
            "* Avis modifié — Marc D. sur Avis Santé — note 1,0/5",
            "* Avis disparu — Julie P. sur Avis Santé — note 2,0/5",
        ]
        assert "  ! Injure possible : « charlatan »" in message.body
        assert "http://tenant-a.localhost/veille/" in message.body


def test_microdata_page_and_page_without_markup(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        profile = _profile(doctor_with_policy(tag="5ca0a002"))
        watched_page_add(profile=profile, url=review_site.put("/bernard", MICRODATA_PAGE))
        demo = review_site.put("/avis/42", demo_page(reviews=LATIN1_REVIEWS, rating="2.5", count=2))
        watched_page_add(profile=profile, url=demo, platform="demo-avis")

        scan = _scan(profile)

        assert (scan.status, scan.baseline_reviews, scan.pages_failed) == (Scan.Status.DONE, 4, 0)
        assert sorted(
            Review.objects.filter(page__profile=profile).values_list("review_id", "rating")
        ) == [
            ("demo-avis:a1", 1.0),
            ("demo-avis:a2", 4.0),
            (review_site.url("/bernard#avis-101"), 4.5),
            (review_site.url("/bernard#avis-102"), 3.0),
        ]
        assert sorted(
            RatingPoint.objects.filter(page__profile=profile).values_list("rating", "count")
        ) == [(2.5, 2), (3.75, 2)]
        assert [s.source for s in scan.snapshots.order_by("page__pk")] == ["microdata", "fallback"]


def test_search_results_moving_rank_between_scans(tenant_a, search_api):
    with tenant_context(tenant_a.insurer):
        _search_on(search_api)
        profile = _profile(doctor_with_policy(tag="5ca0a003"))
        listing = "https://annuaire.example/dr-claire-martin"
        blog = "https://blog.example/claire-martin-escroc"
        press = "https://presse.example/lyon-sante"
        search_api.results[QUERY] = [
            (listing, "Dr Claire Martin - Médecin généraliste à Lyon", "Horaires et accès"),
            (blog, "Dr Claire Martin", "Cette femme est une escroc, fuyez."),
            (press, "Santé à Lyon", "Les médecins du 3e arrondissement"),
        ]

        # when the first scan runs: a baseline, only the flagged result is worth an alert
        first = _scan(profile)
        assert first.new_results == 1
        assert _alerts(first) == [
            ("new_result", blog, None, None, "unrated", [("DIFFAMATION", "escroc")])
        ]

        # when the blog rises, the press article drops out and a new page appears
        news = "https://cabinet.example/ouverture"
        search_api.results[QUERY] = [
            (blog, "Dr Claire Martin", "Cette femme est une escroc, fuyez."),
            (listing, "Dr Claire Martin - Médecin généraliste à Lyon", "Horaires et accès"),
            (news, "Ouverture du cabinet du Dr Claire Martin", "Nouveaux horaires"),
        ]
        second = _scan(profile)

        # then the new result and the flagged result moving up are reported, nothing else
        assert second.new_results == 1
        assert _alerts(second) == [
            ("new_result", news, None, None, "unrated", []),
            ("result_up", blog, None, None, "unrated", [("DIFFAMATION", "escroc")]),
        ]
        assert second.alerts.get(kind="result_up").detail == {
            "query": QUERY, "before_rank": 2, "after_rank": 1,
        }  # fmt: skip
        assert list(
            Mention.objects.filter(profile=profile)
            .order_by("url")
            .values_list("url", "best_rank", "last_rank", "flagged")
        ) == [
            (listing, 1, 2, False),
            (blog, 1, 1, True),
            (news, 3, 3, False),
            (press, 3, 3, False),
        ]
        # and the rank tracking shows the flagged result's rank at each scan (positive content
        # is meant to push it down)
        [history] = rank_history(profile=profile)
        assert [s.pk for s in history["scans"]] == [first.pk, second.pk]
        assert [(row["mention"].url, row["ranks"]) for row in history["rows"]] == [(blog, [2, 1])]
        request = search_api.requests[-1]
        assert (request["path"], request["params"]["q"], request["params"]["count"]) == (
            "/res/v1/web/search", QUERY, "10",
        )  # fmt: skip


def test_a_page_that_fails_is_reported_and_the_others_still_scanned(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        profile = _profile(doctor_with_policy(tag="5ca0a004"))
        watched_page_add(profile=profile, url=review_site.url("/disparue"))
        watched_page_add(profile=profile, url=review_site.put("/bernard", MICRODATA_PAGE))

        scan = _scan(profile)

        assert (scan.status, scan.pages_failed, scan.baseline_reviews) == (Scan.Status.DONE, 1, 2)
        assert scan.error == f"{review_site.url('/disparue')} : Le site a répondu HTTP 404"
        assert scan.notes == "Recherche sur le nom non configurée par l'assureur."
        assert Alert.objects.filter(profile=profile).count() == 1  # the page's baseline


def test_rerunning_a_finished_scan_changes_nothing(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        profile = _profile(doctor_with_policy(tag="5ca0a005"))
        watched_page_add(profile=profile, url=review_site.put("/bernard", MICRODATA_PAGE))
        scan = _scan(profile)
        mail.outbox.clear()

        again = scan_run(scan_id=scan.pk)

        assert (again.pk, again.alerts_count) == (scan.pk, 1)
        assert Alert.objects.filter(profile=profile).count() == 1
        assert mail.outbox == []


def test_a_javascript_page_is_read_through_the_browser(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        profile = _profile(doctor_with_policy(tag="5ca0a006"))
        review_site.put("/app.js", JS_APP, content_type="application/javascript")
        url = review_site.put("/spa", JS_SHELL_PAGE)
        watched_page_add(profile=profile, url=url, platform="demo-avis", needs_js=True)

        scan = _scan(profile)

        assert (scan.status, scan.baseline_reviews) == (Scan.Status.DONE, 1)
        assert scan.snapshots.get().rendered is True
        review = Review.objects.get(page__profile=profile)
        assert (review.review_id, review.author, review.rating, review.text) == (
            "demo-avis:js-1", "Zoé M.", 2.0, "Rendez-vous annulé sans prévenir.",
        )  # fmt: skip
