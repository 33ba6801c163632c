"""A doctor opens the monitoring dashboard in Chromium: the rating and review-count charts are
drawn, flagged passages are highlighted, and an alert becomes a claim and an evidence capture."""

from __future__ import annotations

import contextlib
import re

import pytest
from django.db.models import ProtectedError
from django.test import override_settings
from django_tenants.utils import tenant_context

from cleanup.services.scans import scan_request, scan_run
from cleanup.services.watch import watch_profile_save, watched_page_add
from tests.cleanup.conftest import (  # noqa: F401 — the fake review platform's fixtures
    SCAN1_REVIEWS,
    SCAN2_REVIEWS,
    _site_server,
    jsonld_page,
    review_site,
)
from tests.cleanup.factories import doctor_cleanup, doctor_with_policy
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("committed_db")

SCREENSHOT = "/tmp/egide-monitoring-dashboard.png"  # noqa: S108


def _url(live_server_url: str, host: str, path: str) -> str:
    port = live_server_url.rsplit(":", 1)[1]
    return f"http://{host}:{port}{path}"


def _cleanup(doctor) -> None:
    """Claims and captures are evidence and may refuse deletion; the doctor's names are unique,
    so what cannot be deleted does not disturb other tests."""
    from cover.claims.models import Claim

    with contextlib.suppress(ProtectedError):
        Claim.objects.filter(doctor=doctor).delete()
        doctor_cleanup(doctor)


@override_settings(EGIDE_CAPTURE_ALLOW=["127.0.0.0/8"])
def test_dashboard_charts_and_alert_to_claim_and_capture(
    page,
    live_server_url,
    tenant_a,
    review_site,  # noqa: F811 — the fixture imported above
    unique,
):
    path = f"/e2e-{unique}"
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(password=PASSWORD, tag=unique)
        profile = watch_profile_save(
            doctor=doctor, name_variants=["Dr Claire Martin"], practice_name="", city="Lyon",
            specialty="", keywords=[],
        )  # fmt: skip
        url = review_site.put(path, jsonld_page(reviews=SCAN1_REVIEWS, rating="2.7", count=3))
        watched_page_add(profile=profile, url=url, label="Avis Santé")
        scan_run(scan_id=scan_request(profile=profile, enqueue=False).pk)
        review_site.put(path, jsonld_page(reviews=SCAN2_REVIEWS, rating="2.3", count=4))
        scan_run(scan_id=scan_request(profile=profile, enqueue=False).pk)
        karim = profile.alerts.get(review__author="Karim B.", kind="new_review")
    try:
        page.goto(_url(live_server_url, tenant_a.domain, "/compte/connexion/"))
        page.fill("input[name=username]", doctor.user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(_url(live_server_url, tenant_a.domain, "/veille/"))

        # the two charts are drawn, one point per scan
        assert page.locator("#chart-rating svg circle").count() == 2
        assert page.locator("#chart-count svg circle").count() == 2
        assert page.locator("#chart-rating svg polyline").count() == 1
        assert page.locator("#chart-rating svg").is_visible()
        rating_tips = page.locator("#chart-rating svg circle title").all_text_contents()
        count_tips = page.locator("#chart-count svg circle title").all_text_contents()
        assert [t.rsplit(" : ", 1)[1] for t in rating_tips] == ["2,7", "2,3"]
        assert [t.rsplit(" : ", 1)[1] for t in count_tips] == ["3", "4"]
        card = page.locator(f"#alerte-{karim.pk}")
        assert card.locator("mark").all_inner_texts() == ["charlatan", "charcuté", "radié"]
        page.screenshot(path=SCREENSHOT, full_page=True)

        # when the doctor opens a claim from Karim's review, then captures it as evidence
        card.get_by_role("button", name="Ouvrir un sinistre").click()
        claim_message = page.locator(".messages li").inner_text()
        page.locator(f"#alerte-{karim.pk}").get_by_role(
            "button", name="Capturer comme preuve"
        ).click()
        capture_message = page.locator(".messages li").inner_text()

        assert re.fullmatch(r"Sinistre ouvert \(réf\. S-\d{4}-\d{5}\)\.", claim_message)
        assert re.fullmatch(r"Capture de preuve demandée \(réf\. \d+\)\.", capture_message)
        with tenant_context(tenant_a.insurer):
            from cover.claims.models import Claim
            from evidence.models import Capture

            karim.refresh_from_db()
            claim = Claim.objects.get(doctor=doctor)
            assert claim.reference == karim.claim_ref
            assert claim.urls == [url]
            assert [p.quote for p in claim.passages.order_by("position")] == [
                "Un vrai charlatan, il m’a charcuté et mérite d'être radié."
            ]
            capture = Capture.objects.get(pk=int(karim.evidence_ref))
            assert capture.url == url
    finally:
        with tenant_context(tenant_a.insurer):
            _cleanup(doctor)
