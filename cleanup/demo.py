"""Demo data for monitoring: the demo doctor watches a page of the demo review site.

Why: a newcomer who opens « Veille » on the first start should see monitoring work, not an empty
dashboard. The seed sets up the doctor's watch profile and watched page through the ordinary
services, then runs one scan at once (no worker yet: ``./egide run`` seeds before it starts the
processes), which records the page as it is today as the baseline. The demo site changes its
reviews after that first read (``saas.embedded.review_site``), so the doctor's first
« Lancer la veille » finds a new review and an edited one.

Idempotent: a profile, page or baseline already there is left as it is.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model

from cleanup.models import Scan, WatchedPage, WatchProfile
from cleanup.services import (
    PlanLimitError,
    scan_request,
    scan_run,
    watch_profile_save,
    watched_page_add,
)
from cover.models import Doctor

logger = logging.getLogger(__name__)


def _demo_page_moved(*, profile: WatchProfile, page_url: str, label: str) -> WatchedPage | None:
    """The demo page already watched, moved to ``page_url`` when the demo site's port changed
    since the last run (same label and path): one page, its history kept."""
    path = urlsplit(page_url).path
    for page in profile.pages.filter(label=label):
        if urlsplit(page.url).path == path:
            if page.url != page_url:
                page.url = page_url
                page.save(update_fields=["url"])
            return page
    return None


def monitoring_demo_seed(*, doctor_email: str, page_url: str, label: str) -> WatchedPage | None:
    """Watch ``page_url`` for the demo doctor and record its baseline; None when the doctor or
    their policy is missing (monitoring is part of the cover)."""
    user = get_user_model().objects.filter(username=doctor_email).first()
    doctor = Doctor.objects.filter(user=user).first() if user else None
    if doctor is None:
        return None
    profile = WatchProfile.objects.filter(doctor=doctor).first()
    try:
        if profile is None:
            full_name = doctor.user.get_full_name()
            profile = watch_profile_save(
                doctor=doctor,
                name_variants=[f"Dr {full_name}", full_name],
                practice_name=doctor.practice_name,
                city=doctor.city,
                specialty=doctor.specialty,
                keywords=[],
            )
        page = _demo_page_moved(profile=profile, page_url=page_url, label=label)
        page = page or watched_page_add(profile=profile, url=page_url, label=label)
    except PlanLimitError as exc:
        logger.warning("Monitoring demo not seeded for %s: %s", doctor_email, exc)
        return None
    if not page.snapshots.exists():
        scan = scan_request(profile=profile, trigger=Scan.Trigger.SCHEDULED, enqueue=False)
        try:
            # No browser at seeding time: the demo page carries its reviews in its markup.
            scan_run(scan_id=scan.pk, render=False)
        except Exception:  # noqa: BLE001 - the demo must start; the scan row keeps the error
            logger.exception("Monitoring demo baseline failed for %s", doctor_email)
    return page
