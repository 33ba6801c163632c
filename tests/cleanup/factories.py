"""Doctors with a policy in force, for the monitoring tests (real models, real services)."""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from cover.models import Doctor, Plan, Policy
from cover.services.site import plan_version_current
from tests.cover.factories import DoctorFactory


def doctor_with_policy(
    *,
    first_name: str = "Claire",
    last_name: str = "Martin",
    email: str | None = None,
    password: str | None = None,
    frequency: str = "monthly",
    max_keywords: int = 3,
    max_watched_pages: int = 2,
    removal_requests_per_year: int = 2,
    positive_content_campaigns_per_year: int = 1,
    start: datetime.date | None = None,
    tag: str | None = None,
) -> Doctor:
    tag = tag or uuid.uuid4().hex[:8]
    doctor = DoctorFactory(
        user__username=f"dr-{tag}",
        user__email=email or f"dr-{tag}@exemple.test",
        user__password=password,
        user__first_name=first_name,
        user__last_name=last_name,
        rpps=str(10_000_000_000 + int(tag, 16) % 89_999_999_999),
        specialty="Médecine générale",
        practice_name="Cabinet du Dr Martin",
        practice_address="12 rue des Lilas, 69003 Lyon",
        city="Lyon",
        phone="04 78 00 00 00",
    )
    plan = Plan.objects.create(
        name=f"Veille {tag}",
        slug=f"veille-{tag}",
        monitoring_frequency=frequency,
        max_keywords=max_keywords,
        max_watched_pages=max_watched_pages,
        removal_requests_per_year=removal_requests_per_year,
        positive_content_campaigns_per_year=positive_content_campaigns_per_year,
    )
    Policy.objects.create(
        number=f"POL-{tag}",
        doctor=doctor,
        plan_version=plan_version_current(plan=plan),
        status=Policy.Status.ACTIVE,
        start_date=start or timezone.localdate() - datetime.timedelta(days=30),
    )
    return doctor


def doctor_cleanup(doctor: Doctor) -> None:
    """Delete what ``doctor_with_policy`` created (committed tests)."""
    from cleanup.models import ProfilePage, WatchProfile

    for page in ProfilePage.objects.filter(doctor=doctor):
        page.delete()
    WatchProfile.objects.filter(doctor=doctor).delete()
    plans = {p.plan_version.plan for p in doctor.policies.all()}
    doctor.policies.all().delete()
    for plan in plans:
        plan.versions.all().delete()
        plan.delete()
    user = doctor.user
    doctor.delete()
    user.delete()
