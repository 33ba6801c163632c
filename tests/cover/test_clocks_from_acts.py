"""Sending a letter starts the waiting clocks it implies, counted from the recorded receipt when
known, else conservatively from the sending; a mise en demeure's cure period is the letter's
own; months are always added to the original start (31 Jan + 3 months = 30 Apr)."""

from __future__ import annotations

import datetime
import html

import pytest
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from cover.claims.models import ClaimEvent, Letter
from cover.claims.selectors.engine import claim_deadlines
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.letters import (
    letter_follow_up_record,
    letter_generate,
    letter_mark_sent,
    letter_receipt_event,
    letter_receipt_record,
)
from cover.deadlines import ClaimEvent as EngineEvent
from cover.deadlines import DeadlineStatus, deadlines_compute
from cover.letter_fields import LetterKind
from cover.rules import ClaimEventKind, ClaimFact, Confidence
from tests.conftest import staff_login
from tests.cover.claims_factories import claim_with_proof, handler_create

pytestmark = pytest.mark.django_db
D = datetime.date

GDPR_VALUES = {
    "controller.name": "Annuaire Santé SAS",
    "controller.address_or_dpo": "DPO, 1 rue de la Paix, 75002 Paris",
    "data_concerned": "Nom, adresse et téléphone du cabinet",
    "particular_situation_grounds": "Des annuaires publics existent déjà (CNOM, Ameli).",
    "confirmation_request": "Merci de me confirmer l'effacement et sa portée.",
}
DEREF_VALUES = {"operator.name": "Moteur SA", "reasons": "Données professionnelles inexactes."}
CNIL_VALUES = {
    "controller.name": "Annuaire Santé SAS",
    "prior_request.copy": "Demande d'opposition et d'effacement jointe",
    "prior_request.date": "29/01/2025",
    "prior_request.receipt_proof": "Accusé de réception du 31/01/2025",
    "grounds": "Le responsable n'a pas donné suite à la demande d'effacement.",
}
PROVISIONAL_NOTE = (
    "Date de réception non enregistrée : délai compté, par prudence, à partir de l'envoi du "
    "{0}. Enregistrez la date de réception pour obtenir l'échéance exacte."
)


def _listing_claim():
    # A listing published 2 Jan 2025, seen 10 Jan, captured: GDPR routes are open.
    return claim_with_proof(
        categories=("PERSONAL_DATA_LISTING",),
        publication_date=D(2025, 1, 2),
        seen_date=D(2025, 1, 10),
        today=D(2025, 1, 10),
        constat=False,
    )


def _sent(claim, kind: LetterKind, day: D, values: dict, handler=None) -> Letter:
    """Generate ``kind`` on ``day``, date its preparation, and mark it sent the same day."""
    handler = handler or handler_create()
    letter = letter_generate(claim=claim, kind=kind, by=handler, today=day, values=values)
    at = datetime.datetime.combine(day, datetime.time(9), tzinfo=datetime.UTC)
    Letter.objects.filter(pk=letter.pk).update(generated_at=at)
    letter.refresh_from_db()
    letter_mark_sent(
        letter=letter, sent_on=day, by=handler, capture_ref=f"AR-{letter.pk}", today=day
    )
    letter.refresh_from_db()
    return letter


def _deadline(claim, clock_id: str, letter: Letter, today: D):
    ref = f"courrier-{letter.pk}"
    found = [
        d
        for d in claim_deadlines(claim=claim, today=today)
        if d.clock_id == clock_id and d.ref == ref
    ]
    assert len(found) == 1, [(d.clock_id, d.ref) for d in found]
    return found[0]


def test_gdpr_request_sent_starts_its_clock_and_the_extension_counts_from_the_receipt(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _listing_claim()
        handler = handler_create()
        # when the GDPR request is sent on 29 Jan, receipt unknown
        letter = _sent(claim, LetterKind.GDPR_OBJECTION_ERASURE, D(2025, 1, 29), GDPR_VALUES)
        assert claim.events.filter(
            kind="GDPR_REQUEST_SENT", ref=f"courrier-{letter.pk}", date=D(2025, 1, 29)
        ).exists()
        # then the 1-month answer clock runs from the sending, flagged as provisional
        gdpr = _deadline(claim, "GDPR_RESPONSE_1M", letter, D(2025, 1, 30))
        assert (gdpr.start_date, gdpr.due_date, gdpr.provisional_start) == (
            D(2025, 1, 29),
            D(2025, 2, 28),
            True,
        )
        provisional = [c for c in gdpr.caveats if c.text == PROVISIONAL_NOTE.format("29/01/2025")]
        assert [(c.tag, c.note) for c in provisional] == [(Confidence.UNVERIFIED, "À vérifier")]
        # when the receipt is recorded on 31 Jan, then the clock runs from the receipt
        letter_receipt_record(
            letter=letter, received_on=D(2025, 1, 31), by=handler, today=D(2025, 2, 3)
        )
        letter.refresh_from_db()
        assert letter.received_on == D(2025, 1, 31)
        assert claim.events.filter(
            kind="GDPR_REQUEST_RECEIVED", ref=f"courrier-{letter.pk}", date=D(2025, 1, 31)
        ).exists()
        gdpr = _deadline(claim, "GDPR_RESPONSE_1M", letter, D(2025, 2, 3))
        assert (gdpr.start_date, gdpr.due_date, gdpr.provisional_start) == (
            D(2025, 1, 31),
            D(2025, 2, 28),
            False,
        )
        # when the controller notifies the 2-month extension on 20 Feb, then 31 Jan + 3 months
        letter_follow_up_record(
            letter=letter,
            kind=ClaimEventKind.GDPR_EXTENSION_NOTIFIED,
            date=D(2025, 2, 20),
            by=handler,
            today=D(2025, 2, 20),
        )
        gdpr = _deadline(claim, "GDPR_RESPONSE_1M", letter, D(2025, 2, 21))
        assert (gdpr.due_date, gdpr.extended) == (D(2025, 4, 30), True)
        # and the answer received closes it
        letter_follow_up_record(
            letter=letter,
            kind=ClaimEventKind.GDPR_ANSWER_RECEIVED,
            date=D(2025, 3, 10),
            by=handler,
            today=D(2025, 3, 10),
        )
        gdpr = _deadline(claim, "GDPR_RESPONSE_1M", letter, D(2025, 3, 10))
        assert gdpr.status is DeadlineStatus.DONE


def test_extension_on_a_provisional_start_uses_the_original_start(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _listing_claim()
        # given a de-referencing request sent on 31 Jan, receipt unknown
        letter = _sent(claim, LetterKind.DEREFERENCING, D(2025, 1, 31), DEREF_VALUES)
        deref = _deadline(claim, "DEREFERENCING_RESPONSE_1M", letter, D(2025, 2, 1))
        assert (deref.due_date, deref.provisional_start) == (D(2025, 2, 28), True)
        # when the engine notifies its extension on 25 Feb
        handler = handler_create()
        letter_follow_up_record(
            letter=letter,
            kind=ClaimEventKind.DEREFERENCING_EXTENSION_NOTIFIED,
            date=D(2025, 2, 25),
            by=handler,
            today=D(2025, 2, 25),
        )
        # then 31 Jan + 3 months = 30 Apr (not 28 Feb + 2 months = 28 Apr)
        deref = _deadline(claim, "DEREFERENCING_RESPONSE_1M", letter, D(2025, 2, 26))
        assert (deref.due_date, deref.extended) == (D(2025, 4, 30), True)
        # when the receipt (3 Feb) is recorded, then 3 Feb + 3 months
        letter_receipt_record(
            letter=letter, received_on=D(2025, 2, 3), by=handler, today=D(2025, 2, 26)
        )
        deref = _deadline(claim, "DEREFERENCING_RESPONSE_1M", letter, D(2025, 2, 26))
        assert (deref.start_date, deref.due_date, deref.provisional_start) == (
            D(2025, 2, 3),
            D(2025, 5, 3),
            False,
        )
        assert (
            claim.events.filter(
                kind="DEREFERENCING_REQUEST_RECEIVED", ref=f"courrier-{letter.pk}"
            ).count()
            == 1
        )


def test_cnil_complaint_sent_starts_the_silence_clock(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _listing_claim()
        _sent(claim, LetterKind.GDPR_OBJECTION_ERASURE, D(2025, 1, 29), GDPR_VALUES)
        # when the CNIL complaint is sent on 5 Mar 2025
        cnil = _sent(claim, LetterKind.CNIL_COMPLAINT, D(2025, 3, 5), CNIL_VALUES)
        # then the sending is recorded and the 3-month silence clock runs from it
        assert claim.events.filter(
            kind="CNIL_COMPLAINT_SENT", ref=f"courrier-{cnil.pk}", date=D(2025, 3, 5)
        ).exists()
        silence = _deadline(claim, "CNIL_SILENCE_3M", cnil, D(2025, 3, 6))
        assert (silence.due_date, silence.provisional_start, silence.hard) == (
            D(2025, 6, 5),
            True,
            False,
        )
        # the duration comes from a secondary source: staff read « à vérifier » with it
        assert ("Source secondaire, à vérifier", "Décret n° 2019-536, art. 10") in [
            (c.note, silence.legal_basis) for c in silence.caveats
        ]
        # when the CNIL's receipt is recorded on 7 Mar, then the clock runs from it
        letter_receipt_record(
            letter=cnil, received_on=D(2025, 3, 7), by=handler_create(), today=D(2025, 3, 10)
        )
        silence = _deadline(claim, "CNIL_SILENCE_3M", cnil, D(2025, 3, 10))
        assert (silence.start_date, silence.due_date, silence.provisional_start) == (
            D(2025, 3, 7),
            D(2025, 6, 7),
            False,
        )


def _defamation_claim():
    return claim_with_proof(
        publication_date=D(2025, 3, 10), seen_date=D(2025, 3, 12), today=D(2025, 3, 12)
    )


def test_mise_en_demeure_cure_period_is_the_letters_own_from_receipt(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _defamation_claim()
        handler = handler_create()
        # when a mise en demeure giving 15 days is sent on 20 Mar
        letter = _sent(
            claim,
            LetterKind.MISE_EN_DEMEURE,
            D(2025, 3, 20),
            {"compliance_deadline_days": "15"},
            handler=handler,
        )
        # then the cure period is 15 days from the sending while receipt is unknown
        cure = _deadline(claim, "MISE_EN_DEMEURE_CURE", letter, D(2025, 3, 21))
        assert (cure.start_date, cure.due_date, cure.provisional_start) == (
            D(2025, 3, 20),
            D(2025, 4, 4),
            True,
        )
        assert "Délai fixé par le courrier lui-même : 15 jours." in [c.text for c in cure.caveats]
        # when the AR shows receipt on 24 Mar, then 15 days from the receipt
        letter_receipt_record(
            letter=letter, received_on=D(2025, 3, 24), by=handler, today=D(2025, 3, 25)
        )
        cure = _deadline(claim, "MISE_EN_DEMEURE_CURE", letter, D(2025, 3, 25))
        assert (cure.start_date, cure.due_date, cure.days_left, cure.provisional_start) == (
            D(2025, 3, 24),
            D(2025, 4, 8),
            14,
            False,
        )
        assert claim.events.filter(
            kind="MISE_EN_DEMEURE_RECEIVED", ref=f"courrier-{letter.pk}", date=D(2025, 3, 24)
        ).exists()
        # and the content removed (recorded on the letter) satisfies it
        letter_follow_up_record(
            letter=letter,
            kind=ClaimEventKind.CONTENT_REMOVED,
            date=D(2025, 4, 1),
            by=handler,
            today=D(2025, 4, 1),
        )
        cure = _deadline(claim, "MISE_EN_DEMEURE_CURE", letter, D(2025, 4, 1))
        assert cure.status is DeadlineStatus.DONE


def test_receipt_is_refused_before_sending_twice_or_before_the_letter_left(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _defamation_claim()
        handler = handler_create()
        letter = _sent(claim, LetterKind.MISE_EN_DEMEURE, D(2025, 3, 20), {}, handler=handler)
        events = ClaimEvent.objects.filter(claim=claim).count()
        with pytest.raises(ClaimActionRefused) as refused:
            letter_receipt_record(
                letter=letter, received_on=D(2025, 3, 19), by=handler, today=D(2025, 3, 25)
            )
        assert refused.value.reasons == ["La réception ne peut pas précéder l'envoi (20/03/2025)."]
        letter_receipt_record(
            letter=letter, received_on=D(2025, 3, 22), by=handler, today=D(2025, 3, 25)
        )
        with pytest.raises(ClaimActionRefused) as refused:
            letter_receipt_record(
                letter=letter, received_on=D(2025, 3, 23), by=handler, today=D(2025, 3, 25)
            )
        assert refused.value.reasons == [
            "La réception de ce courrier est déjà enregistrée (22/03/2025)."
        ]
        letter.refresh_from_db()
        assert letter.received_on == D(2025, 3, 22)
        assert ClaimEvent.objects.filter(claim=claim).count() == events + 1
        # a follow-up that does not belong to the letter is refused
        with pytest.raises(ClaimActionRefused) as refused:
            letter_follow_up_record(
                letter=letter,
                kind=ClaimEventKind.GDPR_EXTENSION_NOTIFIED,
                date=D(2025, 3, 24),
                by=handler,
                today=D(2025, 3, 25),
            )
        assert refused.value.reasons == ["Cet événement ne se rattache pas à ce courrier."]
        assert ClaimEvent.objects.filter(claim=claim).count() == events + 1


def test_admin_records_the_receipt_and_the_deadline_moves(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _defamation_claim()
        letter = _sent(claim, LetterKind.MISE_EN_DEMEURE, D(2025, 3, 20), {})
        handler = handler_create()
        url = reverse("claims_admin:letter_received", args=[claim.pk, letter.pk])
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(client, handler)
    page = html.unescape(
        client.get(reverse("claims_admin:detail", args=[claim.pk])).content.decode()
    )
    assert url in page
    assert "Compté depuis l'envoi du 20/03/2025 (réception non enregistrée)" in page
    response = client.post(url, {"received_on": "2025-03-25"})
    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        letter.refresh_from_db()
        assert letter.received_on == D(2025, 3, 25)
        cure = _deadline(claim, "MISE_EN_DEMEURE_CURE", letter, D(2025, 3, 26))
        assert (cure.due_date, cure.provisional_start) == (D(2025, 4, 2), False)
    page = client.get(reverse("claims_admin:detail", args=[claim.pk])).content.decode()
    assert "Reçu le 25/03/2025" in page


def test_receipt_of_another_insurers_letter_is_a_404_and_changes_nothing(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        claim = _defamation_claim()
        letter = _sent(claim, LetterKind.MISE_EN_DEMEURE, D(2025, 3, 20), {})
        events = ClaimEvent.objects.filter(claim=claim).count()
        doctor_user = claim.doctor.user
    with tenant_context(tenant_b.insurer):
        handler_b = handler_create(email="gestion-receipt@tenant-b.example")
    client = Client(HTTP_HOST=tenant_b.domain)
    with tenant_context(tenant_b.insurer):
        staff_login(client, handler_b)
    for name, data in (
        ("claims_admin:letter_received", {"received_on": "2025-03-25"}),
        ("claims_admin:letter_follow_up", {"kind": "CONTENT_REMOVED", "date": "2025-03-26"}),
    ):
        assert client.post(reverse(name, args=[claim.pk, letter.pk]), data).status_code == 404
    # nor can the doctor record it from the handlers' workspace
    doctor = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        doctor.force_login(doctor_user)
    response = doctor.post(
        reverse("claims_admin:letter_received", args=[claim.pk, letter.pk]),
        {"received_on": "2025-03-25"},
    )
    assert response.status_code in (302, 403)
    with tenant_context(tenant_a.insurer):
        letter.refresh_from_db()
        assert letter.received_on is None
        assert ClaimEvent.objects.filter(claim=claim).count() == events


def test_droit_de_reponse_insertion_runs_from_sending_until_the_directors_receipt():
    # the receipt of a droit de réponse is the director's, or the host's for an anonymous
    # non-professional editor (the host forwards it)
    assert (
        letter_receipt_event(kind=LetterKind.DROIT_DE_REPONSE, facts=frozenset())
        is ClaimEventKind.DROIT_DE_REPONSE_DIRECTOR_RECEIVED
    )
    assert (
        letter_receipt_event(
            kind=LetterKind.DROIT_DE_REPONSE,
            facts=frozenset({ClaimFact.PUBLISHER_ANONYMOUS_NON_PRO}),
        )
        is ClaimEventKind.DROIT_DE_REPONSE_HOST_RECEIVED
    )
    sent = EngineEvent(ClaimEventKind.DROIT_DE_REPONSE_REQUEST_SENT, D(2025, 3, 3), ref="c-1")

    def insertion(events):
        [found] = [
            d
            for d in deadlines_compute(
                publication_date=D(2025, 2, 1), categories=[], events=events, today=D(2025, 3, 6)
            )
            if d.clock_id == "DROIT_DE_REPONSE_INSERTION_3D"
        ]
        return found.start_date, found.due_date, found.provisional_start

    assert insertion([sent]) == (D(2025, 3, 3), D(2025, 3, 6), True)
    received = EngineEvent(
        ClaimEventKind.DROIT_DE_REPONSE_DIRECTOR_RECEIVED, D(2025, 3, 5), ref="c-1"
    )
    assert insertion([sent, received]) == (D(2025, 3, 5), D(2025, 3, 8), False)
