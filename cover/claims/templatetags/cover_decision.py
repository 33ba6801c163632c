"""The handler's cover-decision forms on the claim page (refuse with a clause, reverse)."""

from __future__ import annotations

from typing import Any

from django import template

from cover.claims.cover_admin_views import CoverRefuseForm, CoverReverseForm
from cover.claims.models import Claim, CoverStatus

register = template.Library()


@register.inclusion_tag("claims/admin/_cover_decision.html", takes_context=True)
def cover_decision_forms(context: Any, claim: Claim) -> dict[str, Any]:
    initial = {"reason": " ".join(claim.cover_reasons), "clause_code": claim.cover_clause_code}
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "claim": claim,
        "refused": claim.cover_status == CoverStatus.REFUSED,
        "refuse_form": CoverRefuseForm(claim=claim, initial=initial, prefix="refuse"),
        "reverse_form": CoverReverseForm(prefix="reverse"),
        "decisions": claim.cover_decisions.select_related("decided_by"),
    }
