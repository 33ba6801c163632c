"""The cover check (rules as data), a handler's refusal and its reversal."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.formatting import date_short, euros
from cover.claims import plan_terms
from cover.claims.models import Claim, CoverDecisionRecord, CoverStatus, TimelineKind
from cover.claims.plan_terms import RefusalClause
from cover.claims.selectors.costs import claim_covered_cents, policy_year_covered_cents
from cover.claims.services.common import ClaimActionRefused, _timeline_add, _today
from cover.claims.services.deadlines import claim_deadlines_refresh
from cover.models import Policy
from cover.selectors import policy_current, policy_terms
from cover.terms import Terms


@dataclass(frozen=True)
class CoverContext:
    claim: Claim
    policy: Policy
    terms: Terms
    today: datetime.date


@dataclass(frozen=True)
class CoverDecision:
    covered: bool
    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    policy: Policy | None
    # The COVER_RULES ids (clause codes of ``plan_terms``) that refused, in order.
    failed: tuple[str, ...] = ()


def _waiting_period(ctx: CoverContext) -> str | None:
    return plan_terms.waiting_period_refusal(
        policy_start=ctx.policy.start_date,
        waiting_days=ctx.terms.waiting_period_days,
        published=ctx.claim.publication_date,
        seen=ctx.claim.seen_date,
    )


def _anteriority(ctx: CoverContext) -> str | None:
    return plan_terms.anteriority_refusal(
        policy_start=ctx.policy.start_date,
        anteriority=ctx.terms.anteriority,
        years=ctx.terms.anteriority_years,
        published=ctx.claim.publication_date,
        seen=ctx.claim.seen_date,
    )


def _territory(ctx: CoverContext) -> str | None:
    doctor = ctx.policy.doctor
    refusal, _note = plan_terms.territory_check(
        scope=ctx.terms.territory_scope, address=doctor.practice_address, city=doctor.city
    )
    return refusal


def _per_claim_ceiling(ctx: CoverContext) -> str | None:
    ceiling = ctx.terms.per_claim_ceiling_cents
    if ceiling is None:
        return None
    used = claim_covered_cents(claim=ctx.claim)
    if used >= ceiling:
        return _("Le plafond par sinistre (%(ceiling)s) est atteint.") % {"ceiling": euros(ceiling)}
    return None


def _annual_ceiling(ctx: CoverContext) -> str | None:
    ceiling = ctx.terms.annual_ceiling_cents
    if ceiling is None:
        return None
    used = policy_year_covered_cents(policy=ctx.policy, on=ctx.today)
    if used >= ceiling:
        return _(
            "Le plafond annuel du contrat (%(ceiling)s) est atteint : %(used)s déjà pris en "
            "charge cette année."
        ) % {"ceiling": euros(ceiling), "used": euros(used)}
    return None


# Checked in this order once a policy in force is found; each returns its refusal reason.
COVER_RULES: tuple[tuple[str, Callable[[CoverContext], str | None]], ...] = (
    ("WAITING_PERIOD", _waiting_period),
    ("ANTERIORITY", _anteriority),
    ("TERRITORY", _territory),
    ("PER_CLAIM_CEILING", _per_claim_ceiling),
    ("ANNUAL_CEILING", _annual_ceiling),
)


def cover_evaluate(*, claim: Claim, today: datetime.date) -> CoverDecision:
    """The cover decision without writing it (every refusal reason at once)."""
    # The policy must be in force when the claim is checked; the dates of the content are
    # then weighed against its start (waiting period, anteriority).
    policy = policy_current(doctor=claim.doctor, on=today)
    if policy is None:
        reason = _("Aucun contrat actif ne vous couvre au %(today)s.") % {
            "today": date_short(today)
        }
        return CoverDecision(False, (reason,), (), None, (plan_terms.CLAUSE_NO_POLICY,))
    terms = policy_terms(policy=policy)
    ctx = CoverContext(claim=claim, policy=policy, terms=terms, today=today)
    refused = [(rule, r) for rule, check in COVER_RULES if (r := check(ctx)) is not None]
    reasons = tuple(r for _rule, r in refused)
    notes = []
    if terms.deductible_cents:
        notes.append(
            _("Une franchise de %(amount)s reste à votre charge sur les frais du dossier.")
            % {"amount": euros(terms.deductible_cents)}
        )
    if terms.per_claim_ceiling_cents is not None:
        notes.append(
            _("Plafond par sinistre : %(amount)s.")
            % {"amount": euros(terms.per_claim_ceiling_cents)}
        )
    _refusal, territory_note = plan_terms.territory_check(
        scope=terms.territory_scope,
        address=policy.doctor.practice_address,
        city=policy.doctor.city,
    )
    notes.extend(n for n in (plan_terms.threshold_note(terms=terms), territory_note) if n)
    return CoverDecision(
        not reasons, reasons, tuple(notes), policy, tuple(rule for rule, _r in refused)
    )


def _claim_lock(claim: Claim) -> None:
    """Lock the claim's row for the transaction and bring the caller's object up to date (the
    caller keeps using it: decisions are written on it)."""
    Claim.objects.select_for_update().filter(pk=claim.pk).values_list("pk").first()
    claim.refresh_from_db()


def cover_clauses(*, claim: Claim, today: datetime.date | None = None) -> tuple[RefusalClause, ...]:
    """The terms a refusal of this claim can cite: those of the policy the claim was checked
    against, else of the doctor's policy in force, else only the absence of a contract."""
    policy = claim.policy or policy_current(doctor=claim.doctor, on=_today(today))
    return plan_terms.refusal_clauses(terms=policy_terms(policy=policy) if policy else None)


def _cover_decision_write(
    *,
    claim: Claim,
    status: str,
    reasons: Sequence[str],
    clause_code: str,
    clause: str,
    by: User,
    note: str = "",
) -> CoverDecisionRecord:
    """Store the decision on the claim and audit it (who, when, from, to, why, which clause)."""
    record = CoverDecisionRecord.objects.create(
        claim=claim,
        status=status,
        previous_status=claim.cover_status,
        reasons=list(reasons),
        clause_code=clause_code,
        clause=clause,
        note=note,
        decided_by=by,
    )
    claim.cover_status = status
    claim.cover_reasons = list(reasons)
    claim.cover_clause_code = clause_code
    claim.cover_clause = clause
    claim.cover_checked_at = timezone.now()
    claim.save(
        update_fields=[
            "policy",
            "cover_status",
            "cover_reasons",
            "cover_clause_code",
            "cover_clause",
            "cover_checked_at",
            "updated_at",
        ]
    )
    return record


def _refusal_note(*, reasons: Sequence[str], clause: str) -> str:
    return " ".join(
        [
            _("La garantie ne couvre pas ce dossier :"),
            *reasons,
            _("Clause appliquée : %(clause)s") % {"clause": clause},
        ]
    )


@transaction.atomic
def cover_check(*, claim: Claim, by: User, today: datetime.date | None = None) -> CoverDecision:
    """Check and record the cover; the doctor sees the decision and its reasons.

    A refusal records the clause of every term that refused (worded from the plan's terms)
    and closes the claim's deadlines (``claim_deadlines_refresh``)."""
    today = _today(today)
    _claim_lock(claim)
    decision = cover_evaluate(claim=claim, today=today)
    claim.policy = decision.policy
    if decision.covered:
        _cover_decision_write(
            claim=claim, status=CoverStatus.COVERED, reasons=[], clause_code="", clause="", by=by
        )
        note = " ".join([_("Votre garantie couvre ce dossier."), *decision.notes])
        _timeline_add(claim=claim, kind=TimelineKind.COVER_CHECKED, by=by, date=today, note=note)
    else:
        texts = {c.code: c.text for c in cover_clauses(claim=claim, today=today)}
        clauses = [texts[code] for code in decision.failed if code in texts]
        _cover_decision_write(
            claim=claim,
            status=CoverStatus.REFUSED,
            reasons=decision.reasons,
            clause_code=decision.failed[0] if decision.failed else "",
            clause="\n".join(clauses),
            by=by,
        )
        _timeline_add(
            claim=claim,
            kind=TimelineKind.COVER_REFUSED,
            by=by,
            date=today,
            note=_refusal_note(reasons=decision.reasons, clause=" ".join(clauses)),
        )
    claim_deadlines_refresh(claim=claim, today=today)
    return decision


@transaction.atomic
def cover_refuse(
    *,
    claim: Claim,
    by: User,
    reason: str,
    clause_code: str,
    clause_text: str = "",
    today: datetime.date | None = None,
) -> CoverDecisionRecord:
    """A handler refuses the cover with a reason and the plan's clause it applies (one of
    ``cover_clauses``, or another clause of the contract quoted by the handler). The doctor is
    told both, with the complaint and mediation routes; the claim's deadlines close."""
    today = _today(today)
    _claim_lock(claim)
    reason = reason.strip()
    clause_text = clause_text.strip()
    errors = []
    if not reason:
        errors.append(_("Indiquez le motif du refus de garantie."))
    clauses = {c.code: c.text for c in cover_clauses(claim=claim, today=today)}
    if clause_code == plan_terms.CLAUSE_OTHER:
        clause = clause_text
        if not clause:
            errors.append(_("Citez la clause du contrat qui exclut ce dossier."))
    elif clause_code in clauses:
        clause = clauses[clause_code]
    else:
        clause = ""
        errors.append(_("Choisissez la clause du contrat qui exclut ce dossier."))
    if errors:
        raise ClaimActionRefused(errors)
    if claim.policy is None:
        claim.policy = policy_current(doctor=claim.doctor, on=today)
    record = _cover_decision_write(
        claim=claim,
        status=CoverStatus.REFUSED,
        reasons=[reason],
        clause_code=clause_code,
        clause=clause,
        by=by,
    )
    _timeline_add(
        claim=claim,
        kind=TimelineKind.COVER_REFUSED,
        by=by,
        date=today,
        note=_refusal_note(reasons=[reason], clause=clause),
    )
    claim_deadlines_refresh(claim=claim, today=today)
    return record


@transaction.atomic
def cover_refusal_reverse(
    *, claim: Claim, by: User, reason: str, today: datetime.date | None = None
) -> CoverDecisionRecord:
    """A handler reverses a refusal after review (a complaint, a new fact): the cover is
    granted, audited with its reason, and the claim's deadlines run again."""
    today = _today(today)
    _claim_lock(claim)
    reason = reason.strip()
    errors = []
    if claim.cover_status != CoverStatus.REFUSED:
        errors.append(_("La garantie de ce dossier n'est pas refusée."))
    if not reason:
        errors.append(_("Indiquez le motif du réexamen."))
    if errors:
        raise ClaimActionRefused(errors)
    if claim.policy is None:
        claim.policy = policy_current(doctor=claim.doctor, on=today)
    record = _cover_decision_write(
        claim=claim,
        status=CoverStatus.COVERED,
        reasons=[],
        clause_code="",
        clause="",
        by=by,
        note=reason,
    )
    _timeline_add(
        claim=claim,
        kind=TimelineKind.COVER_REFUSAL_REVERSED,
        by=by,
        date=today,
        note=_("Après réexamen, votre garantie couvre ce dossier. Motif : %(reason)s")
        % {"reason": reason},
    )
    claim_deadlines_refresh(claim=claim, today=today)
    return record
