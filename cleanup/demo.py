"""Demo data for monitoring: the demo doctor watches a page of the demo review site.

Why: a newcomer who opens « Veille » on the first start should see monitoring work, not an empty
dashboard. The seed sets up the doctor's watch profile and watched page through the ordinary
services, then runs one scan at once (no worker yet: ``./egide run`` seeds before it starts the
processes), which records the page as it is today as the baseline. The demo site changes its
reviews after that first read (``saas.embedded.review_site``), so the doctor's first
« Lancer la veille » finds a new review and an edited one.

The seed also proposes one positive-content item (an information article) drafted by the
insurer's claims handler, waiting for the doctor's approval in « Plan de publication ».

Idempotent: a profile, page, baseline or proposed item already there is left as it is.
"""

from __future__ import annotations

import datetime
import logging
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.utils import timezone

from cleanup.models import ContentPlanItem, Scan, WatchedPage, WatchProfile
from cleanup.services.common import PlanLimitError
from cleanup.services.content import content_plan_item_propose, content_plan_item_save
from cleanup.services.scans import scan_request, scan_run
from cleanup.services.watch import watch_profile_save, watched_page_add
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


def _demo_profile(*, doctor: Doctor) -> WatchProfile:
    profile = WatchProfile.objects.filter(doctor=doctor).first()
    if profile is not None:
        return profile
    full_name = doctor.user.get_full_name()
    return watch_profile_save(
        doctor=doctor,
        name_variants=[f"Dr {full_name}", full_name],
        practice_name=doctor.practice_name,
        city=doctor.city,
        specialty=doctor.specialty,
        keywords=[],
    )


def _demo_doctor(email: str) -> Doctor | None:
    user = get_user_model().objects.filter(username=email).first()
    return Doctor.objects.filter(user=user).first() if user else None


def monitoring_demo_seed(
    *, doctor_email: str, page_url: str, label: str, platform: str = ""
) -> WatchedPage | None:
    """Watch ``page_url`` for the demo doctor and record its baseline; None when the doctor or
    their policy is missing (monitoring is part of the cover). ``platform`` names the platform
    profile the page is read with (``cleanup/platforms/profiles``) when its markup has none."""
    doctor = _demo_doctor(doctor_email)
    if doctor is None:
        return None
    try:
        profile = _demo_profile(doctor=doctor)
        page = _demo_page_moved(profile=profile, page_url=page_url, label=label)
        page = page or watched_page_add(
            profile=profile, url=page_url, label=label, platform=platform
        )
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


DEMO_CONTENT_TITLE = "Consultations au cabinet : organisation et accès"
DEMO_CONTENT_SUMMARY = "Horaires, prise de rendez-vous et accès au cabinet."


def _demo_content_body(*, doctor: Doctor) -> list[dict]:
    return [
        {"type": "heading", "value": "Organisation des consultations"},
        {
            "type": "paragraph",
            "value": "<p>Les consultations ont lieu <b>sur rendez-vous</b>, du lundi au "
            "vendredi. Les visites à domicile sont réservées aux patients qui ne peuvent pas "
            "se déplacer.</p>",
        },
        {
            "type": "practice_info",
            "value": {
                "label": "Accès",
                "text": "Cabinet de plain-pied, accessible aux personnes à mobilité réduite.",
            },
        },
        {
            "type": "hours_contact",
            "value": {
                "hours": "Lundi–vendredi 8 h 30–18 h 30",
                "phone": "",
                "email": "",
                "address": ", ".join(p for p in (doctor.practice_address, doctor.city) if p),
                "booking_url": "",
            },
        },
    ]


def content_demo_seed(*, doctor_email: str, staff_email: str) -> ContentPlanItem | None:
    """One information article drafted by ``staff_email`` and proposed to the demo doctor, who
    approves (and so publishes) it in the portal; None when the doctor is missing."""
    doctor = _demo_doctor(doctor_email)
    staff = get_user_model().objects.filter(username=staff_email).first()
    if doctor is None:
        return None
    profile = _demo_profile(doctor=doctor)
    existing = profile.content.filter(title=DEMO_CONTENT_TITLE).first()
    if existing is not None:
        return existing
    item = content_plan_item_save(
        actor=staff,
        profile=profile,
        title=DEMO_CONTENT_TITLE,
        summary=DEMO_CONTENT_SUMMARY,
        channel=ContentPlanItem.Channel.ARTICLE,
        body=_demo_content_body(doctor=doctor),
        planned_for=timezone.localdate() + datetime.timedelta(days=7),
    )
    return content_plan_item_propose(item=item, actor=staff)
