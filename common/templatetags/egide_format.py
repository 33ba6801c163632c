"""``{{ amount_cents|euros }}``, ``{{ day|date_fr }}``, ``{{ day|date_short }}``: the filters of
``common.formatting`` (« 1 234,50 € », « 12 mars 2026 », « 12/03/2026 »)."""

from __future__ import annotations

import datetime

from django import template

from common import formatting

register = template.Library()


@register.filter
def euros(cents: int | str | None) -> str:
    """Empty for ``None`` or ``""`` (no amount / no limit: the template says which)."""
    return "" if cents is None or cents == "" else formatting.euros(int(cents))


@register.filter
def date_fr(day: datetime.date | None) -> str:
    return formatting.date_fr(day)


@register.filter
def date_short(day: datetime.date | None) -> str:
    return formatting.date_short(day)
