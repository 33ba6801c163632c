"""The reply assistant: the doctor's draft checked, approved, or no reply chosen."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cover.claims.models import Claim, ReplyDraft, TimelineKind
from cover.claims.selectors.engine import claim_categories, claim_facts, claim_gate_events
from cover.claims.services.common import ClaimActionRefused, _timeline_add
from cover.ladder import LadderState, ladder_check_reply
from cover.reply_rules import (
    ReplyOption,
    ReplySeverity,
    reply_blocking_issues,
    reply_check,
    reply_options,
)


def reply_default_option(*, claim: Claim) -> ReplyOption:
    return reply_options(categories=claim_categories(claim=claim)).default


@transaction.atomic
def reply_draft_check(*, claim: Claim, text: str, by: User) -> ReplyDraft:
    """Check a draft against the hard blocks of DOMAIN §5.4 and keep it with its issues."""
    if not text.strip():
        raise ClaimActionRefused([_("Écrivez un projet de réponse.")])
    identifiers = [claim.author_name] if claim.author_name else []
    issues = reply_check(text=text, reviewer_identifiers=identifiers)
    blocked = bool(reply_blocking_issues(issues=issues))
    return ReplyDraft.objects.create(
        claim=claim,
        option=ReplyDraft.Option.REPLY,
        text=text,
        issues=[
            {
                "code": i.code.value,
                "severity": i.severity.value,
                "message": str(i.message),
                "match": i.match,
                "start": i.start,
                "end": i.end,
            }
            for i in issues
        ],
        status=ReplyDraft.Status.BLOCKED if blocked else ReplyDraft.Status.CHECKED,
        created_by=by,
    )


@transaction.atomic
def reply_draft_approve(*, draft: ReplyDraft, by: User) -> ReplyDraft:
    """Approve a checked draft. Never one with a hard block; never a public reply to illicit
    content unless an avocat is on the file (a reply can look like acceptance): the ladder's
    own guard for the REPLY route decides, with its reasons (``ladder_check_reply``)."""
    claim = Claim.objects.select_for_update().get(pk=draft.claim_id)
    errors = []
    if draft.status == ReplyDraft.Status.BLOCKED:
        errors.append(_("Ce projet enfreint une règle bloquante : corrigez-le avant validation."))
        errors += [i["message"] for i in draft.issues if i["severity"] == ReplySeverity.BLOCK]
    if draft.status == ReplyDraft.Status.APPROVED:
        errors.append(_("Ce projet est déjà validé."))
    gate = ladder_check_reply(
        from_state=LadderState(claim.state),
        publication_date=claim.publication_date,
        categories=claim_categories(claim=claim),
        today=timezone.localdate(),
        facts=claim_facts(claim=claim),
        events=claim_gate_events(claim=claim),
    )
    errors += [str(f.message) for f in gate.blocked]
    if errors:
        raise ClaimActionRefused(errors)
    draft.status = ReplyDraft.Status.APPROVED
    draft.approved_by = by
    draft.approved_at = timezone.now()
    draft.save(update_fields=["status", "approved_by", "approved_at"])
    _timeline_add(
        claim=claim,
        kind=TimelineKind.REPLY_APPROVED,
        by=by,
        date=timezone.localdate(),
        note=draft.text,
    )
    return draft


@transaction.atomic
def reply_no_reply_choose(*, claim: Claim, by: User) -> ReplyDraft:
    """ "Ne pas répondre" is a first-class choice, recorded like a reply."""
    draft = ReplyDraft.objects.create(
        claim=claim,
        option=ReplyDraft.Option.NO_REPLY,
        status=ReplyDraft.Status.APPROVED,
        created_by=by,
        approved_by=by,
        approved_at=timezone.now(),
    )
    _timeline_add(claim=claim, kind=TimelineKind.NO_REPLY_CHOSEN, by=by, date=timezone.localdate())
    return draft
