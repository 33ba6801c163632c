"""Opening a claim, then qualifying it through the questionnaire or the handler's choice."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cover.claims.models import Claim, ClaimEvent, Passage, PublicationDateSource, TimelineKind
from cover.claims.services.captures import _evidence_capture_request
from cover.claims.services.common import _URL_RE, ClaimActionRefused, _timeline_add, _today
from cover.claims.services.deadlines import claim_deadlines_refresh
from cover.classification import (
    QUALIFICATIONS,
    DiscriminatoryGround,
    PassageAnswers,
    Questionnaire,
    classification_propose,
)
from cover.ladder import LadderState
from cover.models import Doctor
from cover.rules import CATEGORY_RULES, ClaimEventKind, ClaimFact, ContentCategory
from evidence.services.requests import captures_hourly_check


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


def _claim_open_problems(
    *,
    urls: list[str],
    quotes: list[str],
    source_text: str,
    seen_date: datetime.date,
    publication_date: datetime.date | None,
    today: datetime.date,
) -> list[str]:
    """What stops the doctor's report from opening a claim (French, in the form's order)."""
    errors: list[str] = []
    if not urls:
        errors.append(_("Indiquez au moins une adresse (URL) du contenu."))
    if len(urls) > CLAIM_URLS_MAX:
        # Each address becomes a capture: one form must not queue thousands of them.
        errors.append(
            _("%(n)d adresses : un dossier en compte %(max)d au plus. Ouvrez un dossier par "
              "contenu, ou signalez les autres adresses à votre gestionnaire.")
            % {"n": len(urls), "max": CLAIM_URLS_MAX}
        )  # fmt: skip
    else:
        errors += [
            _("Adresse invalide : %(url)s") % {"url": u} for u in urls if not _URL_RE.match(u)
        ]
    if len(quotes) > CLAIM_QUOTES_MAX:
        errors.append(
            _("%(n)d passages cités : %(max)d au plus par dossier.")
            % {"n": len(quotes), "max": CLAIM_QUOTES_MAX}
        )
    if not source_text.strip():
        errors.append(_("Copiez le texte du contenu en cause."))
    if not quotes:
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
        try:
            captures_hourly_check(adding=len(urls))
        except ValidationError as exc:
            errors += exc.messages
    return errors


def _declared_facts(
    *, author_is_doctor: bool, author_name: str, direct_reply_available: bool
) -> list[str]:
    facts = []
    if author_is_doctor:
        facts.append(ClaimFact.AUTHOR_IS_DOCTOR.value)
    if not author_name.strip():
        facts.append(ClaimFact.AUTHOR_ANONYMOUS.value)
    if direct_reply_available:
        facts.append(ClaimFact.DIRECT_REPLY_AVAILABLE.value)
    return facts


def _claim_create(
    *,
    doctor: Doctor,
    opened_by: User,
    urls: list[str],
    source_text: str,
    seen_date: datetime.date,
    publication_date: datetime.date | None,
    author_name: str,
    description: str,
    facts: list[str],
    today: datetime.date,
) -> Claim:
    """The claim row, its reference numbered from its key once it has one."""
    claim = Claim.objects.create(
        reference=f"TMP-{uuid.uuid4().hex[:16]}",
        doctor=doctor,
        opened_by=opened_by,
        urls=urls,
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
    return claim


@transaction.atomic
def claim_open(
    *,
    doctor: Doctor,
    opened_by: User,
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
    clean_urls = list(dict.fromkeys(u.strip() for u in urls if u.strip()))
    clean_quotes = [q.strip() for q in quotes if q.strip()]
    errors = _claim_open_problems(
        urls=clean_urls,
        quotes=clean_quotes,
        source_text=source_text,
        seen_date=seen_date,
        publication_date=publication_date,
        today=today,
    )
    if errors:
        raise ClaimActionRefused(errors)
    located = _passage_offsets(source_text=source_text, quotes=clean_quotes)
    claim = _claim_create(
        doctor=doctor,
        opened_by=opened_by,
        urls=clean_urls,
        source_text=source_text,
        seen_date=seen_date,
        publication_date=publication_date,
        author_name=author_name,
        description=description,
        facts=_declared_facts(
            author_is_doctor=author_is_doctor,
            author_name=author_name,
            direct_reply_available=direct_reply_available,
        ),
        today=today,
    )
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
    by: User,
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
    by: User,
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
