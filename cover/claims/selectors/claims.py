"""The handlers' queue and dashboard, a claim's notes, attachments, letters and timeline, and the
doctor's own claims.

Tenant isolation comes from the schema; doctor isolation is explicit here: every read made for
a doctor filters on that doctor.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from cover.claims.models import (
    Claim,
    ClaimAttachment,
    ClaimEvent,
    ClaimNote,
    Letter,
    Partner,
    PartnerKind,
    TimelineKind,
)
from cover.claims.selectors.captures import (
    CaptureTimelineEntry,
    _timeline_key,
    claim_capture_outcomes,
    claim_captures,
)
from cover.ladder import LadderState
from cover.models import Doctor
from evidence.selectors import captures_all


def claims_queue(
    *,
    state: str = "",
    assigned_to: Any = None,
    unassigned: bool = False,
    cover_status: str = "",
    include_closed: bool = False,
) -> QuerySet[Claim]:
    """The handlers' queue, nearest hard deadline first (claims without one last)."""
    qs = Claim.objects.select_related("doctor__user", "assigned_to")
    if not include_closed:
        qs = qs.exclude(state=LadderState.CLOSED.value)
    if state:
        qs = qs.filter(state=state)
    if assigned_to is not None:
        qs = qs.filter(assigned_to=assigned_to)
    if unassigned:
        qs = qs.filter(assigned_to__isnull=True)
    if cover_status:
        qs = qs.filter(cover_status=cover_status)
    # Same order as the partial index claim_queue_order_idx (migration 0005_queue_indexes); pk
    # last so that pages never repeat or skip a claim created in the same instant.
    return qs.order_by(F("next_deadline_date").asc(nulls_last=True), "created_at", "pk")


def claim_handlers() -> QuerySet[User]:
    """The insurer's active staff who may work claims (``claims.handle_claim`` through a group,
    directly, or as superuser): the people a claim can be assigned to."""
    user_model = get_user_model()
    permission = Permission.objects.filter(
        codename="handle_claim", content_type__app_label="claims"
    )
    # Subqueries, not joins + DISTINCT: an insurer has thousands of doctor accounts.
    via_groups = user_model.groups.through.objects.filter(group__permissions__in=permission).values(
        "user_id"
    )
    direct = user_model.user_permissions.through.objects.filter(permission__in=permission).values(
        "user_id"
    )
    return (
        user_model.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(pk__in=via_groups) | Q(pk__in=direct))
        .order_by("last_name", "first_name", "email")
    )


def claim_handler(*, pk: Any) -> User | None:
    """One handler of ``claim_handlers``, or None (an unknown id, a doctor, an inactive user)."""
    try:
        return claim_handlers().filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def claim_notes(*, claim: Claim) -> QuerySet[ClaimNote]:
    """Internal notes, newest first. Staff pages only: no doctor view reads this."""
    return claim.internal_notes.select_related("author").order_by("-created_at", "-pk")


def claim_attachments(*, claim: Claim) -> QuerySet[ClaimAttachment]:
    return claim.attachments.select_related("uploaded_by").order_by("-uploaded_at", "-pk")


def claim_attachment(*, claim: Claim, pk: int) -> ClaimAttachment:
    return get_object_or_404(ClaimAttachment, pk=pk, claim=claim)


@dataclass(frozen=True)
class HandlerDashboard:
    """What a handler looks at first: bounded lists (a few queries, whatever the volume)."""

    week_start: datetime.date
    due_by_day: list[tuple[datetime.date, int]]
    due_this_week: list[Claim]
    overdue_count: int
    unassigned: list[Claim]
    unassigned_count: int
    mine_count: int
    failed_captures: list[tuple[Any, Claim | None]]


DASHBOARD_LIMIT = 10
# The dashboard heads the queue and the admin home, the pages handlers open most: it is kept
# a minute per handler and day in the insurer's cache (keys carry the schema), and dropped as
# soon as a claim, a timeline event or a capture is written (``dashboards_invalidate``).
DASHBOARD_CACHE_S = 60
_DASHBOARD_VERSION_KEY = "claims-dashboard-version"


def handler_dashboard(*, user: User, today: datetime.date) -> HandlerDashboard:
    """The handler's dashboard, from the cache when nothing changed since it was built.

    Never cached inside a transaction: what it has written but not committed could be rolled
    back and must not be shown to anyone else. The cache down means no cache."""
    version = dashboards_version()
    if version is None:
        return _handler_dashboard(user=user, today=today)
    key = f"claims-dashboard:{version}:{user.pk}:{today.isoformat()}"
    dashboard = cache.get(key)
    if not isinstance(dashboard, HandlerDashboard):
        dashboard = _handler_dashboard(user=user, today=today)
        cache.set(key, dashboard, DASHBOARD_CACHE_S)
    return dashboard


def dashboards_version() -> int | None:
    """The current insurer's version of everything cached about its claims (dashboards, queue
    pages), bumped by ``dashboards_invalidate``. None inside a transaction (what it wrote may
    be rolled back) or when the cache is down: then nothing is cached."""
    if connection.in_atomic_block:
        return None
    version = cache.get(_DASHBOARD_VERSION_KEY)
    if version is None:
        cache.add(_DASHBOARD_VERSION_KEY, 1, timeout=None)
        version = cache.get(_DASHBOARD_VERSION_KEY)
    return version


def dashboards_invalidate() -> None:
    """Every handler's cached dashboard of the current insurer is stale from now on."""
    try:
        cache.incr(_DASHBOARD_VERSION_KEY)
    except ValueError:  # no version yet, so nothing cached under one
        pass


def _handler_dashboard(*, user: User, today: datetime.date) -> HandlerDashboard:
    """Deadlines of the current week (Monday to Sunday, counted per day in the database),
    unassigned open claims and failed captures of the insurer's claims."""
    open_claims = Claim.objects.exclude(state=LadderState.CLOSED.value)
    week_start = today - datetime.timedelta(days=today.weekday())
    week_end = week_start + datetime.timedelta(days=6)
    counts = dict(
        open_claims.filter(next_deadline_date__range=(week_start, week_end))
        .values_list("next_deadline_date")
        .annotate(n=Count("pk"))
        .values_list("next_deadline_date", "n")
    )
    due_by_day = [
        (day, counts.get(day, 0)) for day in (week_start + datetime.timedelta(i) for i in range(7))
    ]
    due_this_week = list(
        open_claims.filter(next_deadline_date__range=(today, week_end))
        .select_related("doctor__user", "assigned_to")
        .order_by("next_deadline_date", "created_at", "pk")[:DASHBOARD_LIMIT]
    )
    unassigned_qs = open_claims.filter(assigned_to__isnull=True)
    unassigned = list(
        unassigned_qs.select_related("doctor__user").order_by(
            F("next_deadline_date").asc(nulls_last=True), "created_at", "pk"
        )[:DASHBOARD_LIMIT]
    )
    # Captures are linked to claims through the claim's timeline (ref "capture-<id>"): the
    # latest failures not captured again since, then the claims they belong to (two bounded
    # queries; monitoring's own captures have no claim and are left out).
    failed_recent = list(
        captures_all()
        .filter(status="failed")
        # a failure captured again since (retry or new capture of the address) is dealt with
        .exclude(recaptures__status__in=["queued", "running", "complete"])
        .order_by("-created_at", "-pk")[: DASHBOARD_LIMIT * 10]
    )
    claim_of_capture = {
        int(ref.split("-", 1)[1]): claim_id
        for ref, claim_id in ClaimEvent.objects.filter(
            kind=TimelineKind.CAPTURE_REQUESTED,
            ref__in=[f"capture-{c.pk}" for c in failed_recent],
        ).values_list("ref", "claim_id")
    }
    failed = [c for c in failed_recent if c.pk in claim_of_capture][:DASHBOARD_LIMIT]
    claims = Claim.objects.in_bulk([claim_of_capture[c.pk] for c in failed])
    return HandlerDashboard(
        week_start=week_start,
        due_by_day=due_by_day,
        due_this_week=due_this_week,
        overdue_count=open_claims.filter(next_deadline_date__lt=today).count(),
        unassigned=unassigned,
        unassigned_count=unassigned_qs.count(),
        mine_count=open_claims.filter(assigned_to=user).count(),
        failed_captures=[(c, claims.get(claim_of_capture[c.pk])) for c in failed],
    )


def claims_of_doctor(*, doctor: Doctor) -> QuerySet[Claim]:
    return Claim.objects.filter(doctor=doctor).order_by("-created_at")


def claim_of_doctor(*, doctor: Doctor | None, pk: int) -> Claim:
    """The doctor's own claim, or 404 (never another doctor's: same answer as a missing one)."""
    if doctor is None:
        raise Http404
    return get_object_or_404(Claim, pk=pk, doctor=doctor)


def claim_timeline(
    *, claim: Claim, for_doctor: bool, captures: Sequence[Any] | None = None
) -> list[ClaimEvent | CaptureTimelineEntry]:
    """In date order (the model's ordering); reads the claim's prefetched events if any.

    The outcome of each of the claim's captures (complete with its bundle, or failed with its
    reason) is computed here from the capture itself, not stored: the evidence app knows
    nothing of claims. Pass ``captures`` when the page already read them (no extra query).
    """
    events: list[ClaimEvent | CaptureTimelineEntry] = [
        e for e in claim.events.all() if e.visible_to_doctor or not for_doctor
    ]
    outcomes = claim_capture_outcomes(
        captures=claim_captures(claim=claim) if captures is None else captures
    )
    if not outcomes:
        return events
    return sorted([*events, *outcomes], key=_timeline_key)


def claim_letter(*, claim: Claim, pk: int) -> Letter:
    return get_object_or_404(Letter, pk=pk, claim=claim)


def partners_active(*, kind: str = "") -> QuerySet[Partner]:
    qs = Partner.objects.filter(active=True)
    return qs.filter(kind=kind) if kind else qs


def partners_commissaires() -> QuerySet[Partner]:
    return Partner.objects.filter(kind=PartnerKind.COMMISSAIRE, active=True).order_by("name")


def claim_of_doctor_by_reference(*, doctor: Doctor, reference: str) -> Claim | None:
    """The doctor's claim with this reference (another doctor's is ``None``, like a missing one)."""
    return Claim.objects.filter(doctor=doctor, reference=reference).first()
