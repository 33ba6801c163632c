"""Writes on claims. Each service checks its rule, writes, audits and tells the doctor.

The legal rules are not here: the deadline engine, the ladder guards, the questionnaire, the
letter field lists and the reply checks are the pure modules of ``cover/``; these services feed
them with a claim's data and act on their verdict, so the admin, the portal and background jobs
behave identically.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.template import engines
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cover.claims import plan_terms
from cover.claims.models import (
    Claim,
    ClaimAttachment,
    ClaimEvent,
    ClaimNote,
    Cost,
    CostKind,
    CoverDecisionRecord,
    CoverStatus,
    Letter,
    LetterTemplate,
    Partner,
    PartnerKind,
    Passage,
    PublicationDateChange,
    PublicationDateSource,
    ReplyDraft,
    TimelineKind,
    Transition,
)
from cover.claims.plan_terms import RefusalClause
from cover.claims.selectors import (
    RefusalNotice,
    claim_categories,
    claim_covered_cents,
    claim_deadlines,
    claim_facts,
    claim_gate_events,
    claim_gate_overrides,
    claim_handlers,
    claim_publication_estimate,
    claim_refusal_notice,
    clock_configuration,
    letter_event_ref,
    letter_values_auto,
    letter_values_cure_period,
    policy_year_covered_cents,
)
from cover.classification import (
    QUALIFICATIONS,
    DiscriminatoryGround,
    PassageAnswers,
    Questionnaire,
    classification_propose,
)
from cover.deadlines import clock_due_date
from cover.ladder import (
    STATE_LABELS,
    GuardFailure,
    GuardSeverity,
    LadderState,
    TransitionCheck,
    ladder_act_state,
    ladder_check_act,
    ladder_check_reply,
    ladder_check_transition,
)
from cover.letter_fields import (
    LETTER_ROUTES,
    LETTER_SPECS,
    LetterKind,
    letter_content_issues,
    letter_missing_fields,
)
from cover.models import Doctor, Policy
from cover.reply_rules import (
    ReplyOption,
    ReplySeverity,
    reply_blocking_issues,
    reply_check,
    reply_options,
)
from cover.rules import (
    CATEGORY_RULES,
    CLOCKS,
    EVENT_LABELS,
    ROUTE_RULES,
    ClaimEventKind,
    ClaimFact,
    ContentCategory,
    Route,
)
from cover.selectors import policy_current, policy_terms
from cover.terms import Terms
from mailing.kinds import MailKind
from mailing.services import mail_send


class ClaimActionRefused(Exception):
    """A refused action; ``reasons`` are French, meant to be shown as they are."""

    def __init__(self, reasons: Sequence[str]):
        self.reasons = [str(r) for r in reasons]
        super().__init__("; ".join(self.reasons))


class LetterIncomplete(ClaimActionRefused):
    """Letter refused: ``missing`` lists the dotted names of the empty required fields."""

    def __init__(self, *, kind: LetterKind, missing: Sequence[str]):
        self.missing = list(missing)
        labels = {f.name: str(f.label) for f in LETTER_SPECS[kind].fields}
        reasons = []
        for name in self.missing:
            base = name.split("[", 1)[0]
            label = labels.get(base, name)
            suffix = name[len(base) :]
            reasons.append(
                _("Champ obligatoire manquant : %(label)s%(detail)s")
                % {"label": label, "detail": f" ({suffix})" if suffix else ""}
            )
        super().__init__(reasons)


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def euros(cents: int | None) -> str:
    return _("illimité") if cents is None else plan_terms.euros(cents)


def _fmt(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


# --------------------------------------------------------------------------------------------
# Timeline, notifications, deadlines
# --------------------------------------------------------------------------------------------


def _timeline_add(
    *,
    claim: Claim,
    kind: str,
    by: Any,
    date: datetime.date,
    note: str = "",
    ref: str = "",
    visible_to_doctor: bool = True,
    notify: bool = True,
) -> ClaimEvent:
    event = ClaimEvent.objects.create(
        claim=claim,
        kind=kind,
        date=date,
        note=note,
        ref=ref,
        visible_to_doctor=visible_to_doctor,
        recorded_by=by,
    )
    if notify and visible_to_doctor:
        from cover.claims.tasks import claim_doctor_notify
        from tenants.services import task_enqueue_on_commit

        task_enqueue_on_commit(
            actor=claim_doctor_notify, kwargs={"claim_id": claim.pk, "event_id": event.pk}
        )
    return event


def claim_doctor_email_send(*, claim_id: int, event_id: int) -> None:
    """E-mail the doctor about one step of their claim, with a link to its timeline.

    Steps wait for the doctor's next digest (``mailing``); a cover decision leaves at once."""
    from tenants.db import connection
    from tenants.selectors import tenant_base_url

    event = ClaimEvent.objects.select_related("claim__doctor__user").filter(pk=event_id).first()
    if event is None or event.claim_id != claim_id or not event.visible_to_doctor:
        return
    claim = event.claim
    base = tenant_base_url(connection.tenant)  # type: ignore[arg-type]
    link = f"{base}/portail/sinistres/{claim.pk}/"
    if event.kind == TimelineKind.COVER_REFUSED:
        if claim.cover_status != CoverStatus.REFUSED:
            return  # reversed since: the reversal's own e-mail tells the doctor
        subject, body = _cover_refusal_mail(claim=claim, link=link)
        mail_send(
            to=claim.doctor.user.email,
            kind=MailKind.COVER_DECISION,
            context={"reference": claim.reference, "sujet": subject, "detail": body},
            link_path=link,
        )
        return
    mail_send(
        to=claim.doctor.user.email,
        kind=MailKind.CLAIM_UPDATE,
        context={
            "reference": claim.reference,
            "etape": event.get_kind_display(),
            "note": event.note,
        },
        link_path=link,
    )


def _cover_refusal_mail(*, claim: Claim, link: str) -> tuple[str, str]:
    """Subject and body of the refusal e-mail: the reason, the clause, and where to contest
    (the insurer's complaint service, then the insurance mediator), never a dead end."""
    notice = claim_refusal_notice(claim=claim) or RefusalNotice((), (), None, "", "", "", "")
    missing = _("coordonnées non communiquées, demandez-les à votre gestionnaire de sinistre")
    mediator = ", ".join(
        p for p in (notice.mediator_name, notice.mediator_url, notice.mediator_address) if p
    )
    subject = _("Dossier %(reference)s : refus de garantie") % {"reference": claim.reference}
    body = _(
        "Bonjour,\n\n"
        "Votre assureur a examiné votre dossier %(reference)s : la garantie ne le couvre pas.\n\n"
        "Motif : %(reasons)s\n"
        "Clause du contrat appliquée : %(clause)s\n\n"
        "Pour contester cette décision, écrivez au service réclamations de votre assureur : "
        "%(complaint)s\n"
        "Si le désaccord persiste, vous pouvez saisir le médiateur de l'assurance : "
        "%(mediator)s\n\n"
        "Les délais de ce dossier sont clos : vous ne recevrez plus de rappel d'échéance.\n\n"
        "Votre dossier : %(link)s\n"
    ) % {
        "reference": claim.reference,
        "reasons": " ".join(notice.reasons),
        "clause": " ".join(notice.clause_lines) or "—",
        "complaint": " ".join(notice.complaint_contact.split()) or missing,
        "mediator": " ".join(mediator.split()) or missing,
        "link": link,
    }
    return subject, body


def _publication_date_reestimate(*, claim: Claim, today: datetime.date) -> None:
    """An estimated publication date follows the earliest evidence recorded since (an archive
    date, a capture): it only ever moves earlier. The doctor's date and a handler's correction
    are never changed here."""
    if not claim.publication_date_estimated:
        return
    estimate = claim_publication_estimate(claim=claim)
    if (estimate.date, estimate.source.value) == (
        claim.publication_date,
        claim.publication_date_source,
    ):
        return
    old = claim.publication_date
    claim.publication_date = estimate.date
    claim.publication_date_source = estimate.source.value
    claim.save(update_fields=["publication_date", "publication_date_source", "updated_at"])
    if estimate.date != old:
        _timeline_add(
            claim=claim,
            kind=TimelineKind.PUBLICATION_DATE_ESTIMATED,
            by=None,
            date=today,
            note=_("Date de publication estimée : %(old)s → %(new)s (%(source)s).")
            % {"old": _fmt(old), "new": _fmt(estimate.date), "source": estimate.source.label},
            visible_to_doctor=False,
        )


DEADLINES_CLOSED_REFUSED = gettext_lazy("Délais clos : garantie refusée")


def claim_deadlines_refresh(*, claim: Claim, today: datetime.date | None = None) -> None:
    """Store the nearest open hard deadline on the claim so the queue sorts in the database.

    An estimated publication date is first brought to the earliest evidence recorded. Before
    any qualification the press-law clock is presumed (the conservative reading of DOMAIN §2.2
    step 5: a review of a doctor almost always targets the person).
    """
    today = _today(today)
    _publication_date_reestimate(claim=claim, today=today)
    if claim.cover_status == CoverStatus.REFUSED:
        # A refused claim is not worked: no countdown, no reminder until a handler reverses it.
        claim.next_deadline_date = None
        claim.next_deadline_label = str(DEADLINES_CLOSED_REFUSED)
    elif not claim_categories(claim=claim):
        rule = CLOCKS["PRESS_3M"]
        claim.next_deadline_date = clock_due_date(rule=rule, start=claim.publication_date)
        claim.next_deadline_label = _("%(label)s — présumée, à qualifier") % {"label": rule.label}
    else:
        hard = [d for d in claim_deadlines(claim=claim, today=today) if d.hard]
        open_hard = [d for d in hard if d.status.value != "done"]
        first = open_hard[0] if open_hard else None
        claim.next_deadline_date = first.due_date if first else None
        claim.next_deadline_label = str(first.label) if first else ""
    claim.save(update_fields=["next_deadline_date", "next_deadline_label", "updated_at"])


# --------------------------------------------------------------------------------------------
# Evidence: the single call site
# --------------------------------------------------------------------------------------------


def _evidence_capture_request(
    *, claim: Claim, url: str, requested_by: Any, today: datetime.date
) -> ClaimEvent:
    """Ask the evidence app to capture ``url`` and note it on the claim's timeline.

    The only place where claims reach the evidence app. A URL the capture guard refuses
    (non-public address, DNS failure) does not stop the claim from opening: the refusal is
    noted for the handler, who can order a constat instead.
    """
    from django.core.exceptions import ValidationError

    from evidence.services import capture_request

    reason = _("Sinistre %(reference)s") % {"reference": claim.reference}
    try:
        capture_id = capture_request(url=url, requested_by=requested_by, reason=reason)
    except ValidationError as exc:
        note = _("%(url)s — capture impossible : %(reason)s") % {
            "url": url,
            "reason": " ".join(exc.messages),
        }
        return _timeline_add(
            claim=claim,
            kind=TimelineKind.CAPTURE_REQUESTED,
            by=requested_by,
            date=today,
            note=note,
            visible_to_doctor=False,
            notify=False,
        )
    return _timeline_add(
        claim=claim,
        kind=TimelineKind.CAPTURE_REQUESTED,
        by=requested_by,
        date=today,
        note=url,
        ref=f"capture-{capture_id}",
        notify=False,
    )


def _claim_captures_hourly_check(*, claim: Claim) -> None:
    """At most ``EGIDE_CAPTURES_PER_HOUR_CLAIM`` captures per claim and per hour (French refusal)."""
    limit = settings.EGIDE_CAPTURES_PER_HOUR_CLAIM
    if not limit:
        return
    since = timezone.now() - datetime.timedelta(hours=1)
    recent = claim.events.filter(
        kind=TimelineKind.CAPTURE_REQUESTED, ref__startswith="capture-", created_at__gte=since
    ).count()
    if recent >= limit:
        raise ClaimActionRefused(
            [
                _(
                    "Limite de %(max)d captures par heure atteinte pour ce sinistre. "
                    "Réessayez plus tard."
                )
                % {"max": limit}
            ]
        )


@transaction.atomic
def claim_capture_request(
    *,
    claim: Claim,
    by: Any,
    url: str = "",
    recapture_of: int | None = None,
    reason: str = "",
    today: datetime.date | None = None,
) -> int:
    """A handler (or the claim's doctor, from the portal) asks for a capture for this claim: of
    ``url``, or again of the address of one of the claim's finished captures (``recapture_of``: a failed one, or a page that changed).
    Return the new capture's id.

    The capture is attached to the claim as claim opening attaches it (a "capture requested"
    timeline entry whose ref is ``capture-<id>``). Unlike claim opening, a refusal (address
    refused by the capture guard, platform limit, capture still running) raises
    ``ClaimActionRefused`` and records nothing: the handler is there to read it.

    Idempotent while a capture of the same address for this claim is queued or running: a
    second click (or two at once, serialised on the claim's row) returns that capture's id and
    queues nothing.
    """
    from django.core.exceptions import ValidationError

    from cover.claims.selectors import claim_capture_ids, claim_captures
    from evidence.selectors import capture_detail
    from evidence.services import capture_recapture, capture_request

    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    label = _("Sinistre %(reference)s") % {"reference": claim.reference}
    full_reason = f"{label} — {reason.strip()}" if reason.strip() else label
    captures = claim_captures(claim=claim)
    if recapture_of is not None:
        target = next((c.url for c in captures if c.pk == recapture_of), None)
    else:
        target = url.strip()
    pending = next((c for c in captures if c.url == target and not c.is_finished), None)
    if target and pending is not None:
        return pending.pk
    _claim_captures_hourly_check(claim=claim)
    try:
        if recapture_of is not None:
            if recapture_of not in claim_capture_ids(claim=claim):
                raise ClaimActionRefused([_("Cette capture n'appartient pas à ce sinistre.")])
            capture_id = capture_recapture(
                capture_id=recapture_of, requested_by=by, reason=full_reason
            )
        else:
            if not url.strip():
                raise ClaimActionRefused([_("Indiquez l'adresse (URL) de la page à capturer.")])
            capture_id = capture_request(url=url, requested_by=by, reason=full_reason)
    except ValidationError as exc:
        raise ClaimActionRefused(exc.messages) from exc
    capture = capture_detail(capture_id=capture_id)
    captured_url = capture.url if capture is not None else url.strip()
    if recapture_of is not None:
        note = _("%(url)s — nouvelle capture après la n° %(id)s") % {
            "url": captured_url,
            "id": recapture_of,
        }
    else:
        note = captured_url
    _timeline_add(
        claim=claim,
        kind=TimelineKind.CAPTURE_REQUESTED,
        by=by,
        date=_today(today),
        note=note,
        ref=f"capture-{capture_id}",
        notify=False,
    )
    return capture_id


def claim_captures_consulted(
    *, claim: Claim, capture_ids: Sequence[int], by: Any, where: str
) -> None:
    """Write on each capture's chain of custody that it was consulted from this claim (a
    comparison page or its PDF annex shows the captures' screens and text)."""
    from cover.claims.selectors import claim_captures
    from evidence.services import capture_viewed

    wanted = set(capture_ids)
    for capture in claim_captures(claim=claim):
        if capture.pk in wanted:
            capture_viewed(
                capture=capture,
                actor=by,
                where=f"{where} — sinistre {claim.reference}",
            )


# --------------------------------------------------------------------------------------------
# Opening and qualifying
# --------------------------------------------------------------------------------------------

_URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def _passage_offsets(*, source_text: str, quotes: Sequence[str]) -> list[tuple[str, int, int]]:
    """Locate each quote verbatim in the text, each after the previous one when repeated."""
    found: list[tuple[str, int, int]] = []
    errors: list[str] = []
    taken: list[tuple[int, int]] = []
    for quote in quotes:
        start = source_text.find(quote)
        while start != -1 and any(s < start + len(quote) and start < e for s, e in taken):
            start = source_text.find(quote, start + 1)
        if start == -1:
            errors.append(
                _("Le passage « %(quote)s » ne figure pas mot pour mot dans le texte copié.")
                % {"quote": quote}
            )
            continue
        taken.append((start, start + len(quote)))
        found.append((quote, start, start + len(quote)))
    if errors:
        raise ClaimActionRefused(errors)
    return found


CLAIM_URLS_MAX = 20
CLAIM_QUOTES_MAX = 50


@transaction.atomic
def claim_open(
    *,
    doctor: Doctor,
    opened_by: Any,
    urls: Sequence[str],
    source_text: str,
    quotes: Sequence[str],
    seen_date: datetime.date,
    publication_date: datetime.date | None,
    author_name: str = "",
    author_is_doctor: bool = False,
    direct_reply_available: bool = False,
    description: str = "",
    today: datetime.date | None = None,
) -> Claim:
    """Open a claim from the doctor's report and request a capture of every URL at once.

    ``publication_date`` is the date shown on the page (T_pub). ``None`` when the page shows
    none: the claim then holds an estimate, the earliest plausible date (DOMAIN §3) — at
    opening the discovery date, the only one known; it moves to any earlier evidence date
    recorded later (archive, capture) and the handler can correct it.
    """
    today = _today(today)
    errors: list[str] = []
    clean_urls = list(dict.fromkeys(u.strip() for u in urls if u.strip()))
    if not clean_urls:
        errors.append(_("Indiquez au moins une adresse (URL) du contenu."))
    if len(clean_urls) > CLAIM_URLS_MAX:
        # Each address becomes a capture: one form must not queue thousands of them.
        errors.append(
            _("%(n)d adresses : un dossier en compte %(max)d au plus. Ouvrez un dossier par "
              "contenu, ou signalez les autres adresses à votre gestionnaire.")
            % {"n": len(clean_urls), "max": CLAIM_URLS_MAX}
        )  # fmt: skip
    else:
        errors += [
            _("Adresse invalide : %(url)s") % {"url": u} for u in clean_urls if not _URL_RE.match(u)
        ]
    clean_quotes = [q.strip() for q in quotes if q.strip()]
    if len(clean_quotes) > CLAIM_QUOTES_MAX:
        errors.append(
            _("%(n)d passages cités : %(max)d au plus par dossier.")
            % {"n": len(clean_quotes), "max": CLAIM_QUOTES_MAX}
        )
    if not source_text.strip():
        errors.append(_("Copiez le texte du contenu en cause."))
    if not clean_quotes:
        errors.append(_("Citez au moins un passage en cause."))
    if seen_date > today:
        errors.append(_("La date de découverte ne peut pas être dans le futur."))
    if publication_date is not None and publication_date > today:
        errors.append(_("La date de publication ne peut pas être dans le futur."))
    if publication_date is not None and publication_date > seen_date:
        errors.append(_("La date de publication ne peut pas suivre la date de découverte."))
    if not errors:
        # Every address becomes a capture: refuse the claim, creating nothing, rather than open
        # it with captures the insurer's hourly limit would refuse one by one.
        from django.core.exceptions import ValidationError

        from evidence.services import captures_hourly_check

        try:
            captures_hourly_check(adding=len(clean_urls))
        except ValidationError as exc:
            errors += exc.messages
    if errors:
        raise ClaimActionRefused(errors)
    located = _passage_offsets(source_text=source_text, quotes=clean_quotes)

    facts = []
    if author_is_doctor:
        facts.append(ClaimFact.AUTHOR_IS_DOCTOR.value)
    if not author_name.strip():
        facts.append(ClaimFact.AUTHOR_ANONYMOUS.value)
    if direct_reply_available:
        facts.append(ClaimFact.DIRECT_REPLY_AVAILABLE.value)
    claim = Claim.objects.create(
        reference=f"TMP-{uuid.uuid4().hex[:16]}",
        doctor=doctor,
        opened_by=opened_by,
        urls=clean_urls,
        source_text=source_text,
        publication_date=publication_date or seen_date,
        publication_date_estimated=publication_date is None,
        publication_date_source=(
            PublicationDateSource.DOCTOR
            if publication_date is not None
            else PublicationDateSource.DISCOVERY
        ),
        seen_date=seen_date,
        author_name=author_name.strip(),
        description=description.strip(),
        facts=facts,
    )
    claim.reference = f"S-{today:%Y}-{claim.pk:05d}"
    claim.save(update_fields=["reference"])
    Passage.objects.bulk_create(
        Passage(claim=claim, position=i, quote=q, start=s, end=e)
        for i, (q, s, e) in enumerate(located)
    )
    # T_seen feeds the insurer-declaration clock, never the press-law one (DOMAIN §3).
    ClaimEvent.objects.create(
        claim=claim,
        kind=ClaimEventKind.CONTENT_DISCOVERED.value,
        date=seen_date,
        recorded_by=opened_by,
    )
    for url in clean_urls:
        _evidence_capture_request(claim=claim, url=url, requested_by=opened_by, today=today)
    _timeline_add(claim=claim, kind=TimelineKind.CLAIM_OPENED, by=opened_by, date=today)
    claim_deadlines_refresh(claim=claim, today=today)
    return claim


ANSWER_FIELDS = (
    "precise_factual_imputation",
    "outrageous_expression",
    "targets_services_not_person",
    "discloses_private_life",
    "shows_picture_or_video",
    "calls_to_discrimination_or_violence",
)


@transaction.atomic
def claim_questionnaire_answer(
    *,
    claim: Claim,
    by: Any,
    page_is_listing: bool,
    answers: Sequence[Mapping[str, Any]],
) -> list[Passage]:
    """Store the §2.2 answers of each passage and the category the questionnaire proposes."""
    passages = list(claim.passages.all())
    if claim.state != LadderState.INTAKE.value:
        raise ClaimActionRefused([_("Le questionnaire se remplit à l'ouverture du dossier.")])
    if len(answers) != len(passages):
        raise ClaimActionRefused([_("Répondez au questionnaire pour chaque passage.")])
    items = []
    for passage, raw in zip(passages, answers, strict=True):
        grounds = frozenset(DiscriminatoryGround(g) for g in raw.get("discriminatory_grounds", ()))
        flags = {name: bool(raw.get(name)) for name in ANSWER_FIELDS}
        items.append(
            PassageAnswers(
                quote=passage.quote,
                start=passage.start,
                end=passage.end,
                discriminatory_grounds=grounds,
                **flags,
            )
        )
    result = classification_propose(
        questionnaire=Questionnaire(page_is_listing=page_is_listing, passages=tuple(items)),
        source_text=claim.source_text,
    )
    for passage, item, proposal in zip(passages, items, result.passages, strict=True):
        passage.answers = {
            "discriminatory_grounds": sorted(g.value for g in item.discriminatory_grounds),
            **{name: getattr(item, name) for name in ANSWER_FIELDS},
        }
        passage.proposed_category = proposal.category.value
        passage.proposed_step = proposal.step
        passage.save(update_fields=["answers", "proposed_category", "proposed_step"])
    claim.page_is_listing = page_is_listing
    claim.save(update_fields=["page_is_listing", "updated_at"])
    labels = ", ".join(str(CATEGORY_RULES[p.category].label) for p in result.passages)
    _timeline_add(
        claim=claim,
        kind=TimelineKind.QUESTIONNAIRE_ANSWERED,
        by=by,
        date=timezone.localdate(),
        note=_("Qualification proposée : %(labels)s (à confirmer par le gestionnaire).")
        % {"labels": labels},
        notify=False,
    )
    claim_deadlines_refresh(claim=claim)
    return passages


def _qualification_for(*, category: ContentCategory, answers: Mapping[str, Any]) -> tuple[str, str]:
    """The precise qualification of ``category`` that the stored answers point to."""
    for qualification in QUALIFICATIONS[category]:
        field = qualification.answer_field
        if field is None or answers.get(field):
            return str(qualification.label), str(qualification.legal_basis)
    return "", ""  # pragma: no cover - every category has a fallback


@transaction.atomic
def claim_qualify(
    *,
    claim: Claim,
    by: Any,
    categories: Mapping[int, str],
    qualifications: Mapping[int, str] | None = None,
    legal_bases: Mapping[int, str] | None = None,
    facts: Sequence[str] | None = None,
) -> Claim:
    """The handler confirms one category per passage (keyed by passage id); the qualification
    and articles follow the questionnaire's answers unless the handler words them."""
    passages = list(claim.passages.all())
    errors = []
    valid = {c.value for c in ContentCategory}
    for passage in passages:
        value = categories.get(passage.pk, "")
        if value not in valid:
            errors.append(
                _("Choisissez une qualification pour le passage « %(quote)s ».")
                % {"quote": passage.quote}
            )
    if errors:
        raise ClaimActionRefused(errors)
    for passage in passages:
        category = ContentCategory(categories[passage.pk])
        label, basis = _qualification_for(category=category, answers=passage.answers)
        passage.confirmed_category = category.value
        passage.qualification = ((qualifications or {}).get(passage.pk) or label).strip()
        passage.legal_basis = ((legal_bases or {}).get(passage.pk) or basis).strip()
        passage.save(update_fields=["confirmed_category", "qualification", "legal_basis"])
    if facts is not None:
        claim.facts = sorted({ClaimFact(f).value for f in facts})
        claim.save(update_fields=["facts", "updated_at"])
    summary = "; ".join(f"« {p.quote} » : {p.qualification}" for p in passages)
    _timeline_add(
        claim=claim, kind=TimelineKind.QUALIFIED, by=by, date=timezone.localdate(), note=summary
    )
    claim_deadlines_refresh(claim=claim)
    return claim


@transaction.atomic
@transaction.atomic
def claim_assign(*, claim: Claim, handler: Any, by: Any) -> Claim:
    """Give the claim to one of the insurer's handlers: audited on the claim's (staff-only)
    timeline; a colleague who is given the claim is told by e-mail, after commit."""
    if handler is None or not claim_handlers().filter(pk=handler.pk).exists():
        raise ClaimActionRefused([_("Choisissez un gestionnaire sinistres de l'assureur.")])
    if claim.assigned_to_id == handler.pk:
        return claim
    previous = claim.assigned_to
    claim.assigned_to = handler
    claim.save(update_fields=["assigned_to", "updated_at"])
    note = _("Attribué à %(to)s par %(by)s.") % {
        "to": _user_label(handler),
        "by": _user_label(by),
    }
    if previous is not None:
        note += " " + _("Auparavant : %(from)s.") % {"from": _user_label(previous)}
    event = _timeline_add(
        claim=claim,
        kind=TimelineKind.ASSIGNED,
        by=by,
        date=timezone.localdate(),
        note=note,
        ref=f"user-{handler.pk}",
        visible_to_doctor=False,
    )
    if handler.pk != getattr(by, "pk", None):
        from cover.claims.tasks import claim_handler_notify
        from tenants.services import task_enqueue_on_commit

        task_enqueue_on_commit(
            actor=claim_handler_notify, kwargs={"claim_id": claim.pk, "event_id": event.pk}
        )
    return claim


def _user_label(user: Any) -> str:
    return (user.get_full_name() or user.email) if user is not None else "—"


def claim_handler_email_send(*, claim_id: int, event_id: int) -> None:
    """E-mail the handler a claim was assigned to, with a link to the claim in the admin.

    Idempotent and safe to retry: it reads the assignment event and writes nothing; a claim
    assigned to someone else since is not announced."""
    from tenants.db import connection
    from tenants.selectors import tenant_base_url

    event = ClaimEvent.objects.select_related("claim__assigned_to").filter(pk=event_id).first()
    if event is None or event.claim_id != claim_id or event.kind != TimelineKind.ASSIGNED:
        return
    claim = event.claim
    handler = claim.assigned_to
    if handler is None or event.ref != f"user-{handler.pk}" or not handler.email:
        return
    base = tenant_base_url(connection.tenant)  # type: ignore[arg-type]
    link = f"{base}/admin/sinistres/{claim.pk}/"
    mail_send(
        to=handler.email,
        kind=MailKind.CLAIM_ASSIGNED,
        context={
            "reference": claim.reference,
            "note": event.note,
            "prochaine_echeance": (
                f"{claim.next_deadline_label} — {_fmt(claim.next_deadline_date)}"
                if claim.next_deadline_date
                else "—"
            ),
        },
        link_path=link,
    )


def claim_note_add(*, claim: Claim, text: str, by: Any) -> ClaimNote:
    """An internal note: staff only, never on the doctor's timeline nor in an e-mail."""
    text = text.strip()
    if not text:
        raise ClaimActionRefused([_("La note est vide.")])
    note = ClaimNote(claim=claim, text=text, author=by)
    note.full_clean()
    note.save()
    return note


ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
# Extension → accepted content types, with the first bytes the file must start with (None: no
# signature to check, e.g. plain text). What the browser claims is not trusted.
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    "odt": ("application/vnd.oasis.opendocument.text", (b"PK\x03\x04",)),
    "txt": ("text/plain", None),
    "eml": ("message/rfc822", None),
}
ATTACHMENT_FORMATS = "PDF, JPEG, PNG, DOCX, ODT, TXT, EML"


def _size_fr(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",") + "\u202fMo"


def claim_attachment_problems(*, upload: UploadedFile) -> list[str]:
    """Why an uploaded file is refused (French, shown as is), or nothing."""
    name = upload.name or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    problems = []
    if upload.size is None or upload.size == 0:
        problems.append(_("Le fichier est vide."))
    elif upload.size > ATTACHMENT_MAX_BYTES:
        problems.append(
            _("Fichier trop volumineux : %(size)s (maximum %(max)s).")
            % {"size": _size_fr(upload.size), "max": _size_fr(ATTACHMENT_MAX_BYTES)}
        )
    if extension not in ATTACHMENT_TYPES:
        problems.append(
            _("Type de fichier non accepté (%(name)s). Formats acceptés : %(formats)s.")
            % {"name": name[-80:] or "—", "formats": ATTACHMENT_FORMATS}
        )
    elif not problems:
        signatures = ATTACHMENT_TYPES[extension][1]
        upload.seek(0)
        head = upload.read(16)
        upload.seek(0)
        if signatures is not None and not head.startswith(signatures):
            problems.append(
                _("Le contenu du fichier ne correspond pas à son extension (.%(ext)s).")
                % {"ext": extension}
            )
    return problems


@transaction.atomic
def claim_attachment_add(
    *, claim: Claim, upload: UploadedFile, description: str, by: Any
) -> ClaimAttachment:
    """A file on the claim, staff only: stored privately, served by a view that checks the
    permission (``Content-Disposition: attachment``)."""
    problems = claim_attachment_problems(upload=upload)
    if problems:
        raise ClaimActionRefused(problems)
    extension = (upload.name or "").rsplit(".", 1)[-1].lower()
    attachment = ClaimAttachment(
        claim=claim,
        original_name=(upload.name or "")[-200:],
        content_type=ATTACHMENT_TYPES[extension][0],
        size=upload.size or 0,
        description=description.strip()[:300],
        uploaded_by=by,
    )
    attachment.file.save(upload.name or f"piece.{extension}", upload, save=False)
    attachment.save()
    return attachment


@transaction.atomic
def claim_event_record(
    *,
    claim: Claim,
    kind: ClaimEventKind,
    date: datetime.date,
    by: Any,
    ref: str = "",
    note: str = "",
    today: datetime.date | None = None,
) -> ClaimEvent:
    """Record a dated legal event (constat done, lawyer engaged, receipt...): it feeds the
    clocks, so it may not be dated in the future nor before the publication. An archive date
    (``CONTENT_ARCHIVED``) is the exception: it is evidence that the content was online
    earlier, and an estimated publication date moves to it."""
    today = _today(today)
    if date > today:
        raise ClaimActionRefused([_("Un événement ne peut pas être daté dans le futur.")])
    if date < claim.publication_date and kind is not ClaimEventKind.CONTENT_ARCHIVED:
        raise ClaimActionRefused(
            [_("Un événement ne peut pas précéder la publication du contenu.")]
        )
    event = _timeline_add(
        claim=claim, kind=kind.value, by=by, date=date, ref=ref, note=note, notify=True
    )
    claim_deadlines_refresh(claim=claim, today=today)
    return event


@transaction.atomic
def claim_publication_date_correct(
    *,
    claim: Claim,
    new_date: datetime.date,
    reason: str,
    by: Any,
    today: datetime.date | None = None,
) -> PublicationDateChange:
    """A handler sets the publication date (T_pub) with a reason: every deadline is recomputed
    from it, the queue follows, and the change is audited (who, when, old, new, why) on the
    claim's staff timeline. The corrected date is no longer an estimate."""
    today = _today(today)
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    errors: list[str] = []
    reason = reason.strip()
    if not reason:
        errors.append(_("Indiquez le motif de la correction de la date de publication."))
    if new_date > today:
        errors.append(_("La date de publication ne peut pas être dans le futur."))
    if new_date > claim.seen_date:
        errors.append(
            _("La date de publication ne peut pas suivre la date de découverte (%(seen)s).")
            % {"seen": _fmt(claim.seen_date)}
        )
    if new_date == claim.publication_date and not claim.publication_date_estimated:
        errors.append(_("La date de publication est déjà le %(day)s.") % {"day": _fmt(new_date)})
    earlier = (
        claim.events.filter(kind__in=[k.value for k in ClaimEventKind], date__lt=new_date)
        .exclude(
            kind__in=[
                ClaimEventKind.CONTENT_ARCHIVED.value,  # evidence, may precede
                ClaimEventKind.CONTENT_DISCOVERED.value,  # the discovery date is checked above
            ]
        )
        .order_by("date", "pk")
        .first()
    )
    if earlier is not None:
        errors.append(
            _(
                "L'événement « %(event)s » du %(day)s précède cette date : une publication ne "
                "peut pas suivre un acte qui la vise."
            )
            % {"event": earlier.get_kind_display(), "day": _fmt(earlier.date)}
        )
    if errors:
        raise ClaimActionRefused(errors)
    change = PublicationDateChange.objects.create(
        claim=claim,
        old_date=claim.publication_date,
        old_estimated=claim.publication_date_estimated,
        old_source=claim.publication_date_source,
        new_date=new_date,
        reason=reason,
        changed_by=by,
    )
    old = claim.publication_date
    claim.publication_date = new_date
    claim.publication_date_estimated = False
    claim.publication_date_source = PublicationDateSource.HANDLER
    claim.save(
        update_fields=[
            "publication_date",
            "publication_date_estimated",
            "publication_date_source",
            "updated_at",
        ]
    )
    _timeline_add(
        claim=claim,
        kind=TimelineKind.PUBLICATION_DATE_CORRECTED,
        by=by,
        date=today,
        ref=f"publication-{change.pk}",
        note=_("%(old)s%(estimated)s → %(new)s. Motif : %(reason)s")
        % {
            "old": _fmt(old),
            "estimated": _(" (estimée)") if change.old_estimated else "",
            "new": _fmt(new_date),
            "reason": reason,
        },
        visible_to_doctor=False,
    )
    claim_deadlines_refresh(claim=claim, today=today)
    return change


@transaction.atomic
def claim_republication_record(
    *,
    claim: Claim,
    date: datetime.date,
    by: Any,
    url: str = "",
    note: str = "",
    today: datetime.date | None = None,
) -> ClaimEvent:
    """Record a republication of the content (a new making available, a new link to it): it
    opens a new press-law period for the republished content from its own date (DOMAIN §3).
    A mere change of the site's address is not one; the handler says what was republished."""
    url = url.strip()
    if url and not _URL_RE.match(url):
        raise ClaimActionRefused([_("Adresse invalide : %(url)s") % {"url": url}])
    number = claim.events.filter(kind=ClaimEventKind.CONTENT_REPUBLISHED.value).count() + 1
    parts = [p for p in (url, note.strip()) if p]
    return claim_event_record(
        claim=claim,
        kind=ClaimEventKind.CONTENT_REPUBLISHED,
        date=date,
        by=by,
        ref=f"republication-{number}",
        note=" — ".join(parts),
        today=today,
    )


# --------------------------------------------------------------------------------------------
# Cover check (rules as data)
# --------------------------------------------------------------------------------------------


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
        reason = _("Aucun contrat actif ne vous couvre au %(today)s.") % {"today": _fmt(today)}
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
    by: Any,
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
def cover_check(*, claim: Claim, by: Any, today: datetime.date | None = None) -> CoverDecision:
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
    by: Any,
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
    *, claim: Claim, by: Any, reason: str, today: datetime.date | None = None
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


# --------------------------------------------------------------------------------------------
# Ladder
# --------------------------------------------------------------------------------------------


@transaction.atomic
def claim_transition(
    *,
    claim: Claim,
    to_state: LadderState,
    by: Any,
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
    by: Any,
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


# --------------------------------------------------------------------------------------------
# Letters
# --------------------------------------------------------------------------------------------

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
    import weasyprint

    template = LetterTemplate.objects.filter(kind=kind.value).first()
    if template is None:
        from cover.claims.letter_templates import DEFAULT_BODIES

        body, title = DEFAULT_BODIES[kind], str(LETTER_SPECS[kind].label)
    else:
        body, title = template.body, template.title
    engine = engines["django"]
    nested = _nest(values)
    # Insurer-edited bodies render in a restricted engine: no settings, secrets or tag libraries.
    from cover.claims.letter_templates import LetterTemplateInvalid, letter_body_render

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
    by: Any,
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
    by: Any,
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
    by: Any,
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
            % {"sent": _fmt(letter.sent_at)}
        )
    if letter.received_on is not None:
        errors.append(
            _("La réception de ce courrier est déjà enregistrée (%(day)s).")
            % {"day": _fmt(letter.received_on)}
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
    by: Any,
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
            % {"sent": _fmt(letter.sent_at)}
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


# --------------------------------------------------------------------------------------------
# Costs
# --------------------------------------------------------------------------------------------


@transaction.atomic
def cost_record(
    *,
    claim: Claim,
    kind: CostKind,
    amount_cents: int,
    incurred_on: datetime.date,
    label: str,
    by: Any,
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
                held.cover_notes = [reached % {"day": _fmt(incurred_on)}, *held.cover_notes]
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


# --------------------------------------------------------------------------------------------
# Reply assistant
# --------------------------------------------------------------------------------------------


def reply_default_option(*, claim: Claim) -> ReplyOption:
    return reply_options(categories=claim_categories(claim=claim)).default


@transaction.atomic
def reply_draft_check(*, claim: Claim, text: str, by: Any) -> ReplyDraft:
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
def reply_draft_approve(*, draft: ReplyDraft, by: Any) -> ReplyDraft:
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
def reply_no_reply_choose(*, claim: Claim, by: Any) -> ReplyDraft:
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


# --------------------------------------------------------------------------------------------
# Reminders and provisioning
# --------------------------------------------------------------------------------------------


def claims_deadline_reminders_send(*, today: datetime.date | None = None) -> int:
    """E-mail the handler (or every claims handler) about each alert or due date reached today.

    Idempotent per claim, clock and day: a REMINDER_SENT event keyed by both is written once.
    """
    from django.contrib.auth.models import Group

    from tenants.roles import CLAIMS_HANDLER

    today = _today(today)
    sent = 0
    handlers = Group.objects.filter(name=CLAIMS_HANDLER).first()
    fallback = list(handlers.user_set.values_list("email", flat=True)) if handlers else []
    configuration = clock_configuration()
    claims = Claim.objects.exclude(state=LadderState.CLOSED.value).exclude(
        cover_status=CoverStatus.REFUSED  # deadlines closed by the refusal
    )
    for claim in claims.select_related("assigned_to"):
        claim_deadlines_refresh(claim=claim, today=today)
        # Clocks started by an event (insurer declaration...) run before any qualification.
        for deadline in claim_deadlines(claim=claim, today=today, configuration=configuration):
            if deadline.status.value == "done":
                continue
            if today not in (*deadline.alert_dates, deadline.due_date, deadline.act_by_date):
                continue
            key = f"{deadline.clock_id}:{deadline.ref}:{today.isoformat()}"
            if claim.events.filter(kind=TimelineKind.REMINDER_SENT, ref=key).exists():
                continue
            recipients = [claim.assigned_to.email] if claim.assigned_to else fallback
            if recipients:
                # Sent on the alert dates of a legal clock: immediate, never in a digest.
                mail_send(
                    to=recipients,
                    kind=MailKind.DEADLINE_REMINDER,
                    context={
                        "reference": claim.reference,
                        "echeance": deadline.label,
                        "date_echeance": _fmt(deadline.due_date),
                        "jours_restants": deadline.days_left,
                        "jour_ouvre": _("Jour non ouvré : à accomplir avant le %(day)s.\n")
                        % {"day": _fmt(deadline.act_by_date)}
                        if deadline.act_by_date
                        else "",
                        "fondement": deadline.legal_basis,
                    },
                    link_path=f"/admin/sinistres/{claim.pk}/",
                    urgent=True,
                )
            ClaimEvent.objects.create(
                claim=claim,
                kind=TimelineKind.REMINDER_SENT,
                date=today,
                ref=key,
                note=str(deadline.label),
                visible_to_doctor=False,
            )
            sent += 1
    return sent


def claims_provision() -> None:
    """Seed an insurer's letter templates (one per letter kind) with the French defaults."""
    from cover.claims.letter_templates import DEFAULT_BODIES

    for kind in LetterKind:
        LetterTemplate.objects.get_or_create(
            kind=kind.value,
            defaults={"title": str(LETTER_SPECS[kind].label), "body": DEFAULT_BODIES[kind]},
        )


# --------------------------------------------------------------------------------------------
# Evidence to the commissaire de justice
# --------------------------------------------------------------------------------------------


def claim_evidence_send(
    *,
    claim: Claim,
    capture_id: int,
    partner: Partner,
    expires_in_days: int,
    by: Any,
    today: datetime.date | None = None,
) -> ClaimEvent:
    """Send one of the claim's captures to a commissaire de justice of the directory.

    The bundle leaves as an expiring link (the evidence app records it in the custody log);
    the claim's timeline keeps who sent what to whom.
    """
    from django.core.exceptions import ValidationError

    from cover.claims.selectors import claim_capture_ids
    from evidence.selectors import capture_detail
    from evidence.services import capture_share

    reasons = []
    if capture_id not in claim_capture_ids(claim=claim):
        reasons.append(_("Cette capture n'appartient pas à ce sinistre."))
    if partner.kind != PartnerKind.COMMISSAIRE or not partner.active:
        reasons.append(_("Choisissez un commissaire de justice actif de l'annuaire."))
    capture = capture_detail(capture_id=capture_id)
    if capture is None:
        reasons.append(_("Capture introuvable."))
    if reasons or capture is None:
        raise ClaimActionRefused(reasons)
    try:
        with transaction.atomic():
            capture_share(
                capture=capture,
                recipient_email=partner.email,
                expires_in=datetime.timedelta(days=expires_in_days),
                shared_by=by,
            )
            return _timeline_add(
                claim=claim,
                kind=TimelineKind.EVIDENCE_SENT,
                by=by,
                date=_today(today),
                note=_(
                    "Capture n° %(id)s envoyée à %(name)s (%(email)s), lien valable %(days)s jours"
                )
                % {
                    "id": capture_id,
                    "name": partner.name,
                    "email": partner.email,
                    "days": expires_in_days,
                },
                ref=f"capture-{capture_id}-sent-{partner.pk}",
                visible_to_doctor=True,
            )
    except ValidationError as exc:
        raise ClaimActionRefused(exc.messages) from exc


# --------------------------------------------------------------------------------------------
# Demo
# --------------------------------------------------------------------------------------------

DEMO_REVIEW = (
    "Le Dr {name} est un escroc. Il m'a facturé des actes jamais réalisés. "
    "Attente interminable au cabinet."
)


def claims_demo_seed(*, doctor_email: str) -> Claim | None:
    """One defamation claim for the demo doctor, published 20 days ago, so the handlers' queue
    shows a live deadline. Idempotent: nothing is added when the doctor has a claim already.

    The address is in a documentation range (RFC 5737): the capture guard refuses it without
    any network traffic, and the claim's timeline says so, as it would for a real refusal.
    """
    doctor = Doctor.objects.filter(user__username=doctor_email).select_related("user").first()
    if doctor is None or Claim.objects.filter(doctor=doctor).exists():
        return None
    today = timezone.localdate()
    review = DEMO_REVIEW.format(name=doctor.user.last_name)
    return claim_open(
        doctor=doctor,
        opened_by=doctor.user,
        urls=["https://192.0.2.10/avis/medecin"],
        source_text=review,
        quotes=[
            "Le Dr " + doctor.user.last_name + " est un escroc.",
            "Il m'a facturé des actes jamais réalisés.",
        ],
        seen_date=today - datetime.timedelta(days=3),
        publication_date=today - datetime.timedelta(days=20),
        author_name="Jean D.",
        today=today,
    )
