"""Reads on offers and policies, used by claims and cleanup (never their models directly)."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from cover.models import Doctor, Plan, Policy
from cover.terms import Terms


def plans_published() -> QuerySet[Plan]:
    return Plan.objects.filter(published=True).order_by("sort_order", "name")


def policy_terms(*, policy: Policy) -> Terms:
    return Terms.from_json(policy.plan_version.terms)


def policy_current(*, doctor: Doctor, on: datetime.date) -> Policy | None:
    """The doctor's policy in force on a date (active, started, not ended), if any."""
    return (
        Policy.objects.filter(doctor=doctor, status=Policy.Status.ACTIVE, start_date__lte=on)
        .exclude(end_date__lt=on)
        .select_related("plan_version")
        .order_by("-start_date")
        .first()
    )


def doctor_for_user(*, user) -> Doctor | None:
    return Doctor.objects.filter(user=user).first()
