"""``{{ amount_cents|euros }}``: an amount in cents shown in French (« 1 500,00 € »)."""

from __future__ import annotations

from django import template

from cover.claims.plan_terms import euros as euros_format

register = template.Library()


@register.filter
def euros(cents: int | None) -> str:
    """Empty for ``None`` (no amount / no limit: the template says which)."""
    return "" if cents is None or cents == "" else euros_format(int(cents))
