"""The gate judges an act with the clocks the claim really has: a mise en demeure's own cure
period (not the default 8 days) against the press-law deadline, and a republication's running
press clock against the « prescription dépassée » warning."""

from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import tenant_context

from cover.claims.selectors.engine import (
    claim_categories,
    claim_facts,
    claim_gate_events,
    claim_gate_overrides,
)
from cover.claims.services.events import claim_republication_record
from cover.claims.services.letters import letter_act_check
from cover.ladder import LadderState, ladder_check_transition
from cover.letter_fields import LetterKind
from cover.rules import ClaimEventKind
from tests.cover.claims_factories import claim_with_proof, handler_create

pytestmark = pytest.mark.django_db
D = datetime.date


def _guard_ids(failures) -> set[str]:
    return {failure.guard_id for failure in failures}


def test_the_cure_period_the_letter_gives_is_the_wait_the_gate_weighs(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given defamation published on 15 Jan 2025 (press-law deadline 14 Apr), proof done
        claim = claim_with_proof(
            publication_date=D(2025, 1, 15), seen_date=D(2025, 3, 1), today=D(2025, 3, 12)
        )
        today = D(2025, 3, 20)
        # when the mise en demeure gives 8 days, the wait ends well before 14 Apr
        short = letter_act_check(
            claim=claim,
            kind=LetterKind.MISE_EN_DEMEURE,
            today=today,
            values={"compliance_deadline_days": 8},
        )
        assert "WAIT_WITHIN_PRESS_DEADLINE" not in _guard_ids(short.blocked)
        # when it gives 40 days, the wait would run past the deadline: refused, in French
        long = letter_act_check(
            claim=claim,
            kind=LetterKind.MISE_EN_DEMEURE,
            today=today,
            values={"compliance_deadline_days": 40},
        )
        wait = [f for f in long.blocked if f.guard_id == "WAIT_WITHIN_PRESS_DEADLINE"]
        assert len(wait) == 1
        assert "14/04/2025" in str(wait[0].message)
        assert "29/04/2025" in str(wait[0].message)


def _litigation_warnings(claim, today: D) -> set[str]:
    check = ladder_check_transition(
        from_state=LadderState(claim.state),
        to_state=LadderState.LITIGATION,
        publication_date=claim.publication_date,
        categories=claim_categories(claim=claim),
        today=today,
        facts=claim_facts(claim=claim),
        events=claim_gate_events(claim=claim),
        overrides=claim_gate_overrides(claim=claim),
    )
    return _guard_ids(check.warnings)


def test_a_running_republication_clock_keeps_the_action_open(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_with_proof(
            publication_date=D(2025, 1, 15), seen_date=D(2025, 1, 20), today=D(2025, 1, 20)
        )
        # on 1 May 2025 the first publication's press clock (14 Apr) has lapsed
        assert "PRESS_LIMIT_PASSED" in _litigation_warnings(claim, D(2025, 5, 1))
        # when the content was republished on 1 Mar 2025 (new clock until 31 May)
        claim_republication_record(
            claim=claim,
            date=D(2025, 3, 1),
            url="http://127.0.0.1:9/avis-bis",
            note="Avis recopié",
            by=handler_create(),
            today=D(2025, 3, 2),
        )
        claim.refresh_from_db()
        assert claim.events.filter(kind=ClaimEventKind.CONTENT_REPUBLISHED).count() == 1
        # then suing on the republished content is still possible: no « prescrite » warning
        assert "PRESS_LIMIT_PASSED" not in _litigation_warnings(claim, D(2025, 5, 1))
        # and once that clock has lapsed too, the warning is back
        assert "PRESS_LIMIT_PASSED" in _litigation_warnings(claim, D(2025, 6, 2))
