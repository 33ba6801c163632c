"""Monitoring data never crosses tenants, and a doctor never sees another doctor's alerts."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from cleanup import selectors
from cleanup.models import Alert, ContentPlanItem, Mention, RemovalRequest
from cleanup.services.scans import scan_request, scan_run
from cleanup.services.watch import watch_profile_save, watched_page_add
from tests.cleanup.conftest import MICRODATA_PAGE
from tests.cleanup.factories import doctor_with_policy

pytestmark = pytest.mark.django_db


def _monitored_doctor(review_site, tag):
    doctor = doctor_with_policy(tag=tag)
    profile = watch_profile_save(
        doctor=doctor, name_variants=["Claire Martin"], practice_name="", city="", specialty="",
        keywords=[],
    )  # fmt: skip
    watched_page_add(profile=profile, url=review_site.put(f"/{tag}", MICRODATA_PAGE))
    scan = scan_run(scan_id=scan_request(profile=profile, enqueue=False).pk)
    now = timezone.now()
    Mention.objects.create(
        profile=profile, url_key="https://x.example/", url="https://x.example/", title="X",
        first_seen=now, last_seen=now, best_rank=1, last_rank=1, flagged=True,
    )  # fmt: skip
    RemovalRequest.objects.create(
        profile=profile, kind="gdpr_listing", recipient_name="Site", recipient_address="Paris",
        urls=["https://x.example/"], grounds=["motif"],
    )  # fmt: skip
    ContentPlanItem.objects.create(profile=profile, title="Horaires", channel="article")
    return doctor, profile, scan


def test_every_selector_returns_nothing_in_another_tenant(tenant_a, tenant_b, review_site):
    with tenant_context(tenant_a.insurer):
        doctor, profile, scan = _monitored_doctor(review_site, "150a0001")
        alert = Alert.objects.filter(profile=profile).first()
        request = RemovalRequest.objects.get(profile=profile)
        item = ContentPlanItem.objects.get(profile=profile)
        # sanity: in its own tenant the data is there
        # the first read of the page is a baseline: one summary alert
        assert selectors.alerts_for_doctor(doctor=doctor).count() == 1
        assert (
            len(selectors.watch_profiles_due(now=timezone.now() + datetime.timedelta(days=40))) >= 1
        )

    with tenant_context(tenant_b.insurer):
        assert selectors.watch_profile_for_doctor(doctor=doctor) is None
        assert list(selectors.watched_pages_for_doctor(doctor=doctor)) == []
        assert list(selectors.alerts_for_doctor(doctor=doctor, include_dismissed=True)) == []
        assert selectors.alert_for_doctor(doctor=doctor, alert_id=alert.pk) is None
        assert selectors.scan_for_doctor(doctor=doctor, scan_id=scan.pk) is None
        assert selectors.scan_latest(profile=profile) is None
        assert list(selectors.scans_for_doctor(doctor=doctor)) == []
        assert list(selectors.mentions_for_doctor(doctor=doctor)) == []
        assert list(selectors.removal_requests_for_doctor(doctor=doctor)) == []
        assert selectors.removal_request_for_doctor(doctor=doctor, request_id=request.pk) is None
        assert list(selectors.content_plan_for_doctor(doctor=doctor)) == []
        assert selectors.content_item_for_doctor(doctor=doctor, item_id=item.pk) is None
        assert [a for a in selectors.alerts_open() if a.profile_id == profile.pk] == []
        assert [
            p for p in selectors.watch_profiles_due(now=timezone.now() + datetime.timedelta(days=40))
            if p.doctor_id == doctor.pk and p.name_variants == ["Claire Martin"]
        ] == []  # fmt: skip
        assert selectors.rating_series(profile=profile) == ([], [])
        assert selectors.rank_history(profile=profile) == []


def test_a_doctor_cannot_see_or_act_on_another_doctors_alert(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        owner, profile, _scan = _monitored_doctor(review_site, "150a0002")
        other = doctor_with_policy(tag="150a0003")
        alert = Alert.objects.filter(profile=profile).first()
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(other.user)

        assert selectors.alert_for_doctor(doctor=other, alert_id=alert.pk) is None
        assert list(selectors.alerts_for_doctor(doctor=other)) == []

    dashboard = client.get("/veille/")
    read = client.post(f"/veille/alertes/{alert.pk}/lue/")
    reply = client.get(f"/veille/alertes/{alert.pk}/reponse/")

    assert (read.status_code, reply.status_code) == (404, 404)
    assert alert.title not in dashboard.content.decode()
    with tenant_context(tenant_a.insurer):
        alert.refresh_from_db()
        assert alert.read_at is None
