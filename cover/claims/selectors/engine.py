"""What the engines are fed with: a claim's categories, facts and events, its publication
estimate, the clock configuration and overrides, its deadlines and ladder options.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from wagtail.models import Site

from cover.claims.models import Claim, Letter, PublicationDateChange, PublicationDateSource
from cover.claims.selectors.captures import claim_capture_ids, claim_captures
from cover.deadlines import ClaimEvent as EngineEvent
from cover.deadlines import (
    Deadline,
    DeadlineStatus,
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
from cover.letter_fields import LetterKind
from cover.models import ClockSettings
from cover.rules import (
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
from cover.selectors import policy_terms
from evidence.models import Capture
from evidence.selectors import captures_all

ENGINE_EVENT_KINDS = frozenset(k.value for k in ClaimEventKind)


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


def open_deadlines(*, deadlines: Iterable[Deadline]) -> list[Deadline]:
    return [d for d in deadlines if d.status is not DeadlineStatus.DONE]
