"""Calendar arithmetic of legal periods: calendar months clamped to a shorter month, working
days without the insurer's public holidays (``holidays`` package), and the last working day
before a date. The convention and its reasons are in ``cover.deadlines``.
"""

from __future__ import annotations

import calendar
import functools
from datetime import date, timedelta

import holidays

from cover.rules import HOLIDAY_SUBDIVISIONS, Duration, DurationUnit, HolidayCalendar


def date_add_months(*, start: date, months: int) -> date:
    """Add calendar months, clamping to the last day of a shorter target month."""
    index = start.month - 1 + months
    year, month0 = divmod(index, 12)
    year += start.year
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(start.day, last_day))


@functools.cache
def _public_holidays(holiday_calendar: HolidayCalendar, year: int) -> frozenset[date]:
    subdiv = HOLIDAY_SUBDIVISIONS[holiday_calendar]
    return frozenset(holidays.country_holidays("FR", subdiv=subdiv, years=year))


def is_working_day(
    *, day: date, holiday_calendar: HolidayCalendar = HolidayCalendar.METROPOLE
) -> bool:
    """Monday to Friday and not a public holiday of ``holiday_calendar``."""
    return day.weekday() < 5 and day not in _public_holidays(holiday_calendar, day.year)


def date_add_working_days(
    *, start: date, days: int, holiday_calendar: HolidayCalendar = HolidayCalendar.METROPOLE
) -> date:
    """Add working days: weekends and the calendar's public holidays are skipped."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(day=current, holiday_calendar=holiday_calendar):
            remaining -= 1
    return current


def last_working_day_before(
    *, day: date, holiday_calendar: HolidayCalendar = HolidayCalendar.METROPOLE
) -> date:
    """The nearest working day strictly before ``day``."""
    current = day - timedelta(days=1)
    while not is_working_day(day=current, holiday_calendar=holiday_calendar):
        current -= timedelta(days=1)
    return current


def duration_months(duration: Duration) -> int | None:
    """The duration in calendar months (a year is 12), or ``None`` for a count of days."""
    if duration.unit is DurationUnit.MONTHS:
        return duration.amount
    if duration.unit is DurationUnit.YEARS:
        return 12 * duration.amount
    return None


def date_add_duration(
    *,
    start: date,
    duration: Duration,
    holiday_calendar: HolidayCalendar = HolidayCalendar.METROPOLE,
) -> date:
    if duration.unit is DurationUnit.DAYS:
        return start + timedelta(days=duration.amount)
    if duration.unit is DurationUnit.WORKING_DAYS:
        return date_add_working_days(
            start=start, days=duration.amount, holiday_calendar=holiday_calendar
        )
    return date_add_months(start=start, months=duration_months(duration) or 0)
