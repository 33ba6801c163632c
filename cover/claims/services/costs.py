"""Costs recorded against a claim and allocated to the plan's ceilings."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from common.formatting import date_short
from cover.claims import plan_terms
from cover.claims.models import Claim, Cost, CostKind, CoverStatus, Partner
from cover.claims.selectors.costs import policy_year_covered_cents
from cover.claims.services.common import ClaimActionRefused, _today
from cover.selectors import policy_terms
from cover.terms import Terms


@transaction.atomic
def cost_record(
    *,
    claim: Claim,
    kind: CostKind,
    amount_cents: int,
    incurred_on: datetime.date,
    label: str,
    by: User,
    partner: Partner | None = None,
    service: str | None = None,
    today: datetime.date | None = None,
) -> Cost:
    """Record a fee and the part the guarantee pays under the plan's terms
    (``plan_terms.cost_allocate``: intervention threshold, deductible once per claim, then what
    is left of the service's sub-ceiling, the per-claim and the annual ceilings). Why a fee is
    only partly paid is kept on it. Nothing is paid on a claim whose cover is not confirmed.

    ``service`` defaults to the provider's usual service (commissaire → constat, avocat →
    lawyer's fees). The fee that brings the claim's fees to the intervention threshold makes
    the fees held back below it payable too, in the order they were incurred."""
    today = _today(today)
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    kind_value = kind.value if isinstance(kind, CostKind) else kind
    service = service or plan_terms.SERVICE_BY_COST_KIND.get(kind_value, plan_terms.SERVICE_OTHER)
    errors = []
    if amount_cents <= 0:
        errors.append(_("Le montant doit être positif."))
    if incurred_on > today:
        errors.append(_("La date des frais ne peut pas être dans le futur."))
    if not label.strip():
        errors.append(_("Indiquez un libellé."))
    if service not in plan_terms.SERVICE_LABELS:
        errors.append(_("Choisissez le service auquel se rattachent les frais."))
    if errors:
        raise ClaimActionRefused(errors)
    cost = Cost(
        claim=claim,
        kind=kind_value,
        service=service,
        partner=partner,
        label=label.strip(),
        amount_cents=amount_cents,
        covered_cents=0,
        deductible_cents=0,
        incurred_on=incurred_on,
        recorded_by=by,
    )
    if claim.cover_status == CoverStatus.COVERED and claim.policy is not None:
        terms = policy_terms(policy=claim.policy)
        earlier = list(claim.costs.order_by("incurred_on", "pk"))
        stake = sum(c.amount_cents for c in earlier) + amount_cents
        threshold = terms.intervention_threshold_cents
        if threshold and stake - amount_cents < threshold <= stake:
            # Every fee recorded since the cover was confirmed was held back by the threshold
            # (the stake only grows and the policy's terms are frozen): it becomes payable.
            for held in earlier:
                if held.covered_cents or held.deductible_cents:
                    continue
                if claim.cover_checked_at and held.created_at < claim.cover_checked_at:
                    continue
                _cost_allocate(cost=held, terms=terms, stake=stake)
                reached = _("Seuil d'intervention atteint le %(day)s : frais pris en charge.")
                held.cover_notes = [reached % {"day": date_short(incurred_on)}, *held.cover_notes]
                held.save(update_fields=["covered_cents", "deductible_cents", "cover_notes"])
        _cost_allocate(cost=cost, terms=terms, stake=stake)
    cost.save()
    return cost


def _cost_allocate(*, cost: Cost, terms: Terms, stake: int) -> None:
    claim, policy = cost.claim, cost.claim.policy
    assert policy is not None
    others = claim.costs.exclude(pk=cost.pk) if cost.pk else claim.costs.all()
    same_service = others.filter(service=cost.service)
    usage = plan_terms.CostUsage(
        stake_cents=stake,
        deductible_used_cents=others.aggregate(t=Sum("deductible_cents"))["t"] or 0,
        claim_covered_cents=others.aggregate(t=Sum("covered_cents"))["t"] or 0,
        service_covered_cents=same_service.aggregate(t=Sum("covered_cents"))["t"] or 0,
        year_covered_cents=policy_year_covered_cents(policy=policy, on=cost.incurred_on),
    )
    allocation = plan_terms.cost_allocate(
        amount_cents=cost.amount_cents, service=cost.service, terms=terms, usage=usage
    )
    cost.covered_cents = allocation.covered_cents
    cost.deductible_cents = allocation.deductible_cents
    cost.cover_notes = list(allocation.notes)
