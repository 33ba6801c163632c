"""Clock engine: turn a claim's publication date, categories and dated events into deadlines.

Why: missing the loi 1881 limitation period (3 months from first publication) loses the case,
and amicable steps do not stop it. The engine makes every clock of DOMAIN §4.6 visible with its
due date, alert dates, legal basis and caveats, the nearest hard deadline first.

Calendar convention (DOMAIN §3.1 asks for a conservative reading because the day-precise
computation of "trois mois révolus" is [UNVERIFIED]):

- month/year addition keeps the day of the month; when the target month is shorter, the date
  is clamped to its last day (31 March + 3 months = 30 June; 29 Feb 2024 + 1 year = 28 Feb 2025),
  the earlier of the two possible readings. Months are always counted from the clock's own
  start date, never from an already clamped date: a GDPR request received on 31 January with
  the two-month extension is due 31 January + 3 months = 30 April, not 28 Feb + 2 = 28 April;
- limitation and action windows then subtract one day (``end_offset_days = -1``), so
  T_pub 15 January → hard deadline 14 April; T_pub 30 November 2024 → 27 February 2025;
- waiting windows (the other party's time) are not shortened;
- working days are Monday to Friday except French public holidays, from the ``holidays``
  package, for the insurer's calendar (metropolitan France by default; Alsace-Moselle and the
  overseas departments add their local holidays);
- a hard deadline is never extended when it falls on a Saturday, Sunday or public holiday:
  the legal date is kept and the deadline also gives the last working day before it
  (``act_by_date``, « à accomplir avant le … »). DOMAIN.md says nothing of prorogation for
  press-law prescription, so the engine takes the reading that cannot make the claimant late.

Clocks from acts: a waiting window that legally starts on the other party's receipt (GDPR
request, de-referencing request, CNIL complaint, mise en demeure) starts provisionally on the
sending date while the receipt is not recorded (``ClockRule.provisional_start_event``): sending
comes first, so the window cannot end later than the true one. A mise en demeure's cure period
is the one the letter itself sets (``ClaimEvent.period``). A republication opens a new period of
the press-law clocks for the republished content (``ClockRule.reopened_by``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from cover.legal_calendar import (
    date_add_duration,
    date_add_months,
    duration_months,
    is_working_day,
    last_working_day_before,
)
from cover.legal_calendar import date_add_working_days as date_add_working_days  # re-exported
from cover.rules import (
    CATEGORY_RULES,
    PRESS_LIMITATION_CLOCK_IDS,
    AlertAnchor,
    Caveat,
    ClaimEventKind,
    ClaimFact,
    ClockKind,
    ClockRule,
    Confidence,
    ContentCategory,
    Duration,
    DurationUnit,
    HolidayCalendar,
    _,
    clock_rules_with_overrides,
)


@dataclass(frozen=True)
class ClaimEvent:
    """A dated fact on a claim. ``ref`` separates parallel procedures (two controllers...).

    ``period`` is the time an act gives the other party by its own terms (the cure period a
    mise en demeure sets): on the event that starts a clock, it replaces the rule's duration.
    """

    kind: ClaimEventKind
    date: date
    ref: str = ""
    period: Duration | None = None


class DeadlineStatus(StrEnum):
    OK = "ok"
    ALERT = "alert"
    OVERDUE = "overdue"
    DONE = "done"  # the clock was satisfied (e.g. lawyer engaged, answer received)


@dataclass(frozen=True)
class Deadline:
    clock_id: str
    label: str
    kind: ClockKind
    hard: bool
    ref: str
    categories: tuple[ContentCategory, ...]
    start_date: date
    due_date: date
    days_left: int
    alert_dates: tuple[date, ...]
    status: DeadlineStatus
    legal_basis: str
    confidence: tuple[Confidence, ...]
    caveats: tuple[Caveat, ...]
    interrupted_on: tuple[date, ...] = ()
    extended: bool = False
    overridden_fields: tuple[str, ...] = ()
    # Hard deadline on a Saturday, Sunday or public holiday: the last working day before it.
    # The legal ``due_date`` is kept (never extended); ``None`` when it is a working day.
    act_by_date: date | None = None
    # Started from the sending because the receipt is not recorded yet (conservative).
    provisional_start: bool = False
    # A clock reopened for republished content: the republication date, else ``None``.
    republished_on: date | None = None


def clock_due_date(
    *,
    rule: ClockRule,
    start: date,
    extended: bool = False,
    holiday_calendar: HolidayCalendar = HolidayCalendar.METROPOLE,
) -> date:
    """Due date of one clock period started on ``start``, with its extension if granted.

    Month-based periods are added to ``start`` in one go (1 month + 2 months = 3 months from
    ``start``): chaining would carry a month-end clamp forward (31 Jan → 28 Feb → 28 Apr).
    """
    base_months = duration_months(rule.duration)
    if extended and rule.extension is not None:
        extra_months = duration_months(rule.extension.extra)
        if base_months is not None and extra_months is not None:
            end = date_add_months(start=start, months=base_months + extra_months)
        else:
            end = date_add_duration(
                start=start, duration=rule.duration, holiday_calendar=holiday_calendar
            )
            end = date_add_duration(
                start=end, duration=rule.extension.extra, holiday_calendar=holiday_calendar
            )
    else:
        end = date_add_duration(
            start=start, duration=rule.duration, holiday_calendar=holiday_calendar
        )
    return end + timedelta(days=rule.end_offset_days)


def clock_worst_case_end(
    *, rule: ClockRule, start: date, holiday_calendar: HolidayCalendar = HolidayCalendar.METROPOLE
) -> date:
    """Latest end of a waiting window started on ``start`` (with any allowed extension)."""
    return clock_due_date(
        rule=rule,
        start=start,
        extended=rule.extension is not None,
        holiday_calendar=holiday_calendar,
    )


# --------------------------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------------------------


def clocks_for_categories(
    *, categories: Iterable[ContentCategory], facts: Iterable[ClaimFact] = ()
) -> dict[str, tuple[ContentCategory, ...]]:
    """Category-linked clocks that apply, with the categories that triggered each one."""
    fact_set = frozenset(facts)
    applied: dict[str, list[ContentCategory]] = {}
    for category in dict.fromkeys(categories):
        for link in CATEGORY_RULES[category].clocks:
            if link.requires_fact is not None and link.requires_fact not in fact_set:
                continue
            if link.unless_fact is not None and link.unless_fact in fact_set:
                continue
            applied.setdefault(link.clock_id, []).append(category)
    return {clock_id: tuple(cats) for clock_id, cats in applied.items()}


_CATEGORY_LINKED_CLOCK_IDS: frozenset[str] = frozenset(
    link.clock_id for rule in CATEGORY_RULES.values() for link in rule.clocks
)

_OVERRIDE_CAVEAT = _("Valeur modifiée par la configuration de l'assureur : {fields}.")
_ACT_BY_CAVEAT = _(
    "Échéance légale le {due}, jour non ouvré : le délai n'est pas prorogé, à accomplir avant "
    "le {act_by}."
)
_LATE_EXTENSION_CAVEAT = _(
    "Prolongation notifiée après le premier délai : non prise en compte (RGPD art. 12(3))."
)
_PROVISIONAL_START_CAVEAT = _(
    "Date de réception non enregistrée : délai compté, par prudence, à partir de l'envoi du "
    "{sent}. Enregistrez la date de réception pour obtenir l'échéance exacte."
)
_OWN_PERIOD_CAVEAT = _("Délai fixé par le courrier lui-même : {amount} {unit}.")
_REPUBLICATION_CAVEAT = _(
    "Nouveau délai ouvert par la republication du {day} pour le contenu republié ; le délai de "
    "la première publication continue de courir de son côté."
)
_UNIT_WORDS: Mapping[DurationUnit, tuple[str, str]] = {
    DurationUnit.DAYS: (_("jour"), _("jours")),
    DurationUnit.WORKING_DAYS: (_("jour ouvré"), _("jours ouvrés")),
    DurationUnit.MONTHS: (_("mois"), _("mois")),
    DurationUnit.YEARS: (_("an"), _("ans")),
}


def _alert_dates(*, rule: ClockRule, start: date, due: date) -> tuple[date, ...]:
    dates = set()
    for alert in rule.alerts:
        if alert.anchor is AlertAnchor.START:
            when = start + timedelta(days=alert.days)
        else:
            when = due - timedelta(days=alert.days)
        if start <= when <= due:
            dates.add(when)
    return tuple(sorted(dates))


def _status(*, done: bool, today: date, due: date, alerts: tuple[date, ...]) -> DeadlineStatus:
    if done:
        return DeadlineStatus.DONE
    if today > due:
        return DeadlineStatus.OVERDUE
    if any(alert <= today for alert in alerts):
        return DeadlineStatus.ALERT
    return DeadlineStatus.OK


@dataclass(frozen=True)
class _ClockContext:
    """What every instance of one clock of a claim is computed against."""

    events: tuple[ClaimEvent, ...]
    today: date
    overridden: tuple[str, ...]
    holiday_calendar: HolidayCalendar


def _compute_one(
    *,
    rule: ClockRule,
    start: date,
    ref: str,
    match_ref: bool,
    categories: tuple[ContentCategory, ...],
    ctx: _ClockContext,
    provisional_start: bool = False,
    republished_on: date | None = None,
    extra_caveats: tuple[Caveat, ...] = (),
) -> Deadline:
    def concerns(event: ClaimEvent) -> bool:
        return event.date >= start and (not match_ref or event.ref == ref)

    calendar_ = ctx.holiday_calendar
    caveats = [*rule.caveats, *extra_caveats]
    extended, late_extension = _extension(
        rule=rule,
        start=start,
        events=[e for e in ctx.events if concerns(e)],
        holiday_calendar=calendar_,
    )
    if late_extension:
        caveats.append(Caveat(Confidence.TEXT, _LATE_EXTENSION_CAVEAT))
    due = clock_due_date(rule=rule, start=start, extended=extended, holiday_calendar=calendar_)
    period_start, due, interrupted_on = _interruptions(
        rule=rule, start=start, due=due, events=ctx.events, holiday_calendar=calendar_
    )

    done = any(e.kind in rule.satisfied_by and concerns(e) for e in ctx.events)
    alerts = _alert_dates(rule=rule, start=period_start, due=due)
    if ctx.overridden:
        fields = ", ".join(ctx.overridden)
        caveats.append(Caveat(Confidence.UNVERIFIED, _OVERRIDE_CAVEAT.format(fields=fields)))
    act_by: date | None = None
    if rule.hard and not is_working_day(day=due, holiday_calendar=calendar_):
        act_by = last_working_day_before(day=due, holiday_calendar=calendar_)
        caveats.append(
            Caveat(
                Confidence.UNVERIFIED,
                _ACT_BY_CAVEAT.format(
                    due=due.strftime("%d/%m/%Y"), act_by=act_by.strftime("%d/%m/%Y")
                ),
            )
        )
    return Deadline(
        clock_id=rule.id,
        label=rule.label,
        kind=rule.kind,
        hard=rule.hard,
        ref=ref,
        categories=categories,
        start_date=period_start,
        due_date=due,
        days_left=(due - ctx.today).days,
        alert_dates=alerts,
        status=_status(done=done, today=ctx.today, due=due, alerts=alerts),
        legal_basis=rule.legal_basis,
        confidence=rule.confidence,
        caveats=tuple(caveats),
        interrupted_on=tuple(interrupted_on),
        extended=extended,
        overridden_fields=ctx.overridden,
        act_by_date=act_by,
        provisional_start=provisional_start,
        republished_on=republished_on,
    )


def _extension(
    *,
    rule: ClockRule,
    start: date,
    events: list[ClaimEvent],
    holiday_calendar: HolidayCalendar,
) -> tuple[bool, bool]:
    """Whether the clock is extended (its extension event, among the events that concern this
    instance, came in time), and whether one came too late to extend it."""
    if rule.extension is None:
        return False, False
    dates = [e.date for e in events if e.kind is rule.extension.event]
    base_due = clock_due_date(rule=rule, start=start, holiday_calendar=holiday_calendar)
    if any(d <= base_due for d in dates):
        return True, False
    return False, bool(dates)


def _interruptions(
    *,
    rule: ClockRule,
    start: date,
    due: date,
    events: tuple[ClaimEvent, ...],
    holiday_calendar: HolidayCalendar,
) -> tuple[date, date, list[date]]:
    """The period's start and due date after the acts that interrupted it, and those acts'
    dates.

    Interruption restarts the period from the act, but only while the clock is still running:
    an act after the due date cannot revive a lapsed limitation period.
    """
    period_start = start
    interrupted_on: list[date] = []
    restart_rule = dataclasses.replace(
        rule, duration=rule.restart_duration or rule.duration, extension=None
    )
    for event in sorted(
        (e for e in events if e.kind in rule.interrupted_by and e.date >= start),
        key=lambda e: e.date,
    ):
        if event.date <= due:
            period_start = event.date
            due = clock_due_date(
                rule=restart_rule, start=event.date, holiday_calendar=holiday_calendar
            )
            interrupted_on.append(event.date)
    return period_start, due, interrupted_on


_KIND_RANK: Mapping[ClockKind, int] = {
    ClockKind.LIMITATION: 0,
    ClockKind.MILESTONE: 1,
    ClockKind.ACTION_WINDOW: 2,
    ClockKind.WAITING_WINDOW: 3,
}


def deadline_sort_key(deadline: Deadline) -> tuple[Any, ...]:
    """Open deadlines first; among them hard before soft; then the nearest due date.

    On the same day a limitation period comes before a milestone or an action window.
    """
    return (
        deadline.status is DeadlineStatus.DONE,
        not deadline.hard,
        deadline.due_date,
        _KIND_RANK[deadline.kind],
        deadline.clock_id,
        deadline.ref,
    )


def _event_starts(
    *, rule: ClockRule, events: tuple[ClaimEvent, ...]
) -> dict[str, tuple[ClaimEvent, bool, Duration | None]]:
    """Per ref: the event that starts ``rule``, whether it is the provisional one (sending,
    receipt unknown), and the period the act set by its own terms, if any.

    The recorded start (receipt) wins over the provisional one (sending) for the same ref.
    """
    confirmed: dict[str, ClaimEvent] = {}
    provisional: dict[str, ClaimEvent] = {}
    for event in events:
        if event.kind is rule.start_event:
            target = confirmed
        elif rule.provisional_start_event is not None and (
            event.kind is rule.provisional_start_event
        ):
            target = provisional
        else:
            continue
        current = target.get(event.ref)
        if current is None or event.date < current.date:
            target[event.ref] = event
    starts: dict[str, tuple[ClaimEvent, bool, Duration | None]] = {}
    for ref, event in provisional.items():
        if ref not in confirmed:
            starts[ref] = (event, True, event.period)
    for ref, event in confirmed.items():
        period = event.period or (provisional[ref].period if ref in provisional else None)
        starts[ref] = (event, False, period)
    return starts


def deadlines_compute(
    *,
    publication_date: date,
    categories: Iterable[ContentCategory],
    events: Iterable[ClaimEvent],
    today: date,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    facts: Iterable[ClaimFact] = (),
    holiday_calendar: HolidayCalendar = HolidayCalendar.METROPOLE,
) -> list[Deadline]:
    """Every running clock of the claim, nearest open hard deadline first.

    ``publication_date`` is T_pub, the first making available online; when uncertain the caller
    passes the earliest plausible date (DOMAIN §3). Clocks started by T_pub apply through the
    categories (DOMAIN §3 table); clocks started by an event (GDPR receipt, DSA notice...) apply
    as soon as that event is recorded, one deadline per event ``ref``.

    ``overrides`` maps a clock id to replaced ``ClockRule`` fields, for [UNVERIFIED] or
    [CONFLICT] values; the deadline then lists the changed fields and says so in a caveat.
    ``holiday_calendar`` is the insurer's public-holiday calendar for working days and for the
    « à accomplir avant le » date of a hard deadline on a non-working day.
    """
    event_list = tuple(events)
    if publication_date > today:
        raise ValueError("publication_date is after today")
    future = [e for e in event_list if e.date > today]
    if future:
        raise ValueError(f"events dated after today: {[e.kind.value for e in future]}")

    rules, changed = clock_rules_with_overrides(overrides=overrides)
    linked = clocks_for_categories(categories=categories, facts=facts)
    deadlines: list[Deadline] = []
    for clock_id, rule in rules.items():
        ctx = _ClockContext(
            events=event_list,
            today=today,
            overridden=changed.get(clock_id, ()),
            holiday_calendar=holiday_calendar,
        )
        if clock_id not in _CATEGORY_LINKED_CLOCK_IDS:
            deadlines += _event_deadlines(rule=rule, ctx=ctx)
        elif clock_id in linked:
            deadlines += _category_deadlines(
                rule=rule, publication_date=publication_date, categories=linked[clock_id], ctx=ctx
            )
    deadlines.sort(key=deadline_sort_key)
    return deadlines


def _category_deadlines(
    *,
    rule: ClockRule,
    publication_date: date,
    categories: tuple[ContentCategory, ...],
    ctx: _ClockContext,
) -> list[Deadline]:
    """A clock that the content's categories make apply: one period from T_pub (or from its
    start event), and a new period for each republication of the content."""
    if rule.start_event is None:
        start: date | None = publication_date
    else:
        start = min((e.date for e in ctx.events if e.kind is rule.start_event), default=None)
    if start is None:
        return []
    deadlines = [
        _compute_one(
            rule=rule, start=start, ref="", match_ref=False, categories=categories, ctx=ctx
        )
    ]
    # Republished content: a new period of the same clock, from its own date.
    for day, ref in sorted({(e.date, e.ref) for e in ctx.events if e.kind in rule.reopened_by}):
        caveat = Caveat(Confidence.SEC, _REPUBLICATION_CAVEAT.format(day=day.strftime("%d/%m/%Y")))
        deadlines.append(
            _compute_one(
                rule=rule,
                start=day,
                ref=ref or f"republication-{day.isoformat()}",
                match_ref=False,
                categories=categories,
                ctx=ctx,
                republished_on=day,
                extra_caveats=(caveat,),
            )
        )
    return deadlines


def _event_deadlines(*, rule: ClockRule, ctx: _ClockContext) -> list[Deadline]:
    """A clock started by an event (a receipt, a sending): one deadline per event ``ref``."""
    deadlines: list[Deadline] = []
    for ref, (start_event, provisional, period) in _event_starts(
        rule=rule, events=ctx.events
    ).items():
        extra: list[Caveat] = []
        instance_rule = rule
        if period is not None:
            instance_rule = dataclasses.replace(rule, duration=period)
            unit = _UNIT_WORDS[period.unit][period.amount > 1]
            extra.append(
                Caveat(Confidence.TEXT, _OWN_PERIOD_CAVEAT.format(amount=period.amount, unit=unit))
            )
        if provisional:
            sent = start_event.date.strftime("%d/%m/%Y")
            extra.append(Caveat(Confidence.UNVERIFIED, _PROVISIONAL_START_CAVEAT.format(sent=sent)))
        deadlines.append(
            _compute_one(
                rule=instance_rule,
                start=start_event.date,
                ref=ref,
                match_ref=True,
                categories=(),
                ctx=ctx,
                provisional_start=provisional,
                extra_caveats=tuple(extra),
            )
        )
    return deadlines


def deadlines_press_limit(*, deadlines: Iterable[Deadline]) -> Deadline | None:
    """The nearest open loi 1881 limitation deadline: no waiting window may run past it.

    A clock already overdue gives way to one of the same kind still running (a republication
    opens a new one for the republished content); alone, the overdue one is returned.
    """
    press = [
        d
        for d in deadlines
        if d.clock_id in PRESS_LIMITATION_CLOCK_IDS and d.status is not DeadlineStatus.DONE
    ]
    running = {d.clock_id for d in press if d.status is not DeadlineStatus.OVERDUE}
    press = [
        d for d in press if d.status is not DeadlineStatus.OVERDUE or d.clock_id not in running
    ]
    return min(press, key=lambda d: d.due_date, default=None)
