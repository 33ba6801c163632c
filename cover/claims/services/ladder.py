"""Moves on the claim's ladder, checked by the ladder's guards."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from cover.claims.models import Claim, TimelineKind, Transition
from cover.claims.selectors.engine import (
    claim_categories,
    claim_facts,
    claim_gate_events,
    claim_gate_overrides,
)
from cover.claims.services.common import ClaimActionRefused, _timeline_add, _today
from cover.claims.services.deadlines import claim_deadlines_refresh
from cover.ladder import STATE_LABELS, LadderState, TransitionCheck, ladder_check_transition
from cover.rules import ROUTE_RULES, Route


@transaction.atomic
def claim_transition(
    *,
    claim: Claim,
    to_state: LadderState,
    by: User,
    reason: str,
    route: Route | None = None,
    today: datetime.date | None = None,
) -> Transition:
    """Move the claim on the ladder if every guard passes; audited (who, when, why)."""
    today = _today(today)
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if not reason.strip():
        raise ClaimActionRefused([_("Indiquez le motif du changement d'étape.")])
    check = ladder_check_transition(
        from_state=LadderState(claim.state),
        to_state=to_state,
        publication_date=claim.publication_date,
        categories=claim_categories(claim=claim),
        today=today,
        route=route,
        facts=claim_facts(claim=claim),
        events=claim_gate_events(claim=claim),
        overrides=claim_gate_overrides(claim=claim),
    )
    _check_raise(check)
    return _transition_record(
        claim=claim, to_state=to_state, route=route, reason=reason, check=check, by=by, today=today
    )


def _check_raise(check: TransitionCheck) -> None:
    """The one refusal of the gate: every blocking reason, in French, as the ladder words it."""
    if not check.allowed:
        raise ClaimActionRefused([str(f.message) for f in check.blocked])


def _transition_record(
    *,
    claim: Claim,
    to_state: LadderState,
    route: Route | None,
    reason: str,
    check: TransitionCheck,
    by: User,
    today: datetime.date,
) -> Transition:
    transition = Transition.objects.create(
        claim=claim,
        from_state=claim.state,
        to_state=to_state.value,
        route=route.value if route else "",
        reason=reason.strip(),
        warnings=[str(w.message) for w in check.warnings],
        actor=by,
    )
    claim.state = to_state.value
    claim.save(update_fields=["state", "updated_at"])
    label = str(STATE_LABELS[to_state])
    if route is not None:
        label = f"{label} — {ROUTE_RULES[route].label}"
    _timeline_add(claim=claim, kind=TimelineKind.STEP_CHANGED, by=by, date=today, note=label)
    claim_deadlines_refresh(claim=claim, today=today)
    return transition
