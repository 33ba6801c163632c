"""The "scan now" button queues one scan (never two at once) and its progress is polled as
JSON, by its owner only."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from cleanup.models import Scan
from cleanup.services.scans import scan_run
from cleanup.services.watch import watch_profile_save, watched_page_add
from tests.cleanup.conftest import MICRODATA_PAGE
from tests.cleanup.factories import doctor_with_policy

pytestmark = pytest.mark.django_db


def test_scan_now_queues_once_and_reports_progress(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="5c4a0001")
        other = doctor_with_policy(tag="5c4a0002")
        profile = watch_profile_save(
            doctor=doctor, name_variants=["Claire Martin"], practice_name="", city="",
            specialty="", keywords=[],
        )  # fmt: skip
        watched_page_add(profile=profile, url=review_site.put("/5c4a0001", MICRODATA_PAGE))
        client = Client(HTTP_HOST=tenant_a.domain, HTTP_ACCEPT="application/json")
        client.force_login(doctor.user)
        intruder = Client(HTTP_HOST=tenant_a.domain)
        intruder.force_login(other.user)

    first = client.post("/veille/lancer/").json()
    again = client.post("/veille/lancer/").json()
    queued = client.get(f"/veille/scan/{first['id']}/etat/").json()
    with tenant_context(tenant_a.insurer):
        scan_run(scan_id=first["id"])
    done = client.get(f"/veille/scan/{first['id']}/etat/").json()
    peek = intruder.get(f"/veille/scan/{first['id']}/etat/")

    assert again["id"] == first["id"]
    assert (queued["status"], queued["status_label"], queued["progress"], queued["finished"]) == (
        "queued", "En attente", 0, False,
    )  # fmt: skip
    # the first read of the page is a baseline: its 2 reviews, one summary alert
    assert (done["status"], done["progress"], done["finished"], done["new_reviews"]) == (
        "done", 100, True, 0,
    )  # fmt: skip
    assert (done["baseline_reviews"], done["alerts"]) == (2, 1)
    assert peek.status_code == 404
    with tenant_context(tenant_a.insurer):
        assert Scan.objects.filter(profile=profile).count() == 1


def test_a_scan_lost_for_hours_no_longer_blocks_a_new_one(tenant_a):
    import datetime

    from django.utils import timezone

    from cleanup.services.scans import scan_request

    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="5c4a0003")
        profile = watch_profile_save(
            doctor=doctor, name_variants=["Claire Martin"], practice_name="", city="",
            specialty="", keywords=[],
        )  # fmt: skip
        lost = Scan.objects.create(profile=profile, status=Scan.Status.RUNNING)
        Scan.objects.filter(pk=lost.pk).update(
            created_at=timezone.now() - datetime.timedelta(hours=3)
        )

        fresh = scan_request(profile=profile, enqueue=False)

        lost.refresh_from_db()
        assert fresh.pk != lost.pk
        assert (lost.status, lost.error) == ("failed", "Veille interrompue (délai dépassé).")
        assert fresh.status == "queued"
