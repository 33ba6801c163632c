"""The demo review site of ``./egide run``: reviews that change over time, so that the demo
doctor's first « Lancer la veille » after the demo seed shows alerts on ``/veille/``."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from cleanup.demo import monitoring_demo_seed
from cleanup.extract import reviews_extract
from cleanup.models import Alert, Scan, WatchedPage
from cleanup.services.scans import scan_request, scan_run
from saas.demo import DEMO_INSURERS
from saas.embedded.review_content import DOCTORS, PLATFORM_NAME, doctor_slug, page_path
from saas.embedded.review_site import STEP, DemoReviewSite
from tests.cleanup.factories import doctor_with_policy

BASE_DIR = Path(__file__).resolve().parent.parent.parent
START = datetime.datetime(2026, 12, 6, 9, 0, tzinfo=datetime.UTC)


def _read(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def _reviews(url: str) -> list[tuple[str, str, float | None]]:
    status, html = _read(url)
    assert status == 200
    extract = reviews_extract(html=html, url=url, platform=None)
    return [(r.review_id.rsplit("#", 1)[1], r.author or "", r.rating) for r in extract.reviews]


def test_the_demo_site_changes_after_the_first_read_then_a_day_later(tmp_path):
    # given the demo site on loopback with a clock the test moves
    now = [START]
    site = DemoReviewSite(host="127.0.0.1", port=0, data_dir=tmp_path, clock=lambda: now[0])
    site.start()
    try:
        url = site.url + page_path("dr-claire-martin")
        # when the page is read three times, then once more a day later
        first, second, third = _reviews(url), _reviews(url), _reviews(url)
        now[0] = START + STEP
        fourth = _reviews(url)
        index_status, index = _read(site.url + "/")
        missing, _body = _read(site.url + "/avis/dr-inconnu")
    finally:
        site.stop()
    # then version 1, then a new defamatory review and an edited one, then a new positive one
    assert first == [
        ("avis-1104", "Nathalie P.", 5.0),
        ("avis-1021", "Marc T.", 4.0),
        ("avis-0930", "Lucie R.", 3.0),
        ("avis-0912", "Olivier B.", 5.0),
    ]
    assert second == [
        ("avis-1201", "Patient anonyme", 1.0),
        ("avis-1104", "Nathalie P.", 5.0),
        ("avis-1021", "Marc T.", 2.0),
        ("avis-0930", "Lucie R.", 3.0),
        ("avis-0912", "Olivier B.", 5.0),
    ]
    assert third == second
    assert fourth == [("avis-1205", "Sandrine V.", 5.0), *second]
    assert index_status == 200
    assert "Dr Claire Martin" in index and "Dr Paul Bernard" in index
    assert missing == 404


def test_a_restarted_site_continues_where_the_last_one_stopped(tmp_path):
    # given a page read once by a first server (the demo seed's)
    first = DemoReviewSite(host="127.0.0.1", port=0, data_dir=tmp_path).start()
    try:
        baseline = _reviews(first.url + page_path("dr-paul-bernard"))
    finally:
        first.stop()
    # when a second server (the Procfile's) serves the same data directory
    second = DemoReviewSite(host="127.0.0.1", port=0, data_dir=tmp_path).start()
    try:
        after = _reviews(second.url + page_path("dr-paul-bernard"))
        other = _reviews(second.url + page_path("dr-claire-martin"))
    finally:
        second.stop()
    # then it shows version 2 of that page, and version 1 of a page never read
    assert [r[0] for r in baseline] == ["avis-2110", "avis-2026", "avis-2003"]
    assert [r[0] for r in after] == ["avis-2201", "avis-2110", "avis-2026", "avis-2003"]
    assert ("avis-2026", "Thomas G.", 2.0) in after
    assert len(other) == 4


def test_every_demo_doctor_has_a_page_on_the_demo_site():
    assert sorted(doctor_slug(*d.doctor_name) for d in DEMO_INSURERS) == sorted(DOCTORS)


@pytest.mark.django_db
def test_after_the_demo_seed_the_first_scan_shows_alerts_on_veille(tenant_a, tenant_b, tmp_path):
    # given the demo seed for a doctor of insurer A, then a second run of the seed after the
    # demo site moved to another port (same data directory)
    first_site = DemoReviewSite(host="127.0.0.1", port=0, data_dir=tmp_path).start()
    try:
        first_url = first_site.url + page_path("dr-claire-martin")
        with tenant_context(tenant_a.insurer):
            doctor = doctor_with_policy(tag="de0a0001")
            page = monitoring_demo_seed(
                doctor_email=doctor.user.username, page_url=first_url, label=PLATFORM_NAME
            )
    finally:
        first_site.stop()
    site = DemoReviewSite(host="127.0.0.1", port=0, data_dir=tmp_path).start()
    try:
        url = site.url + page_path("dr-claire-martin")
        with tenant_context(tenant_a.insurer):
            again = monitoring_demo_seed(
                doctor_email=doctor.user.username, page_url=url, label=PLATFORM_NAME
            )
            assert page is not None and again is not None
            profile = page.profile
            seeded_scans = list(profile.scans.values_list("status", flat=True))
            seeded_pages = list(profile.pages.values_list("pk", "url"))
            baseline_alerts = set(
                Alert.objects.filter(profile=profile).values_list("pk", flat=True)
            )
            # when the doctor's first scan runs (as the worker runs it)
            scan = scan_request(profile=profile, enqueue=False)
            scan = scan_run(scan_id=scan.pk)
            new_alerts = Alert.objects.filter(profile=profile).exclude(pk__in=baseline_alerts)
            kinds = sorted((a.kind, a.review.author) for a in new_alerts)
            client = Client(HTTP_HOST=tenant_a.domain)
            client.force_login(doctor.user)
        response = client.get("/veille/")
    finally:
        site.stop()
    # then the seed left one page (moved to the new port) and one baseline scan, and the
    # doctor's scan found the new review and the edited one
    assert (seeded_scans, seeded_pages) == ([Scan.Status.DONE], [(page.pk, url)])
    assert (scan.status, scan.new_reviews, scan.edited_reviews, scan.removed_reviews) == (
        Scan.Status.DONE, 1, 1, 0,
    )  # fmt: skip
    assert kinds == [
        (Alert.Kind.EDITED_REVIEW, "Marc T."),
        (Alert.Kind.NEW_REVIEW, "Patient anonyme"),
    ]
    assert response.status_code == 200
    body = response.content.decode()
    assert f"Patient anonyme sur {PLATFORM_NAME}" in body
    assert f"Marc T. sur {PLATFORM_NAME}" in body
    # and insurer B has nothing of it
    with tenant_context(tenant_b.insurer):
        assert WatchedPage.objects.filter(url=url).count() == 0


def test_development_settings_allow_exactly_the_demo_site_address():
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EGIDE_CAPTURE_ALLOW", "EGIDE_FETCH_ALLOWED", "EGIDE_DEMO_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="saas.settings.dev", EGIDE_DEMO_REVIEWS_PORT="12199")
    code = (
        "from django.conf import settings as s; "
        "print(s.EGIDE_DEMO_REVIEWS_URL, s.EGIDE_CAPTURE_ALLOW, s.EGIDE_FETCH_ALLOWED_NETWORKS)"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True,
        check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    assert out == "http://127.0.0.2:12199 ['127.0.0.2/32'] ['127.0.0.2/32']"
