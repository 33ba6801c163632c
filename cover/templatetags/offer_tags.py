"""Helpers for the offer comparison table."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def with_plans(values: list[Any], plans: list[Any]) -> list[tuple[Any, Any]]:
    """``(plan, value)`` pairs of one comparison row, so each cell can carry its plan's name
    (the table is read as stacked cards on a phone)."""
    return list(zip(plans, values, strict=False))
