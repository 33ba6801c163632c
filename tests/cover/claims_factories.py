"""Factories for claims tests (call inside ``tenant_context``)."""

from __future__ import annotations

import datetime
import itertools

from cover.claims.models import Claim
from cover.claims.services.events import claim_event_record
from cover.claims.services.ladder import claim_transition
from cover.claims.services.opening import claim_open, claim_qualify
from cover.ladder import LadderState
from cover.models import Doctor
from cover.rules import ClaimEventKind
from tests.cover.factories import DoctorFactory
from tests.tenants.factories import ClaimsHandlerFactory

_seq = itertools.count(1)

REVIEW = (
    "Le Dr Martin est un escroc. Il m'a facturé des actes jamais réalisés. "
    "Attente interminable au cabinet."
)
DEFAMATORY = "Il m'a facturé des actes jamais réalisés."
INSULT = "Le Dr Martin est un escroc."
WAITING = "Attente interminable au cabinet."
# Loopback only: tests never send traffic outside 127.0.0.0/8 (the capture guard allows it
# only where a test sets EGIDE_CAPTURE_ALLOW).
REVIEW_URL = "http://127.0.0.1:9/medecin/martin/avis-42"


def doctor_create(*, email: str | None = None, last_name: str = "Martin") -> Doctor:
    n = next(_seq)
    return DoctorFactory(
        user__email=email or f"medecin{n}-{last_name.lower()}@exemple.fr",
        user__last_name=last_name,
        rpps=f"{10_000_000_000 + n * 7919:011d}"[-11:],
        specialty="Dermatologie",
        practice_name=f"Cabinet du Dr {last_name}",
        practice_address="12 rue des Lilas, 75011 Paris",
        city="Paris",
    )


def handler_create(*, email: str | None = None):
    n = next(_seq)
    return ClaimsHandlerFactory(
        email=email or f"gestionnaire{n}@exemple.fr", first_name="Paul", last_name="Gestion"
    )


def claim_create(
    *,
    doctor: Doctor | None = None,
    publication_date: datetime.date = datetime.date(2025, 3, 10),
    seen_date: datetime.date = datetime.date(2025, 3, 12),
    quotes: tuple[str, ...] = (DEFAMATORY,),
    source_text: str = REVIEW,
    author_name: str = "Jean D.",
    today: datetime.date = datetime.date(2025, 3, 12),
    **kwargs,
) -> Claim:
    doctor = doctor or doctor_create()
    return claim_open(
        doctor=doctor,
        opened_by=doctor.user,
        urls=kwargs.pop("urls", [REVIEW_URL]),
        source_text=source_text,
        quotes=list(quotes),
        seen_date=seen_date,
        publication_date=publication_date,
        author_name=author_name,
        today=today,
        **kwargs,
    )


def claim_qualified(
    *,
    categories: tuple[str, ...] = ("DIFFAMATION",),
    by=None,
    **kwargs,
) -> Claim:
    """A claim whose passages are confirmed with the given categories, in order."""
    claim = claim_create(**kwargs)
    passages = list(claim.passages.all())
    claim_qualify(
        claim=claim,
        by=by or claim.doctor.user,
        categories={p.pk: c for p, c in zip(passages, categories, strict=True)},
    )
    claim.refresh_from_db()
    return claim


def claim_with_proof(
    *,
    handler=None,
    today: datetime.date = datetime.date(2025, 3, 12),
    capture: bool = True,
    constat: bool = True,
    **kwargs,
) -> Claim:
    """A qualified claim moved to the evidence step, with its capture recorded and (unless
    ``constat`` is False) the constat: the proof the ladder asks before removal-capable
    letters."""
    claim = claim_qualified(today=today, **kwargs)
    handler = handler or handler_create()
    claim_transition(
        claim=claim, to_state=LadderState.EVIDENCE, by=handler, reason="Qualifié", today=today
    )
    kinds = [ClaimEventKind.CAPTURE_DONE] if capture else []
    kinds += [ClaimEventKind.CONSTAT_DONE] if constat else []
    for kind in kinds:
        claim_event_record(claim=claim, kind=kind, date=today, by=handler, today=today)
    claim.refresh_from_db()
    return claim
