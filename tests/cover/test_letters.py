"""Letters: every required field in the PDF, passages quoted exactly, refusal when incomplete."""

from __future__ import annotations

import datetime
import re
import subprocess

import pytest
from django_tenants.utils import tenant_context

from cover.claims.models import Letter, LetterTemplate
from cover.claims.services.common import ClaimActionRefused, LetterIncomplete
from cover.claims.services.letters import letter_generate, letter_mark_sent
from cover.letter_fields import LETTER_SPECS, LetterKind, letter_missing_fields
from tests.cover.claims_factories import (
    DEFAMATORY,
    INSULT,
    claim_with_proof,
    handler_create,
)

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2025, 3, 20)


def _pdf_text(letter: Letter) -> str:
    with letter.file.open("rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF-")
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return re.sub(r"\s+", " ", out.stdout.decode())


def _flat(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _flat(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _flat(v)]
    return [str(value)] if value not in (None, "", True, False) else []


def test_dsa_notice_has_every_required_field_and_exact_passages(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_with_proof(
            categories=("INJURE", "DIFFAMATION"),
            quotes=(INSULT, DEFAMATORY),
            today=datetime.date(2025, 3, 12),
        )
        letter = letter_generate(
            claim=claim,
            kind=LetterKind.DSA_NOTICE,
            by=handler_create(),
            today=TODAY,
            values={
                "factual_justification": "Aucun acte n'a été facturé sans être réalisé.",
                "host.legal_name": "Avis Santé SAS",
            },
        )
        text = _pdf_text(letter)
        # (the mandate is required only when a mandatary signs; the doctor signs here)
        required = [
            f.name
            for f in LETTER_SPECS[LetterKind.DSA_NOTICE].fields
            if f.requirement.value == "REQUIRED" and f.required_when is None
        ]
        assert letter_missing_fields(kind=LetterKind.DSA_NOTICE, values=letter.values) == []
        for name in required:
            for piece in _flat(letter.values[name]):
                assert re.sub(r"\s+", " ", piece) in text, name
        assert f"« {INSULT} »" in text and f"« {DEFAMATORY} »" in text
        assert (
            "Injure publique envers un particulier — Loi du 29 juillet 1881, art. 29 al. 2 "
            "et 33 al. 2"
        ) in text
        assert (
            "Diffamation publique envers un particulier — Loi du 29 juillet 1881, art. 29 "
            "al. 1 et 32 al. 1"
        ) in text
        assert letter.values["content.passages"] == [
            {
                "quote": INSULT,
                "qualification": "Injure publique envers un particulier",
                "legal_basis": "Loi du 29 juillet 1881, art. 29 al. 2 et 33 al. 2",
            },
            {
                "quote": DEFAMATORY,
                "qualification": "Diffamation publique envers un particulier",
                "legal_basis": "Loi du 29 juillet 1881, art. 29 al. 1 et 32 al. 1",
            },
        ]
        assert claim.events.filter(kind="LETTER_GENERATED", ref=str(letter.pk)).count() == 1


def test_mise_en_demeure_contents(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_with_proof(today=datetime.date(2025, 3, 12))
        letter = letter_generate(
            claim=claim, kind=LetterKind.MISE_EN_DEMEURE, by=handler_create(), today=TODAY
        )
        text = _pdf_text(letter)
        for expected in (
            "Objet : MISE EN DEMEURE",
            "Jean D.",
            "Dr Claire Martin",
            f"« {DEFAMATORY} »",
            "Délai imparti : 8 jours",
            "Sous toutes réserves.",
            "10/03/2025",
            "À défaut d'exécution dans ce délai, je saisirai la juridiction compétente",
        ):
            assert expected in text, expected


def test_missing_fields_refuse_the_letter_and_create_nothing(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given a claim whose proof is in (capture and constat) but no factual justification
        claim = claim_with_proof(today=datetime.date(2025, 3, 12))
        events_before = claim.events.count()
        with pytest.raises(LetterIncomplete) as refused:
            letter_generate(
                claim=claim, kind=LetterKind.DSA_NOTICE, by=handler_create(), today=TODAY
            )
        assert refused.value.missing == ["factual_justification"]
        assert refused.value.reasons == [
            "Champ obligatoire manquant : Justification factuelle de l'illicéité",
        ]
        assert Letter.objects.filter(claim=claim).count() == 0
        assert claim.events.count() == events_before


def test_tenant_template_is_used_and_sending_needs_proof(tenant_a):
    with tenant_context(tenant_a.insurer):
        LetterTemplate.objects.filter(kind="MISE_EN_DEMEURE").update(
            body="<p>{{ v.object_line }} — modèle maison pour {{ v.recipient.name }}</p>"
        )
        claim = claim_with_proof(today=datetime.date(2025, 3, 12))
        handler = handler_create()
        letter = letter_generate(
            claim=claim, kind=LetterKind.MISE_EN_DEMEURE, by=handler, today=TODAY
        )
        assert "MISE EN DEMEURE — modèle maison pour Jean D." in _pdf_text(letter)
        prepared = datetime.datetime.combine(TODAY, datetime.time(9), tzinfo=datetime.UTC)
        Letter.objects.filter(pk=letter.pk).update(generated_at=prepared)
        letter.refresh_from_db()
        with pytest.raises(ClaimActionRefused) as refused:
            letter_mark_sent(letter=letter, sent_on=TODAY, by=handler, today=TODAY)
        assert refused.value.reasons == [
            "Joignez la preuve d'envoi (accusé de réception) ou la référence de la capture."
        ]
        letter.refresh_from_db()
        assert letter.sent_at is None
