"""Costs against the guarantee: what a claim and a policy year have used of the ceilings."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Sum

from cover.claims.models import Claim, Cost
from cover.claims.plan_terms import SubceilingUse, subceiling_uses
from cover.deadlines import date_add_months
from cover.models import Policy
from cover.selectors import policy_terms


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
