"""The values a letter is filled with, and the cover refusal notice."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from wagtail.models import Site

from common.formatting import date_short
from cover.claims.models import Claim, CoverStatus, Partner, TimelineKind
from cover.claims.selectors.engine import claim_categories
from cover.letter_fields import (
    CONSTAT_RECOMMENDED_OPERATIONS,
    CONSTAT_REQUIRED_OPERATIONS,
    LetterKind,
    SenderCapacity,
    letter_default_values,
)
from cover.models import Branding
from cover.rules import CATEGORY_RULES, ClaimEventKind
from cover.selectors import legal_info_current


def claim_passages_for_letters(*, claim: Claim) -> list[dict[str, Any]]:
    """Confirmed passages only: a letter quotes what the handler qualified, verbatim."""
    return [
        {
            "quote": p.quote,
            "qualification": p.qualification if p.confirmed_category else "",
            "legal_basis": p.legal_basis if p.confirmed_category else "",
        }
        for p in claim.passages.all()
    ]


def _letter_people_values(*, claim: Claim) -> dict[str, Any]:
    """The doctor as sender, notifier, requester, insured and data subject."""
    doctor = claim.doctor
    user = doctor.user
    name = f"Dr {user.get_full_name()}".strip() if user.get_full_name() else user.email
    return {
        # Sender / notifier / requester: the doctor
        "notifier.name": name,
        "notifier.email": user.email,
        "notifier.capacity": SenderCapacity.DOCTOR.value,
        "notifier.postal_address": doctor.practice_address,
        "notifier.profession": f"Médecin ({doctor.specialty})" if doctor.specialty else "Médecin",
        "sender.name": name,
        "sender.capacity": SenderCapacity.DOCTOR.value,
        "requester.name": name,
        "requester.capacity": SenderCapacity.DOCTOR.value,
        "doctor.name": name,
        "doctor.rpps": doctor.rpps,
        "insured.name": name,
        "complainant.name": name,
        "data_subject.name": name,
    }


def _letter_content_values(*, claim: Claim) -> dict[str, Any]:
    """The content in cause: its addresses, confirmed passages, author and dates."""
    passages = claim_passages_for_letters(claim=claim)
    urls = list(claim.urls)
    published = date_short(claim.publication_date)
    return {
        # The content
        "content.urls": urls,
        "listing.urls": urls,
        "result_urls": urls,
        "content.passages": passages,
        "content.author_pseudonym": claim.author_name,
        "content.display_date": published,
        "content.date": published,
        "content.publication_date": published,
        "content.discovery_date": date_short(claim.seen_date),
        "message.references": f"Contenu mis en ligne le {published}" if published else "",
        "message.access_conditions": ", ".join(urls),
        "message.author_name": claim.author_name,
        "message.author_shown": bool(claim.author_name),
        "message.nature": "Écrit",
        "message.disputed_passages": [p["quote"] for p in passages],
        "message.publication_date": published,
        "recipient.name": claim.author_name,
    }


def letter_values_auto(
    *, claim: Claim, kind: LetterKind, today: datetime.date, partner: Partner | None = None
) -> dict[str, Any]:
    """Values the claim already knows, under the dotted names of ``cover.letter_fields``.

    The doctor is the sender by default (capacity DOCTOR); a handler signing for the insurer
    switches the capacity and must then give the mandate (the spec requires it).
    """
    site = Site.objects.filter(is_default_site=True).first()
    insurer_name = Branding.for_site(site).display_name if site else ""
    capture_refs = [
        e.ref or e.note
        for e in claim.events.all()
        if e.kind in {ClaimEventKind.CAPTURE_DONE.value, TimelineKind.CAPTURE_REQUESTED.value}
    ]
    categories = claim_categories(claim=claim)
    values: dict[str, Any] = {
        "notice_date": date_short(today),
        "letter_date": date_short(today),
        "claim.reference": claim.reference,
        **_letter_people_values(claim=claim),
        **_letter_content_values(claim=claim),
        # Insurance
        "policy.number": claim.policy.number if claim.policy else "",
        "insurer.name": insurer_name,
        "facts": claim.description,
        "proposed_categories": [str(CATEGORY_RULES[c].label) for c in categories],
        # Constat
        "required_operations": [str(op) for op in CONSTAT_REQUIRED_OPERATIONS],
        "recommended_operations": [str(op) for op in CONSTAT_RECOMMENDED_OPERATIONS],
        "capture_reference": ", ".join(r for r in capture_refs if r),
        "compliance_deadline_days": 8,
        # Editable defaults for the wording a handler would otherwise retype every time.
        "demand": (
            "retirer les passages cités ci-dessus et ne pas les republier, sur quelque support "
            "que ce soit"
        ),
        "requested_action": (
            "Retrait des passages cités ou blocage de leur accès ; conservation des données "
            "permettant l'identification de leur auteur en vue d'une décision judiciaire."
        ),
        "urgency": "Le contenu peut être modifié ou retiré à tout moment.",
        "lawyer_choice": "L'assuré conserve le libre choix de son avocat (C. assur. L127-2-3).",
    }
    if partner is not None:
        office = partner.office or partner.name
        values["commissaire.office"] = f"{office} — {partner.name}, {partner.email}"
        values["commissaire.email"] = partner.email
    values.update(letter_default_values(kind=kind))
    return values


@dataclass(frozen=True)
class RefusalNotice:
    """What a doctor is told of a refused cover: the decision, the clause it applies and the
    routes to contest it (the insurer's complaint service, then the insurance mediator)."""

    reasons: tuple[str, ...]
    clause_lines: tuple[str, ...]
    decided_on: datetime.date | None
    complaint_contact: str
    mediator_name: str
    mediator_url: str
    mediator_address: str


def claim_refusal_notice(*, claim: Claim) -> RefusalNotice | None:
    """The refusal of ``claim`` as the doctor's page and e-mail show it; ``None`` unless the
    cover is refused. Complaint and mediation details come from the insurer's legal
    information (empty when the insurer has not filled them in)."""
    if claim.cover_status != CoverStatus.REFUSED:
        return None
    legal = legal_info_current()
    return RefusalNotice(
        reasons=tuple(str(r) for r in claim.cover_reasons),
        clause_lines=tuple(line for line in claim.cover_clause.splitlines() if line.strip()),
        decided_on=timezone.localdate(claim.cover_checked_at) if claim.cover_checked_at else None,
        complaint_contact=legal.complaint_service_contact.strip(),
        mediator_name=legal.mediator_name.strip(),
        mediator_url=legal.mediator_url.strip(),
        mediator_address=legal.mediator_address.strip(),
    )
