"""The one way to show money and dates in French: letters, certificates, notes, admin pages.

Amounts are stored in euro cents; they read as CLDR's French does (Django's ``fr`` formats): a
narrow no-break space between thousands, a comma before the cents, a no-break space before the
sign: « 1 234,50 € ». Dates read « 12 mars 2026 » (``date_fr``) or « 12/03/2026 »
(``date_short``). Templates use the same functions through ``{% load egide_format %}``.
"""

from __future__ import annotations

import datetime

from django.utils import dateformat, translation

NBSP = "\u00a0"  # between the amount and « € »
NNBSP = "\u202f"  # between groups of thousands


def euros(cents: int | None) -> str:
    """« 1 234,50 € » for 123 450 cents, « -9,90 € » for -990; empty for ``None``."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}".replace(",", NNBSP) + f",{rest:02d}{NBSP}€"


def number_fr(value: float) -> str:
    """« 4 » for a whole number, else one decimal with a comma: « 4,5 » (ratings, counts)."""
    return f"{value:.0f}" if value % 1 == 0 else f"{value:.1f}".replace(".", ",")


def date_fr(day: datetime.date | None) -> str:
    """« 12 mars 2026 » (French month names whatever language is active); empty for ``None``."""
    if day is None:
        return ""
    with translation.override("fr"):
        return dateformat.format(day, "j F Y")


def date_short(day: datetime.date | None) -> str:
    """« 12/03/2026 »; empty for ``None``."""
    return day.strftime("%d/%m/%Y") if day else ""
