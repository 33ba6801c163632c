"""Letters: rendered from the insurer's templates, checked, generated, sent, and their receipts
and follow-ups recorded as the legal events their clocks wait for.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template import engines
from django.utils.translation import gettext as _

from common.formatting import date_short
from cover.claims.letter_templates import DEFAULT_BODIES, LetterTemplateInvalid, letter_body_render
from cover.claims.models import Claim, ClaimEvent, Letter, LetterTemplate, Partner, TimelineKind
from cover.claims.selectors.engine import (
    claim_categories,
    claim_facts,
    claim_gate_events,
    claim_gate_overrides,
    letter_event_ref,
    letter_values_cure_period,
)
from cover.claims.selectors.letters import letter_values_auto
from cover.claims.services.common import (
    ClaimActionRefused,
    LetterIncomplete,
    _timeline_add,
    _today,
)
from cover.claims.services.deadlines import claim_deadlines_refresh
from cover.claims.services.events import claim_event_record
from cover.claims.services.ladder import _check_raise, _transition_record
from cover.ladder import (
    GuardFailure,
    GuardSeverity,
    LadderState,
    TransitionCheck,
    ladder_act_state,
    ladder_check_act,
)
from cover.letter_fields import (
    LETTER_ROUTES,
    LETTER_SPECS,
    LetterKind,
    letter_content_issues,
    letter_missing_fields,
)
from cover.rules import EVENT_LABELS, ClaimEventKind, ClaimFact

# Sending a letter is the legal event its clocks are waiting for.
LETTER_SENT_EVENTS: Mapping[LetterKind, ClaimEventKind] = {
    LetterKind.DSA_NOTICE: ClaimEventKind.DSA_NOTICE_SENT,
    LetterKind.DROIT_DE_REPONSE: ClaimEventKind.DROIT_DE_REPONSE_REQUEST_SENT,
    LetterKind.GDPR_OBJECTION_ERASURE: ClaimEventKind.GDPR_REQUEST_SENT,
    LetterKind.DEREFERENCING: ClaimEventKind.DEREFERENCING_REQUEST_SENT,
    LetterKind.CNIL_COMPLAINT: ClaimEventKind.CNIL_COMPLAINT_SENT,
    LetterKind.MISE_EN_DEMEURE: ClaimEventKind.MISE_EN_DEMEURE_SENT,
    LetterKind.CONSTAT_ORDER: ClaimEventKind.CONSTAT_ORDERED,
    LetterKind.INSURER_DECLARATION: ClaimEventKind.INSURER_NOTIFIED,
}
# The receipt that legally starts the addressee's time (the clock's ``start_event``); until it
# is recorded the clock runs from the sending (``provisional_start_event``, conservative).
LETTER_RECEIPT_EVENTS: Mapping[LetterKind, ClaimEventKind] = {
    LetterKind.DROIT_DE_REPONSE: ClaimEventKind.DROIT_DE_REPONSE_DIRECTOR_RECEIVED,
    LetterKind.GDPR_OBJECTION_ERASURE: ClaimEventKind.GDPR_REQUEST_RECEIVED,
    LetterKind.DEREFERENCING: ClaimEventKind.DEREFERENCING_REQUEST_RECEIVED,
    LetterKind.CNIL_COMPLAINT: ClaimEventKind.CNIL_COMPLAINT_RECEIVED,
    LetterKind.MISE_EN_DEMEURE: ClaimEventKind.MISE_EN_DEMEURE_RECEIVED,
}
# What the addressee may do next, recorded against the same letter (same clock instance).
LETTER_FOLLOW_UP_EVENTS: Mapping[LetterKind, tuple[ClaimEventKind, ...]] = {
    LetterKind.DSA_NOTICE: (ClaimEventKind.PLATFORM_DECISION_NOTIFIED,),
    LetterKind.DROIT_DE_REPONSE: (
        ClaimEventKind.DROIT_DE_REPONSE_DIRECTOR_RECEIVED,
        ClaimEventKind.DROIT_DE_REPONSE_PUBLISHED,
    ),
    LetterKind.GDPR_OBJECTION_ERASURE: (
        ClaimEventKind.GDPR_EXTENSION_NOTIFIED,
        ClaimEventKind.GDPR_ANSWER_RECEIVED,
    ),
    LetterKind.DEREFERENCING: (
        ClaimEventKind.DEREFERENCING_EXTENSION_NOTIFIED,
        ClaimEventKind.DEREFERENCING_ANSWER_RECEIVED,
    ),
    LetterKind.CNIL_COMPLAINT: (ClaimEventKind.CNIL_DECISION_RECEIVED,),
    LetterKind.MISE_EN_DEMEURE: (ClaimEventKind.CONTENT_REMOVED,),
}


def letter_receipt_event(*, kind: LetterKind, facts: frozenset[ClaimFact]) -> ClaimEventKind | None:
    """The receipt event of a letter kind; a droit de réponse to the host of an anonymous
    non-professional editor is received by the host, who forwards it to the director."""
    if kind is LetterKind.DROIT_DE_REPONSE and ClaimFact.PUBLISHER_ANONYMOUS_NON_PRO in facts:
        return ClaimEventKind.DROIT_DE_REPONSE_HOST_RECEIVED
    return LETTER_RECEIPT_EVENTS.get(kind)


def letter_follow_up_kinds(*, letter: Letter) -> tuple[ClaimEventKind, ...]:
    """Follow-ups a handler may record on a sent letter (none before it is sent)."""
    if letter.sent_at is None:
        return ()
    kinds = LETTER_FOLLOW_UP_EVENTS.get(LetterKind(letter.kind), ())
    receipt = letter_receipt_event(
        kind=LetterKind(letter.kind), facts=claim_facts(claim=letter.claim)
    )
    return tuple(k for k in kinds if k is not receipt)


def _nest(values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted names to nested mappings, for templates ({{ v.notifier.name }})."""
    nested: dict[str, Any] = {}
    for name, value in values.items():
        node = nested
        parts = name.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return nested


def _refuse_remote_resources(url: str, *args: Any, **kwargs: Any) -> Any:
    """WeasyPrint URL fetcher: a tenant-edited template must not make the server fetch URLs."""
    raise ValueError(f"remote resource refused: {url[:80]}")


def letter_render(*, kind: LetterKind, values: Mapping[str, Any]) -> tuple[str, bytes]:
    """HTML and PDF of a letter from the tenant's template for ``kind``."""
    import weasyprint  # lazy: heavy (Pango, fonts), only where a PDF is rendered

    template = LetterTemplate.objects.filter(kind=kind.value).first()
    if template is None:
        body, title = DEFAULT_BODIES[kind], str(LETTER_SPECS[kind].label)
    else:
        body, title = template.body, template.title
    engine = engines["django"]
    nested = _nest(values)
    # Insurer-edited bodies render in a restricted engine: no settings, secrets or tag libraries.
    try:
        inner = letter_body_render(
            body=body,
            context={"v": nested, "passages": values.get("content.passages", []), "title": title},
        )
    except LetterTemplateInvalid as exc:
        raise ClaimActionRefused([str(exc)]) from exc
    html = engine.get_template("claims/letters/page.html").render(
        {"title": title, "body": inner, "spec": LETTER_SPECS[kind]}
    )
    pdf = weasyprint.HTML(string=html, url_fetcher=_refuse_remote_resources).write_pdf()
    return html, bytes(pdf or b"")


def letter_act_check(
    *,
    claim: Claim,
    kind: LetterKind,
    today: datetime.date,
    values: Mapping[str, Any] | None = None,
) -> TransitionCheck:
    """The gate for a letter: the ladder's verdict on the route the letter carries out (the
    same guards and French reasons as ``claim_transition``), then the letter's own
    preconditions on ``values`` (droit de réponse length, mise en demeure recipient and cure
    period, no medical secret in the free text)."""
    check = ladder_check_act(
        from_state=LadderState(claim.state),
        route=LETTER_ROUTES[kind],
        publication_date=claim.publication_date,
        categories=claim_categories(claim=claim),
        today=today,
        facts=claim_facts(claim=claim),
        events=claim_gate_events(claim=claim),
        overrides=claim_gate_overrides(
            claim=claim,
            cure_period=letter_values_cure_period(kind=kind, values=values or {}),
        ),
    )
    if values is None:
        return check
    identifiers = [claim.author_name] if claim.author_name else []
    content = [
        GuardFailure(
            guard_id="LETTER_CONTENT",
            severity=GuardSeverity.BLOCK,
            message=reason,
            basis=str(LETTER_SPECS[kind].basis),
        )
        for reason in letter_content_issues(
            kind=kind,
            values=values,
            message_text=claim.source_text,
            reviewer_identifiers=identifiers,
        )
    ]
    blocked = (*check.blocked, *content)
    return TransitionCheck(allowed=not blocked, blocked=blocked, warnings=check.warnings)


@transaction.atomic
def letter_generate(
    *,
    claim: Claim,
    kind: LetterKind,
    by: User,
    values: Mapping[str, Any] | None = None,
    partner: Partner | None = None,
    today: datetime.date | None = None,
) -> Letter:
    """Generate a letter as PDF, refusing it where the ladder refuses the route it carries out
    (``letter_act_check``) or while a required field of DOMAIN §4 is empty. A refusal creates
    nothing: no letter, no file, no timeline entry.

    Values: what the claim knows (``letter_values_auto``), then the handler's own (non-empty)
    values. Passages come only from the claim, confirmed and verbatim.
    """
    today = _today(today)
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    merged = letter_values_auto(claim=claim, kind=kind, today=today, partner=partner)
    for name, value in (values or {}).items():
        if name == "content.passages":
            continue
        if isinstance(value, str) and not value.strip():
            continue
        merged[name] = value.strip() if isinstance(value, str) else value
    _check_raise(letter_act_check(claim=claim, kind=kind, today=today, values=merged))
    missing = letter_missing_fields(kind=kind, values=merged)
    if missing:
        raise LetterIncomplete(kind=kind, missing=missing)
    html, pdf = letter_render(kind=kind, values=merged)
    letter = Letter(claim=claim, kind=kind.value, values=merged, html=html, generated_by=by)
    letter.file.save(f"{kind.value.lower()}.pdf", ContentFile(pdf), save=False)
    letter.save()
    _timeline_add(
        claim=claim,
        kind=TimelineKind.LETTER_GENERATED,
        by=by,
        date=today,
        note=str(LETTER_SPECS[kind].label),
        ref=str(letter.pk),
    )
    return letter


@transaction.atomic
def letter_mark_sent(
    *,
    letter: Letter,
    sent_on: datetime.date,
    by: User,
    proof: UploadedFile | None = None,
    capture_ref: str = "",
    today: datetime.date | None = None,
) -> Letter:
    """Record sending with its proof (delivery receipt, or the captured acknowledgement).

    Sending is the act itself: the gate is asked again (the claim may have moved, a window may
    have closed since the letter was prepared) and, when it allows it, the claim moves to the
    step of the letter's route, audited like any transition.
    """
    today = _today(today)
    claim = Claim.objects.select_for_update().get(pk=letter.claim_id)
    # Read again under the claim's lock: a second click, or two requests at once, must find the
    # sending already recorded and record it once (one event, one transition).
    letter = Letter.objects.select_for_update().get(pk=letter.pk)
    if letter.sent_at is not None:
        return letter
    kind = LetterKind(letter.kind)
    check = letter_act_check(claim=claim, kind=kind, today=today, values=letter.values)
    errors = [str(f.message) for f in check.blocked]
    if proof is None and not capture_ref.strip():
        errors.append(
            _("Joignez la preuve d'envoi (accusé de réception) ou la référence de la capture.")
        )
    if sent_on > today:
        errors.append(_("La date d'envoi ne peut pas être dans le futur."))
    if sent_on < letter.generated_at.date():
        errors.append(_("La date d'envoi ne peut pas précéder la préparation du courrier."))
    if errors:
        raise ClaimActionRefused(errors)
    letter.sent_at = sent_on
    letter.sent_by = by
    letter.capture_ref = capture_ref.strip()
    if proof is not None:
        letter.proof.save(proof.name or "preuve", proof, save=False)
    letter.save()
    event_kind = LETTER_SENT_EVENTS.get(kind)
    if event_kind is not None:
        claim_event_record(
            claim=claim,
            kind=event_kind,
            date=sent_on,
            by=by,
            ref=letter_event_ref(letter=letter),
            note=str(EVENT_LABELS[event_kind]),
            today=today,
        )
    route = LETTER_ROUTES[kind]
    if route is not None:
        to_state = ladder_act_state(from_state=LadderState(claim.state), route=route)
        if to_state.value != claim.state:
            _transition_record(
                claim=claim,
                to_state=to_state,
                route=route,
                reason=_("Courrier envoyé : %(label)s") % {"label": str(LETTER_SPECS[kind].label)},
                check=check,
                by=by,
                today=today,
            )
    return letter


@transaction.atomic
def letter_receipt_record(
    *,
    letter: Letter,
    received_on: datetime.date,
    by: User,
    today: datetime.date | None = None,
) -> Letter:
    """Record when the addressee received a sent letter (the AR date): the clock it starts is
    then counted from the receipt instead of the sending, and every deadline is recomputed."""
    today = _today(today)
    letter = Letter.objects.select_for_update().get(pk=letter.pk)
    claim = letter.claim
    errors: list[str] = []
    if letter.sent_at is None:
        errors.append(_("Enregistrez d'abord l'envoi du courrier."))
    elif received_on < letter.sent_at:
        errors.append(
            _("La réception ne peut pas précéder l'envoi (%(sent)s).")
            % {"sent": date_short(letter.sent_at)}
        )
    if letter.received_on is not None:
        errors.append(
            _("La réception de ce courrier est déjà enregistrée (%(day)s).")
            % {"day": date_short(letter.received_on)}
        )
    if received_on > today:
        errors.append(_("La date de réception ne peut pas être dans le futur."))
    if errors:
        raise ClaimActionRefused(errors)
    letter.received_on = received_on
    letter.save(update_fields=["received_on"])
    kind = LetterKind(letter.kind)
    event_kind = letter_receipt_event(kind=kind, facts=claim_facts(claim=claim))
    label = str(LETTER_SPECS[kind].label)
    if event_kind is None:
        _timeline_add(
            claim=claim,
            kind=TimelineKind.LETTER_RECEIVED,
            by=by,
            date=received_on,
            ref=letter_event_ref(letter=letter),
            note=label,
            notify=False,
        )
        claim_deadlines_refresh(claim=claim, today=today)
    else:
        claim_event_record(
            claim=claim,
            kind=event_kind,
            date=received_on,
            by=by,
            ref=letter_event_ref(letter=letter),
            note=label,
            today=today,
        )
    return letter


@transaction.atomic
def letter_follow_up_record(
    *,
    letter: Letter,
    kind: ClaimEventKind,
    date: datetime.date,
    by: User,
    note: str = "",
    today: datetime.date | None = None,
) -> ClaimEvent:
    """Record the addressee's next step on a sent letter (extension notified, answer, decision,
    removal...) against the letter's own clock."""
    errors: list[str] = []
    if kind not in letter_follow_up_kinds(letter=letter):
        errors.append(_("Cet événement ne se rattache pas à ce courrier."))
    elif letter.sent_at is not None and date < letter.sent_at:
        errors.append(
            _("Un suivi ne peut pas précéder l'envoi du courrier (%(sent)s).")
            % {"sent": date_short(letter.sent_at)}
        )
    if errors:
        raise ClaimActionRefused(errors)
    return claim_event_record(
        claim=letter.claim,
        kind=kind,
        date=date,
        by=by,
        ref=letter_event_ref(letter=letter),
        note=note.strip() or str(LETTER_SPECS[LetterKind(letter.kind)].label),
        today=today,
    )
