"""An insurer's claims setup at onboarding."""

from __future__ import annotations

from cover.claims.letter_templates import DEFAULT_BODIES
from cover.claims.models import LetterTemplate
from cover.letter_fields import LETTER_SPECS, LetterKind


def claims_provision() -> None:
    """Seed an insurer's letter templates (one per letter kind) with the French defaults."""
    for kind in LetterKind:
        LetterTemplate.objects.get_or_create(
            kind=kind.value,
            defaults={"title": str(LETTER_SPECS[kind].label), "body": DEFAULT_BODIES[kind]},
        )
