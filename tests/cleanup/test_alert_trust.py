"""Alerts people trust: the first read of a page is a baseline (one summary, not one alert per
existing review), an edit is scored on its new text, a page that yields no review is never
passed over, alerts come most serious first, and each alert offers the actions that fit it.

Against the fake review platform of ``tests/cleanup/conftest.py`` (a real HTTP server on
127.0.0.1 serving schema.org JSON-LD pages)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from cleanup import selectors
from cleanup.models import Alert, Review, Scan
from cleanup.services.scans import scan_request, scan_run
from cleanup.services.watch import watch_profile_save, watched_page_add
from tests.cleanup.conftest import jsonld_page
from tests.cleanup.factories import doctor_with_policy

pytestmark = pytest.mark.django_db

FAIR = "Médecin compétent mais pressé."
LAWFUL = "Attente de deux heures, consultation bâclée."
ILLICIT = "Un vrai charlatan, il m’a charcuté et mérite d'être radié."


def _review(n: int, rating: str = "5", text: str = "", author: str = "") -> dict[str, str]:
    return {
        "author": author or f"Patient {n}",
        "date": f"2024-03-{n:02d}",
        "rating": rating,
        "text": text or f"Consultation numéro {n}, bon accueil.",
    }


TEN = [
    *[_review(n) for n in range(1, 9)],
    _review(9, "1", LAWFUL, "Marc D."),
    _review(10, "1", ILLICIT, "Karim B."),
]


def _profile(doctor):
    return watch_profile_save(
        doctor=doctor, name_variants=["Dr Claire Martin"], practice_name="", city="Lyon",
        specialty="", keywords=[],
    )  # fmt: skip


def _scan(profile) -> Scan:
    return scan_run(scan_id=scan_request(profile=profile, enqueue=False).pk)


def _client(tenant, doctor) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    client.force_login(doctor.user)
    return client


def _card(html: str, alert_id: int) -> str:
    match = re.search(rf'<article [^>]*id="alerte-{alert_id}".*?</article>', html, re.S)
    assert match, f"alerte {alert_id} absente du tableau de bord"
    return match.group(0)


def test_first_scan_is_one_baseline_then_changes_alert(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="a1e40001")
        profile = _profile(doctor)
        url = review_site.put("/trust-1", jsonld_page(reviews=TEN, rating="4.2", count=10))
        page = watched_page_add(profile=profile, url=url, label="Avis Santé")

        # when the page is read for the first time
        mail.outbox.clear()
        first = _scan(profile)

        # then its reviews are recorded as the baseline, summed up in ONE alert that lists the
        # two reviews worth examining (flagged first)
        assert (first.new_reviews, first.baseline_reviews, first.alerts_count) == (0, 10, 1)
        assert Review.objects.filter(page=page).count() == 10
        [baseline] = Alert.objects.filter(profile=profile)
        assert baseline.kind == "baseline"
        assert baseline.text == (
            "Relevé initial : 10 avis enregistrés, dont 2 négatifs ou signalés à examiner."
        )
        assert [(e["author"], e["flags"]) for e in baseline.detail["examine"]] == [
            ("Karim B.", ["Injure possible", "Accusation d'un fait précis (diffamation possible)"]),
            ("Marc D.", []),
        ]
        assert baseline.severity == 4
        [message] = mail.outbox
        assert message.subject == "Veille e-réputation : 1 changement"
        assert "Relevé initial : 10 avis enregistrés, dont 2" in message.body
        assert f"  - Karim B. (note 1,0/5) : « {ILLICIT} » {url}" in message.body
        html = _client(tenant_a, doctor).get("/veille/").content.decode()
        card = _card(html, baseline.pk)
        assert "Relevé initial : 10 avis enregistrés" in card
        assert card.count("Traiter cet avis") == 2 and "Nouvel avis" not in html
        assert "Relevé initial : 10 avis enregistrés." in html  # the scan summary

        # when one review is added, then one « Nouvel avis » alert
        review_site.put(
            "/trust-1",
            jsonld_page(reviews=[*TEN, _review(11, "4", "Ponctuel.")], rating="4.2", count=11),
        )
        second = _scan(profile)
        assert (second.new_reviews, second.edited_reviews, second.removed_reviews) == (1, 0, 0)
        assert [(a.kind, a.review.author) for a in second.alerts.all()] == [
            ("new_review", "Patient 11")
        ]

        # when a 5-star « Je recommande » is edited into « Je ne recommande plus », same stars
        edited = [
            *TEN[:2],
            _review(3, "5", "Je ne recommande plus ce médecin.", "Patient 3"),
            *TEN[3:],
            _review(11, "4", "Ponctuel."),
        ]
        review_site.put("/trust-1", jsonld_page(reviews=edited, rating="4.2", count=11))
        third = _scan(profile)

        # then the edit is scored on its new text: negative, and the alert says so
        [alert] = third.alerts.all()
        assert (alert.kind, alert.rating, alert.band, alert.negative) == (
            "edited_review", 5.0, "negative", True,
        )  # fmt: skip
        assert alert.detail["became_negative"] is True
        html = _client(tenant_a, doctor).get("/veille/").content.decode()
        assert "La modification rend cet avis négatif" in _card(html, alert.pk)


def test_baseline_review_can_be_taken_up_once(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="a1e40002")
        profile = _profile(doctor)
        watched_page_add(
            profile=profile,
            url=review_site.put("/trust-2", jsonld_page(reviews=TEN, rating="4", count=10)),
        )
        [baseline] = _scan(profile).alerts.all()
        karim = Review.objects.get(page__profile=profile, author="Karim B.")
        client = _client(tenant_a, doctor)

    path = f"/veille/alertes/{baseline.pk}/avis/{karim.pk}/examiner/"
    client.post(path)
    client.post(path)

    with tenant_context(tenant_a.insurer):
        taken = Alert.objects.filter(profile=profile, kind="existing_review")
        assert [(a.review_id, [f["term"] for f in a.flags]) for a in taken] == [
            (karim.pk, ["charlatan", "charcuté", "radié"])
        ]
        assert selectors.alert_actions(alert=taken[0]) == ["preuve", "sinistre", "suppression"]


@override_settings(EGIDE_CAPTURE_ALLOW=["127.0.0.0/8"])
def test_a_page_without_reviews_is_never_silent(tenant_a, review_site):
    from evidence.models import Capture

    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="a1e40003")
        profile = _profile(doctor)
        bare = review_site.put(
            "/trust-3-bare", "<!doctype html><html><body><p>Dr Martin</p></body></html>"
        )
        unknown = watched_page_add(profile=profile, url=bare, label="Annuaire inconnu")
        rich = review_site.put("/trust-3", jsonld_page(reviews=TEN[:3], rating="5", count=3))
        known = watched_page_add(profile=profile, url=rich, label="Avis Santé")

        # when a page gives no review at all
        first = _scan(profile)

        # then the scan says so and the dashboard offers a capture of it
        assert "Page non reconnue : aucun avis lu sur Annuaire inconnu" in first.notes
        client = _client(tenant_a, doctor)
        html = client.get("/veille/").content.decode()
        block = html[html.index('id="pages-illisibles"') :]
        assert "Page non reconnue : aucun avis lu — demander une capture" in block
        assert f'action="/veille/pages/{unknown.pk}/capture/"' in block
        assert f'/veille/pages/{known.pk}/capture/"' not in html
        assert "Page non reconnue : aucun avis lu sur Annuaire inconnu" in html  # scan summary

    response = client.post(f"/veille/pages/{unknown.pk}/capture/")
    again = client.post(f"/veille/pages/{unknown.pk}/capture/")  # a second click, still queued

    assert (response.status_code, again.status_code) == (302, 302)
    with tenant_context(tenant_a.insurer):
        assert list(Capture.objects.filter(url=bare).values_list("requested_by", flat=True)) == [
            doctor.user.pk
        ]
        # when the page that had reviews shows none, then one alert, no « Avis disparu »
        review_site.put("/trust-3", "<!doctype html><html><body>Maintenance</body></html>")
        second = _scan(profile)
        assert [(a.kind, a.url) for a in second.alerts.all()] == [("page_empty", rich)]
        assert second.removed_reviews == 0
        assert Review.objects.filter(page=known, removed_at__isnull=True).count() == 3
        assert selectors.alert_actions(alert=second.alerts.get()) == ["preuve"]
        # and a third empty read does not repeat the alert
        assert list(_scan(profile).alerts.all()) == []
        # when the reviews come back, the diff is against the last read that had them
        review_site.put("/trust-3", jsonld_page(reviews=TEN[:4], rating="5", count=4))
        back = _scan(profile)
        assert (back.new_reviews, back.removed_reviews, back.baseline_reviews) == (1, 0, 0)


def _alert(profile, scan, *, kind="new_review", negative=False, flags=(), minutes=0, title=""):
    alert = Alert.objects.create(
        profile=profile, scan=scan, kind=kind, url="http://127.0.0.1:9/avis",
        title=title, text=title, band="", negative=negative, flags=list(flags),
    )  # fmt: skip
    Alert.objects.filter(pk=alert.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes)
    )
    return alert


def test_alerts_are_ordered_by_severity_then_date(tenant_a, tenant_b):
    flag = {"category": "INJURE", "label": "Injure possible", "start": 0, "end": 3}
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="a1e40004")
        profile = _profile(doctor)
        scan = Scan.objects.create(profile=profile)
        positive_new = _alert(profile, scan, minutes=1, title="positif récent")
        illicit_old = _alert(profile, scan, flags=[flag], minutes=60, title="illicite ancien")
        removed = _alert(profile, scan, kind="removed_review", minutes=5, title="disparu")
        negative = _alert(profile, scan, negative=True, minutes=30, title="négatif")
        illicit_new = _alert(profile, scan, flags=[flag], minutes=2, title="illicite récent")

        expected = [illicit_new, illicit_old, negative, removed, positive_new]
        assert list(selectors.alerts_for_doctor(doctor=doctor)) == expected
        html = _client(tenant_a, doctor).get("/veille/").content.decode()
        assert [int(i) for i in re.findall(r'id="alerte-(\d+)"', html)] == [a.pk for a in expected]

    with tenant_context(tenant_b.insurer):
        assert list(selectors.alerts_for_doctor(doctor=doctor, include_dismissed=True)) == []


def test_actions_fit_what_the_review_is_each_once(tenant_a, review_site):
    from cover.claims.models import Claim

    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="a1e40005")
        profile = _profile(doctor)
        url = review_site.put("/trust-5", jsonld_page(reviews=TEN[:1], rating="5", count=1))
        watched_page_add(profile=profile, url=url)
        _scan(profile)
        reviews = [
            *TEN[:1],
            _review(20, "3", FAIR, "Anne F."),
            _review(21, "1", LAWFUL, "Marc D."),
            _review(22, "1", ILLICIT, "Karim B."),
        ]
        review_site.put("/trust-5", jsonld_page(reviews=reviews, rating="3", count=4))
        scan = _scan(profile)
        by_author = {a.review.author: a for a in scan.alerts.all()}
        fair, lawful, illicit = by_author["Anne F."], by_author["Marc D."], by_author["Karim B."]
        client = _client(tenant_a, doctor)

    html = client.get("/veille/").content.decode()

    fair_card, lawful_card, illicit_card = (_card(html, a.pk) for a in (fair, lawful, illicit))
    for card in (fair_card, lawful_card):
        assert "Demander la suppression" not in card and "Ouvrir un sinistre" not in card
        assert "Capturer comme preuve" not in card
        assert card.count("Rédiger une réponse") == 1
    assert "Rédiger une réponse" not in illicit_card
    for label in ("Capturer comme preuve", "Ouvrir un sinistre", "Demander la suppression"):
        assert illicit_card.count(label) == 1

    # a claim forced on the fair review is refused and nothing is opened
    refused = client.post(f"/veille/alertes/{fair.pk}/sinistre/", follow=True)
    assert "pas proposée pour cette alerte" in refused.content.decode()
    with tenant_context(tenant_a.insurer):
        fair.refresh_from_db()
        assert (fair.claim_ref, fair.evidence_ref) == ("", "")
        assert not Claim.objects.filter(doctor=doctor).exists()


def test_page_capture_and_baseline_take_up_refuse_other_doctors(tenant_a, tenant_b, review_site):
    from evidence.models import Capture

    with tenant_context(tenant_a.insurer):
        owner = doctor_with_policy(tag="a1e40006")
        profile = _profile(owner)
        bare = review_site.put("/trust-6", "<!doctype html><html><body>Rien</body></html>")
        page = watched_page_add(profile=profile, url=bare)
        rich = review_site.put("/trust-6b", jsonld_page(reviews=TEN, rating="4", count=10))
        watched_page_add(profile=profile, url=rich)
        baseline = _scan(profile).alerts.get(kind="baseline")
        karim = Review.objects.get(page__profile=profile, author="Karim B.")
        other = doctor_with_policy(tag="a1e40007")
        intruder = _client(tenant_a, other)
        assert selectors.pages_without_reviews(profile=profile)[0].page == page

    captured = intruder.post(f"/veille/pages/{page.pk}/capture/")
    taken = intruder.post(f"/veille/alertes/{baseline.pk}/avis/{karim.pk}/examiner/")

    assert (captured.status_code, taken.status_code) == (404, 404)
    with tenant_context(tenant_a.insurer):
        assert not Capture.objects.filter(url=bare).exists()
        assert not Alert.objects.filter(kind="existing_review", review=karim).exists()
    with tenant_context(tenant_b.insurer):
        assert selectors.pages_without_reviews(profile=profile) == []
        assert list(selectors.watched_pages_for_doctor(doctor=owner)) == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"review_id": 1}, ["reponse"]),
        ({"review_id": 1, "negative": True}, ["reponse"]),
        ({"review_id": 1, "flags": [{"label": "x"}]}, ["preuve", "sinistre", "suppression"]),
        ({"review_id": 1, "flags": [{"label": "x"}], "claim_ref": "S-1", "evidence_ref": "7"},
         ["suppression"]),
        ({"review_id": 1, "kind": "removed_review"}, []),
        ({"mention_id": 1, "kind": "new_result"}, ["suppression"]),
        ({"mention_id": 1, "kind": "result_up", "flags": [{"label": "x"}]},
         ["preuve", "sinistre", "suppression"]),
        ({"kind": "page_empty"}, ["preuve"]),
        ({"kind": "baseline", "negative": True}, []),
    ],
)  # fmt: skip
def test_actions_offered_by_kind(fields, expected):
    alert = Alert(**{"kind": "new_review", **fields})
    assert selectors.alert_actions(alert=alert) == expected


@pytest.mark.parametrize(
    ("text", "rating", "band", "negative"),
    [
        ("Je recommande ce médecin.", 5.0, "positive", False),
        ("Je ne recommande plus ce médecin.", 5.0, "negative", True),
        ("Très déçue, je vous le déconseille.", 4.0, "negative", True),
        (FAIR, 3.0, "mixed", False),
        (FAIR, 5.0, "positive", False),
        (LAWFUL, 1.0, "very_negative", True),
    ],
)
def test_review_scored_on_its_text_not_only_its_stars(text, rating, band, negative):
    from cleanup.extract import Review as Extracted
    from cleanup.scoring import review_score

    item = Extracted("r", "A.", None, rating, text, "jsonld", False)
    score = review_score(review=item)
    assert (score.band, score.negative) == (band, negative)
    assert score.negativity is not None and (score.negativity >= 0.75) == negative
