"""Demo data for claims: one claim for the demo doctor."""

from __future__ import annotations

import datetime

from django.utils import timezone

from cover.claims.models import Claim
from cover.claims.services.opening import claim_open
from cover.models import Doctor

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
