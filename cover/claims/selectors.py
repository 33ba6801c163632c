"""Reads on claims: what the engines are fed with, the handlers' queue, the doctor's claims.

Tenant isolation comes from the schema; doctor isolation is explicit here: every read made for
a doctor filters on that doctor.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from wagtail.models import Site

from cover.claims.models import (
    Claim,
    ClaimAttachment,
    ClaimEvent,
    ClaimNote,
    Cost,
    CoverStatus,
    Letter,
    Partner,
    PartnerKind,
    PublicationDateChange,
    PublicationDateSource,
    TimelineKind,
)
from cover.claims.plan_terms import SubceilingUse, subceiling_uses
from cover.deadlines import (
    ClaimEvent as EngineEvent,
)
from cover.deadlines import (
    Deadline,
    DeadlineStatus,
    date_add_months,
    deadlines_compute,
    is_working_day,
    last_working_day_before,
)
from cover.ladder import (
    STATE_LABELS,
    STATE_ROUTES,
    TRANSITIONS,
    LadderState,
    TransitionCheck,
    ladder_check_transition,
)
from cover.letter_fields import (
    CONSTAT_RECOMMENDED_OPERATIONS,
    CONSTAT_REQUIRED_OPERATIONS,
    LETTER_SPECS,
    LetterKind,
    SenderCapacity,
    letter_default_values,
)
from cover.models import ClockSettings, Doctor, Policy
from cover.rules import (
    CATEGORY_RULES,
    CLOCKS,
    ROUTE_RULES,
    ClaimEventKind,
    ClaimFact,
    ContentCategory,
    Duration,
    DurationUnit,
    HolidayCalendar,
    Route,
    clock_overrides_from_json,
)
from cover.selectors import legal_info_current, policy_terms
from evidence.compare import CaptureComparison, captures_compare, comparison_annex_pdf
from evidence.models import Capture

ENGINE_EVENT_KINDS = frozenset(k.value for k in ClaimEventKind)


# --------------------------------------------------------------------------------------------
# Engine inputs
# --------------------------------------------------------------------------------------------


def claim_categories(*, claim: Claim) -> tuple[ContentCategory, ...]:
    """Confirmed category of each passage, else the questionnaire's proposal (listing first)."""
    found: list[ContentCategory] = []
    if claim.page_is_listing:
        found.append(ContentCategory.PERSONAL_DATA_LISTING)
    for passage in claim.passages.all():
        value = passage.confirmed_category or passage.proposed_category
        if value:
            found.append(ContentCategory(value))
    return tuple(dict.fromkeys(found))


def claim_facts(*, claim: Claim) -> frozenset[ClaimFact]:
    return frozenset(ClaimFact(f) for f in claim.facts)


LETTER_REF_PREFIX = "courrier-"


def letter_event_ref(*, letter: Letter) -> str:
    """The ref that ties a letter's sending, receipt and follow-ups to one clock instance."""
    return f"{LETTER_REF_PREFIX}{letter.pk}"


def letter_cure_period(*, letter: Letter) -> Duration | None:
    """The cure period a mise en demeure gives by its own terms (``compliance_deadline_days``),
    ``None`` for other letters or a value that is not a whole number of days."""
    return letter_values_cure_period(kind=LetterKind(letter.kind), values=letter.values)


def letter_values_cure_period(*, kind: LetterKind, values: Mapping[str, Any]) -> Duration | None:
    """``letter_cure_period`` on the values of a letter being prepared."""
    if kind is not LetterKind.MISE_EN_DEMEURE:
        return None
    raw = values.get("compliance_deadline_days")
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, int) and raw >= 1:
        return Duration(raw, DurationUnit.DAYS)
    return None


def claim_engine_events(*, claim: Claim) -> tuple[EngineEvent, ...]:
    """The claim's legal events for the deadline engine; events of a mise en demeure carry the
    cure period the letter itself sets."""
    periods = {
        letter_event_ref(letter=letter): period
        for letter in claim.letters.all()  # prefetched on the claim page: filtered here
        if letter.kind == LetterKind.MISE_EN_DEMEURE.value
        and (period := letter_cure_period(letter=letter)) is not None
    }
    return tuple(
        EngineEvent(kind=ClaimEventKind(e.kind), date=e.date, ref=e.ref, period=periods.get(e.ref))
        for e in claim.events.all()
        if e.kind in ENGINE_EVENT_KINDS
    )


@dataclass(frozen=True)
class PublicationEstimate:
    """The earliest plausible publication date the claim's evidence supports (DOMAIN §3)."""

    date: datetime.date
    source: PublicationDateSource


def claim_publication_evidence(
    *, claim: Claim, captures: Sequence[Any] | None = None
) -> list[tuple[datetime.date, PublicationDateSource]]:
    """Dates on which the content is shown to exist online: archive dates recorded by the
    handler (Wayback, BnF, an earlier capture) and the claim's finished captures."""
    from evidence.models import Capture

    found: list[tuple[datetime.date, PublicationDateSource]] = []
    archived = min(
        (e.date for e in claim.events.all() if e.kind == ClaimEventKind.CONTENT_ARCHIVED.value),
        default=None,
    )
    if archived is not None:
        found.append((archived, PublicationDateSource.ARCHIVE))
    captured = [
        timezone.localdate(c.gen_time or c.finished_at)
        for c in (claim_captures(claim=claim) if captures is None else captures)
        if c.status == Capture.Status.COMPLETE and (c.gen_time or c.finished_at)
    ]
    if captured:
        found.append((min(captured), PublicationDateSource.CAPTURE))
    return found


def claim_publication_estimate(*, claim: Claim) -> PublicationEstimate:
    """Earliest plausible publication date when the page shows none: the earliest evidence
    date, the discovery date only when no evidence is as early (every one of these dates is
    one on which the content was online, so the earliest is the closest to T_pub)."""
    candidates = [*claim_publication_evidence(claim=claim)]
    candidates.append((claim.seen_date, PublicationDateSource.DISCOVERY))
    order = list(PublicationDateSource)
    day, source = min(candidates, key=lambda item: (item[0], order.index(item[1])))
    return PublicationEstimate(date=day, source=source)


def claim_publication_evidence_before(
    *, claim: Claim, captures: Sequence[Any] | None = None
) -> datetime.date | None:
    """An evidence date earlier than a publication date that is not an estimate (the doctor's
    or the handler's): the handler should check the publication date."""
    if claim.publication_date_estimated:
        return None
    earlier = [
        d
        for d, _src in claim_publication_evidence(claim=claim, captures=captures)
        if d < claim.publication_date
    ]
    return min(earlier, default=None)


def claim_publication_date_changes(*, claim: Claim) -> QuerySet[PublicationDateChange]:
    return claim.publication_date_changes.select_related("changed_by").order_by("changed_at", "pk")


@dataclass(frozen=True)
class ClockConfiguration:
    """The insurer's way of counting clocks: holiday calendar and clock overrides."""

    holiday_calendar: HolidayCalendar
    overrides: dict[str, dict[str, Any]]


def clock_configuration() -> ClockConfiguration:
    """The tenant's ``ClockSettings`` (one Wagtail site per insurer schema), else the defaults.

    Stored overrides were validated by the settings form; an invalid value written another way
    raises ``ValueError`` rather than falling back to a default legal value.
    """
    site = Site.objects.filter(is_default_site=True).first()
    settings = ClockSettings.objects.filter(site=site).first() if site else None
    if settings is None:
        return ClockConfiguration(holiday_calendar=HolidayCalendar.METROPOLE, overrides={})
    return ClockConfiguration(
        holiday_calendar=HolidayCalendar(settings.holiday_calendar),
        overrides=clock_overrides_from_json(settings.clock_overrides),
    )


def claim_clock_overrides(
    *, claim: Claim, configuration: ClockConfiguration
) -> dict[str, dict[str, Any]]:
    """The insurer's overrides, then the claim's contract: the plan's structured declaration
    delay (« 10 jours ouvrés ») sets the insurer-declaration clock (DOMAIN §8: the delay is
    contract-specific); a plan without one keeps the insurer's or the default clock."""
    overrides = {clock_id: dict(fields_) for clock_id, fields_ in configuration.overrides.items()}
    if claim.policy is None:
        return overrides
    contract = policy_terms(policy=claim.policy).declaration_duration
    declaration = overrides.get("INSURER_DECLARATION", {})
    current = declaration.get("duration", CLOCKS["INSURER_DECLARATION"].duration)
    if contract is not None and contract != current:
        overrides["INSURER_DECLARATION"] = {**declaration, "duration": contract}
    return overrides


def claim_gate_overrides(
    *, claim: Claim, cure_period: Duration | None = None
) -> dict[str, dict[str, Any]]:
    """The clock parameters the gate judges an act with: the same as the deadlines shown
    (insurer overrides, the contract's declaration delay) and, for a mise en demeure being
    prepared or sent, the cure period its own terms give instead of the default one."""
    overrides = claim_clock_overrides(claim=claim, configuration=clock_configuration())
    if cure_period is not None:
        overrides["MISE_EN_DEMEURE_CURE"] = {
            **overrides.get("MISE_EN_DEMEURE_CURE", {}),
            "duration": cure_period,
        }
    return overrides


def claim_deadlines(
    *, claim: Claim, today: datetime.date, configuration: ClockConfiguration | None = None
) -> list[Deadline]:
    """Every running clock of the claim (DOMAIN §4.6), nearest open hard deadline first.

    Clocks started by an event (insurer declaration from the discovery, DSA, GDPR, mise en
    demeure...) run whether or not the claim has a category yet; the category-linked ones
    (press law, civil, droit de réponse) appear once a passage is qualified.
    """
    configuration = configuration or clock_configuration()
    return deadlines_compute(
        publication_date=claim.publication_date,
        categories=claim_categories(claim=claim),
        events=claim_engine_events(claim=claim),
        today=today,
        facts=claim_facts(claim=claim),
        overrides=claim_clock_overrides(claim=claim, configuration=configuration),
        holiday_calendar=configuration.holiday_calendar,
    )


def deadline_badge(
    *,
    due: datetime.date | None,
    today: datetime.date,
    holiday_calendar: HolidayCalendar = HolidayCalendar.METROPOLE,
) -> dict[str, Any]:
    """Days left and a colour band for the queue's at-a-glance view.

    ``act_by`` is the last working day before a due date that falls on a weekend or public
    holiday (hard deadlines are never extended), else ``None``.
    """
    if due is None:
        return {
            "days_left": None,
            "overdue_days": 0,
            "level": "none",
            "percent": 0,
            "act_by": None,
        }
    days = (due - today).days
    if days < 0:
        level = "overdue"
    elif days <= 15:
        level = "critical"
    elif days <= 45:
        level = "warning"
    else:
        level = "ok"
    # The bar fills as the 3-month press-law window (about 90 days) runs out.
    percent = 100 if days <= 0 else max(5, min(100, round(100 * (90 - days) / 90)))
    act_by = (
        None
        if is_working_day(day=due, holiday_calendar=holiday_calendar)
        else last_working_day_before(day=due, holiday_calendar=holiday_calendar)
    )
    return {
        "days_left": days,
        "overdue_days": max(0, -days),
        "level": level,
        "percent": percent,
        "act_by": act_by,
    }


@dataclass(frozen=True)
class LadderOption:
    to_state: LadderState
    to_label: str
    route: Route | None
    route_label: str
    check: TransitionCheck


def claim_gate_events(*, claim: Claim) -> tuple[EngineEvent, ...]:
    """The claim's legal events as the gate sees them: a finished capture of the claim is the
    proof that CAPTURE_DONE asks for, whether or not the handler also recorded the event."""
    from evidence.models import Capture
    from evidence.selectors import captures_all

    events = claim_engine_events(claim=claim)
    if any(e.kind is ClaimEventKind.CAPTURE_DONE for e in events):
        return events
    done = (
        captures_all()
        .filter(pk__in=claim_capture_ids(claim=claim), status=Capture.Status.COMPLETE)
        .exclude(finished_at=None)
        .order_by("finished_at")
        .first()
    )
    if done is None or done.finished_at is None:
        return events
    day = timezone.localdate(done.finished_at)
    return (*events, EngineEvent(ClaimEventKind.CAPTURE_DONE, day, ref=f"capture-{done.pk}"))


def claim_ladder_options(
    *, claim: Claim, today: datetime.date, configuration: ClockConfiguration | None = None
) -> list[LadderOption]:
    """Every next step from the claim's state, each with the guards' verdict (blocked reasons)."""
    current = LadderState(claim.state)
    configuration = configuration or clock_configuration()
    common: dict[str, Any] = {
        "from_state": current,
        "publication_date": claim.publication_date,
        "categories": claim_categories(claim=claim),
        "today": today,
        "facts": claim_facts(claim=claim),
        "events": claim_gate_events(claim=claim),
        "overrides": claim_clock_overrides(claim=claim, configuration=configuration),
    }
    options: list[LadderOption] = []
    targets = list(TRANSITIONS[current])
    if STATE_ROUTES[current]:
        targets.append(current)
    order = list(LadderState)
    for target in sorted(set(targets), key=order.index):
        routes: list[Route | None] = list(STATE_ROUTES[target]) or [None]
        if target is LadderState.CLOSED:
            routes = [None]
        for route in routes:
            check = ladder_check_transition(to_state=target, route=route, **common)
            options.append(
                LadderOption(
                    to_state=target,
                    to_label=str(STATE_LABELS[target]),
                    route=route,
                    route_label=str(ROUTE_RULES[route].label) if route else "",
                    check=check,
                )
            )
    return options


# --------------------------------------------------------------------------------------------
# Queue and doctor reads
# --------------------------------------------------------------------------------------------


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


def claim_handlers() -> QuerySet[Any]:
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


def claim_handler(*, pk: Any) -> Any:
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


def handler_dashboard(*, user: Any, today: datetime.date) -> HandlerDashboard:
    """The handler's dashboard, from the cache when nothing changed since it was built.

    Never cached inside a transaction: what it has written but not committed could be rolled
    back and must not be shown to anyone else. The cache down means no cache."""
    if connection.in_atomic_block:
        return _handler_dashboard(user=user, today=today)
    version = cache.get(_DASHBOARD_VERSION_KEY)
    if version is None:
        cache.add(_DASHBOARD_VERSION_KEY, 1, timeout=None)
        version = cache.get(_DASHBOARD_VERSION_KEY)
        if version is None:
            return _handler_dashboard(user=user, today=today)
    key = f"claims-dashboard:{version}:{user.pk}:{today.isoformat()}"
    dashboard = cache.get(key)
    if not isinstance(dashboard, HandlerDashboard):
        dashboard = _handler_dashboard(user=user, today=today)
        cache.set(key, dashboard, DASHBOARD_CACHE_S)
    return dashboard


def dashboards_invalidate() -> None:
    """Every handler's cached dashboard of the current insurer is stale from now on."""
    try:
        cache.incr(_DASHBOARD_VERSION_KEY)
    except ValueError:  # no version yet, so nothing cached under one
        pass


def _handler_dashboard(*, user: Any, today: datetime.date) -> HandlerDashboard:
    """Deadlines of the current week (Monday to Sunday, counted per day in the database),
    unassigned open claims and failed captures of the insurer's claims."""
    from evidence.selectors import captures_all

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
        from django.http import Http404

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


# --------------------------------------------------------------------------------------------
# Costs against the guarantee
# --------------------------------------------------------------------------------------------


def policy_year_start(*, policy: Policy, on: datetime.date) -> datetime.date:
    """Start of the policy year containing ``on`` (anniversaries of the start date)."""
    start = policy.start_date or on
    years = max(0, on.year - start.year)
    anniversary = date_add_months(start=start, months=12 * years)
    if anniversary > on:
        anniversary = date_add_months(start=start, months=12 * (years - 1))
    return max(anniversary, start)


def claim_covered_cents(*, claim: Claim) -> int:
    return claim.costs.aggregate(total=Sum("covered_cents"))["total"] or 0


def policy_year_covered_cents(*, policy: Policy, on: datetime.date) -> int:
    start = policy_year_start(policy=policy, on=on)
    total = Cost.objects.filter(
        claim__policy=policy, incurred_on__gte=start, incurred_on__lte=on
    ).aggregate(total=Sum("covered_cents"))["total"]
    return total or 0


@dataclass(frozen=True)
class CostSummary:
    total_cents: int
    covered_cents: int
    deductible_cents: int
    insured_share_cents: int
    per_claim_ceiling_cents: int | None
    per_claim_remaining_cents: int | None
    annual_ceiling_cents: int | None
    annual_remaining_cents: int | None
    threshold_cents: int = 0
    threshold_reached: bool = True
    subceilings: tuple[SubceilingUse, ...] = ()


def claim_cost_summary(*, claim: Claim, today: datetime.date) -> CostSummary:
    totals = claim.costs.aggregate(
        total=Sum("amount_cents"), covered=Sum("covered_cents"), deductible=Sum("deductible_cents")
    )
    total = totals["total"] or 0
    covered = totals["covered"] or 0
    per_claim = annual = per_claim_left = annual_left = None
    threshold = 0
    subceilings: tuple[SubceilingUse, ...] = ()
    if claim.policy is not None:
        terms = policy_terms(policy=claim.policy)
        threshold = terms.intervention_threshold_cents
        by_service = dict(
            claim.costs.order_by()
            .values("service")
            .annotate(t=Sum("covered_cents"))
            .values_list("service", "t")
        )
        subceilings = subceiling_uses(terms=terms, covered_by_service=by_service)
        per_claim = terms.per_claim_ceiling_cents
        annual = terms.annual_ceiling_cents
        if per_claim is not None:
            per_claim_left = max(0, per_claim - covered)
        if annual is not None:
            used = policy_year_covered_cents(policy=claim.policy, on=today)
            annual_left = max(0, annual - used)
    return CostSummary(
        total_cents=total,
        covered_cents=covered,
        deductible_cents=totals["deductible"] or 0,
        insured_share_cents=total - covered,
        per_claim_ceiling_cents=per_claim,
        per_claim_remaining_cents=per_claim_left,
        annual_ceiling_cents=annual,
        annual_remaining_cents=annual_left,
        threshold_cents=threshold,
        threshold_reached=total >= threshold,
        subceilings=subceilings,
    )


# --------------------------------------------------------------------------------------------
# Letter values
# --------------------------------------------------------------------------------------------


def _fmt(day: datetime.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def claim_passages_for_letters(*, claim: Claim) -> list[dict[str, Any]]:
    """Confirmed passages only: a letter quotes what the handler qualified, verbatim."""
    return [
        {
            "quote": p.quote,
            "qualification": p.qualification if p.confirmed_category else "",
            "legal_basis": p.legal_basis if p.confirmed_category else "",
        }
        for p in claim.passages.all()
    ]


def letter_values_auto(
    *, claim: Claim, kind: LetterKind, today: datetime.date, partner: Partner | None = None
) -> dict[str, Any]:
    """Values the claim already knows, under the dotted names of ``cover.letter_fields``.

    The doctor is the sender by default (capacity DOCTOR); a handler signing for the insurer
    switches the capacity and must then give the mandate (the spec requires it).
    """
    from wagtail.models import Site

    from cover.models import Branding

    doctor = claim.doctor
    user = doctor.user
    name = f"Dr {user.get_full_name()}".strip() if user.get_full_name() else user.email
    passages = claim_passages_for_letters(claim=claim)
    urls = list(claim.urls)
    published = _fmt(claim.publication_date)
    site = Site.objects.filter(is_default_site=True).first()
    insurer_name = Branding.for_site(site).display_name if site else ""
    capture_refs = [
        e.ref or e.note
        for e in claim.events.all()
        if e.kind in {ClaimEventKind.CAPTURE_DONE.value, TimelineKind.CAPTURE_REQUESTED.value}
    ]
    categories = claim_categories(claim=claim)
    values: dict[str, Any] = {
        "notice_date": _fmt(today),
        "letter_date": _fmt(today),
        "claim.reference": claim.reference,
        # Sender / notifier / requester: the doctor
        "notifier.name": name,
        "notifier.email": user.email,
        "notifier.capacity": SenderCapacity.DOCTOR.value,
        "notifier.postal_address": doctor.practice_address,
        "notifier.profession": f"Médecin ({doctor.specialty})" if doctor.specialty else "Médecin",
        "sender.name": name,
        "sender.capacity": SenderCapacity.DOCTOR.value,
        "requester.name": name,
        "requester.capacity": SenderCapacity.DOCTOR.value,
        "doctor.name": name,
        "doctor.rpps": doctor.rpps,
        "insured.name": name,
        "complainant.name": name,
        "data_subject.name": name,
        # The content
        "content.urls": urls,
        "listing.urls": urls,
        "result_urls": urls,
        "content.passages": passages,
        "content.author_pseudonym": claim.author_name,
        "content.display_date": published,
        "content.date": published,
        "content.publication_date": published,
        "content.discovery_date": _fmt(claim.seen_date),
        "message.references": f"Contenu mis en ligne le {published}" if published else "",
        "message.access_conditions": ", ".join(urls),
        "message.author_name": claim.author_name,
        "message.author_shown": bool(claim.author_name),
        "message.nature": "Écrit",
        "message.disputed_passages": [p["quote"] for p in passages],
        "message.publication_date": published,
        "recipient.name": claim.author_name,
        # Insurance
        "policy.number": claim.policy.number if claim.policy else "",
        "insurer.name": insurer_name,
        "facts": claim.description,
        "proposed_categories": [str(CATEGORY_RULES[c].label) for c in categories],
        # Constat
        "required_operations": [str(op) for op in CONSTAT_REQUIRED_OPERATIONS],
        "recommended_operations": [str(op) for op in CONSTAT_RECOMMENDED_OPERATIONS],
        "capture_reference": ", ".join(r for r in capture_refs if r),
        "compliance_deadline_days": 8,
        # Editable defaults for the wording a handler would otherwise retype every time.
        "demand": (
            "retirer les passages cités ci-dessus et ne pas les republier, sur quelque support "
            "que ce soit"
        ),
        "requested_action": (
            "Retrait des passages cités ou blocage de leur accès ; conservation des données "
            "permettant l'identification de leur auteur en vue d'une décision judiciaire."
        ),
        "urgency": "Le contenu peut être modifié ou retiré à tout moment.",
        "lawyer_choice": "L'assuré conserve le libre choix de son avocat (C. assur. L127-2-3).",
    }
    if partner is not None:
        office = partner.office or partner.name
        values["commissaire.office"] = f"{office} — {partner.name}, {partner.email}"
        values["commissaire.email"] = partner.email
    values.update(letter_default_values(kind=kind))
    return values


def letter_field_names(*, kind: LetterKind) -> list[str]:
    return [f.name for f in LETTER_SPECS[kind].fields]


def commissaires_active() -> QuerySet[Partner]:
    return partners_active(kind=PartnerKind.COMMISSAIRE)


def open_deadlines(*, deadlines: Iterable[Deadline]) -> list[Deadline]:
    return [d for d in deadlines if d.status is not DeadlineStatus.DONE]


def claim_capture_ids(*, claim: Claim) -> list[int]:
    """Ids of the captures requested for this claim, oldest first (from its timeline)."""
    refs = sorted(
        (e.pk, e.ref)
        for e in claim.events.all()  # prefetched on the claim pages: no query of its own
        if e.kind == TimelineKind.CAPTURE_REQUESTED and e.ref.startswith("capture-")
    )
    return [int(ref.split("-", 1)[1]) for _pk, ref in refs]


def claim_captures(*, claim: Claim) -> list:
    """The claim's captures, read through the evidence app's selectors."""
    from evidence.selectors import captures_all

    ids = claim_capture_ids(claim=claim)
    found = {capture.pk: capture for capture in captures_all().filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]


def partners_commissaires() -> QuerySet[Partner]:
    return Partner.objects.filter(kind=PartnerKind.COMMISSAIRE, active=True).order_by("name")


@dataclass(frozen=True)
class RefusalNotice:
    """What a doctor is told of a refused cover: the decision, the clause it applies and the
    routes to contest it (the insurer's complaint service, then the insurance mediator)."""

    reasons: tuple[str, ...]
    clause_lines: tuple[str, ...]
    decided_on: datetime.date | None
    complaint_contact: str
    mediator_name: str
    mediator_url: str
    mediator_address: str


def claim_refusal_notice(*, claim: Claim) -> RefusalNotice | None:
    """The refusal of ``claim`` as the doctor's page and e-mail show it; ``None`` unless the
    cover is refused. Complaint and mediation details come from the insurer's legal
    information (empty when the insurer has not filled them in)."""
    if claim.cover_status != CoverStatus.REFUSED:
        return None
    legal = legal_info_current()
    return RefusalNotice(
        reasons=tuple(str(r) for r in claim.cover_reasons),
        clause_lines=tuple(line for line in claim.cover_clause.splitlines() if line.strip()),
        decided_on=timezone.localdate(claim.cover_checked_at) if claim.cover_checked_at else None,
        complaint_contact=legal.complaint_service_contact.strip(),
        mediator_name=legal.mediator_name.strip(),
        mediator_url=legal.mediator_url.strip(),
        mediator_address=legal.mediator_address.strip(),
    )


def claim_of_doctor_by_reference(*, doctor: Doctor, reference: str) -> Claim | None:
    """The doctor's claim with this reference (another doctor's is ``None``, like a missing one)."""
    return Claim.objects.filter(doctor=doctor, reference=reference).first()


# --------------------------------------------------------------------------------------------
# The claim's captures: timeline outcomes, comparisons
# --------------------------------------------------------------------------------------------


class CaptureOutcomeKind:
    """Kinds of the computed timeline entries (never stored: not ``ClaimEvent`` choices)."""

    COMPLETED = "CAPTURE_COMPLETED"
    FAILED = "CAPTURE_FAILED"


@dataclass(frozen=True)
class CaptureTimelineEntry:
    """A capture's outcome on the claim's timeline, read like a ``ClaimEvent`` by templates."""

    kind: str
    date: datetime.date
    at: datetime.datetime
    capture: Any
    note: str
    label: str
    ref: str = ""
    visible_to_doctor: bool = True

    def get_kind_display(self) -> str:
        return self.label


def claim_capture_outcomes(*, captures: Sequence[Any]) -> list[CaptureTimelineEntry]:
    """One entry per finished capture: « Capture terminée » with its fingerprint, or « Échec de
    la capture » with its reason."""
    from django.utils.translation import gettext as _

    entries: list[CaptureTimelineEntry] = []
    for capture in captures:
        if capture.status not in (Capture.Status.COMPLETE, Capture.Status.FAILED):
            continue
        at = capture.finished_at or capture.created_at
        if capture.status == Capture.Status.COMPLETE:
            kind, label = CaptureOutcomeKind.COMPLETED, _("Capture terminée")
            note = _("n° %(id)s — %(url)s — empreinte %(hash)s") % {
                "id": capture.pk,
                "url": capture.url,
                "hash": capture.tagmanifest_sha256[:16] + "…",
            }
        else:
            kind, label = CaptureOutcomeKind.FAILED, _("Échec de la capture")
            note = _("n° %(id)s — %(url)s — %(reason)s") % {
                "id": capture.pk,
                "url": capture.url,
                "reason": capture.error or _("motif non précisé"),
            }
        entries.append(
            CaptureTimelineEntry(
                kind=kind,
                date=timezone.localdate(at),
                at=at,
                capture=capture,
                note=note,
                label=label,
                ref=f"capture-{capture.pk}",
            )
        )
    return entries


def _timeline_key(entry: ClaimEvent | CaptureTimelineEntry) -> tuple[datetime.date, Any]:
    if isinstance(entry, CaptureTimelineEntry):
        return (entry.date, entry.at)
    return (entry.date, entry.created_at)


def claim_capture(*, claim: Claim, capture_id: int, captures: Sequence[Any] | None = None) -> Any:
    """One of the claim's captures, or 404 (another claim's capture looks like a missing one)."""
    from django.http import Http404

    found = next(
        (
            c
            for c in (claim_captures(claim=claim) if captures is None else captures)
            if c.pk == capture_id
        ),
        None,
    )
    if found is None:
        raise Http404
    return found


def claim_capture_comparisons(*, captures: Sequence[Any]) -> list[tuple[Any, Any]]:
    """For each address captured completely at least twice: (earlier, latest) complete
    captures, the pair the claim page offers to compare."""
    by_url: dict[str, list[Any]] = {}
    for capture in captures:
        if capture.status == Capture.Status.COMPLETE:
            by_url.setdefault(capture.url, []).append(capture)
    pairs = []
    for same in by_url.values():
        if len(same) >= 2:
            ordered = sorted(
                same, key=lambda c: (c.gen_time or c.finished_at or c.created_at, c.pk)
            )
            pairs.append((ordered[-2], ordered[-1]))
    return pairs


def claim_captures_comparison(*, claim: Claim, first_id: int, second_id: int) -> CaptureComparison:
    """Two of the claim's captures compared, with the fate of each of the claim's recorded
    passages. 404 when either is not a capture of this claim; ``ValueError`` (French) when
    they cannot be compared; ``evidence.compare.BundleUnreadable`` when a bundle is unreadable.
    """
    captures = claim_captures(claim=claim)
    first = claim_capture(claim=claim, capture_id=first_id, captures=captures)
    second = claim_capture(claim=claim, capture_id=second_id, captures=captures)
    return captures_compare(
        first=first, second=second, passages=[p.quote for p in claim.passages.all()]
    )


def claim_captures_annex_pdf(*, claim: Claim, comparison: CaptureComparison) -> bytes:
    """The comparison as the PDF annex (« Exporter l'annexe »), titled with the claim."""
    from django.utils.translation import gettext as _

    return comparison_annex_pdf(
        comparison=comparison,
        subject=_("Sinistre %(ref)s") % {"ref": claim.reference},
    )
