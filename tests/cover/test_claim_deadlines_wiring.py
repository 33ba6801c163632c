"""Deadlines computed from a claim's stored dates, categories and events (DOMAIN §4.6)."""

from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import tenant_context

from cover.claims.selectors.engine import claim_deadlines
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.events import claim_event_record
from cover.rules import ClaimEventKind
from tests.cover.claims_factories import INSULT, WAITING, claim_qualified

pytestmark = pytest.mark.django_db
D = datetime.date


def _by_id(claim, today):
    return {d.clock_id: d for d in claim_deadlines(claim=claim, today=today)}


def test_defamation_press_clock_and_queue_deadline(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(
            publication_date=D(2025, 1, 15), seen_date=D(2025, 1, 20), today=D(2025, 1, 20)
        )
        deadlines = _by_id(claim, D(2025, 3, 2))
        press = deadlines["PRESS_3M"]
        assert (press.due_date, press.alert_dates, press.status.value) == (
            D(2025, 4, 14),
            (D(2025, 3, 1), D(2025, 3, 16)),
            "alert",
        )
        assert deadlines["PRESS_LAWYER_D60"].due_date == D(2025, 3, 16)
        assert deadlines["INSURER_DECLARATION"].due_date == D(2025, 1, 27)
        # the queue shows the nearest open hard deadline: the insurer declaration first
        assert (claim.next_deadline_date, claim.next_deadline_label) == (
            D(2025, 1, 27),
            "Déclaration du sinistre à l'assureur",
        )


def test_amicable_steps_do_not_interrupt_the_press_clock(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(
            publication_date=D(2025, 1, 15), seen_date=D(2025, 1, 20), today=D(2025, 1, 20)
        )
        for kind, day in (
            (ClaimEventKind.DSA_NOTICE_SENT, D(2025, 2, 1)),
            (ClaimEventKind.MISE_EN_DEMEURE_SENT, D(2025, 2, 10)),
            (ClaimEventKind.PLAINTE_SIMPLE, D(2025, 3, 1)),
        ):
            claim_event_record(
                claim=claim, kind=kind, date=day, by=claim.doctor.user, today=D(2025, 3, 5)
            )
        press = _by_id(claim, D(2025, 3, 5))["PRESS_3M"]
        assert (press.due_date, press.interrupted_on) == (D(2025, 4, 14), ())
        # while a prosecution act does restart it
        claim_event_record(
            claim=claim,
            kind=ClaimEventKind.PROSECUTION_OR_INSTRUCTION_ACT,
            date=D(2025, 4, 1),
            by=claim.doctor.user,
            today=D(2025, 4, 2),
        )
        press = _by_id(claim, D(2025, 4, 2))["PRESS_3M"]
        assert (press.due_date, press.interrupted_on) == (D(2025, 6, 30), (D(2025, 4, 1),))


def test_discriminatory_speech_has_one_year(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(
            categories=("DISCRIMINATORY_SPEECH",),
            publication_date=D(2025, 1, 15),
            seen_date=D(2025, 1, 20),
            today=D(2025, 1, 20),
        )
        deadlines = _by_id(claim, D(2025, 2, 1))
        assert deadlines["PRESS_DISCRIM_1Y"].due_date == D(2026, 1, 14)
        assert "PRESS_3M" not in deadlines


def test_gdpr_one_month_plus_two_and_droit_de_reponse_window(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(
            categories=("LAWFUL_NEGATIVE",),
            quotes=(WAITING,),
            publication_date=D(2025, 1, 15),
            seen_date=D(2025, 1, 20),
            today=D(2025, 1, 20),
        )
        claim_event_record(
            claim=claim,
            kind=ClaimEventKind.GDPR_REQUEST_RECEIVED,
            date=D(2025, 2, 3),
            by=claim.doctor.user,
            today=D(2025, 2, 3),
        )
        deadlines = _by_id(claim, D(2025, 2, 10))
        assert deadlines["GDPR_RESPONSE_1M"].due_date == D(2025, 3, 3)
        assert deadlines["DROIT_DE_REPONSE_REQUEST_3M"].due_date == D(2025, 4, 14)
        claim_event_record(
            claim=claim,
            kind=ClaimEventKind.GDPR_EXTENSION_NOTIFIED,
            date=D(2025, 2, 20),
            by=claim.doctor.user,
            today=D(2025, 2, 20),
        )
        assert _by_id(claim, D(2025, 2, 21))["GDPR_RESPONSE_1M"].due_date == D(2025, 5, 3)


def test_cnil_silence_and_dsa_complaint_window(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(
            categories=("INJURE",),
            quotes=(INSULT,),
            publication_date=D(2025, 1, 15),
            seen_date=D(2025, 1, 20),
            today=D(2025, 1, 20),
        )
        for kind, day in (
            (ClaimEventKind.CNIL_COMPLAINT_RECEIVED, D(2025, 2, 5)),
            (ClaimEventKind.PLATFORM_DECISION_NOTIFIED, D(2025, 2, 6)),
        ):
            claim_event_record(
                claim=claim, kind=kind, date=day, by=claim.doctor.user, today=D(2025, 2, 7)
            )
        deadlines = _by_id(claim, D(2025, 2, 7))
        assert deadlines["CNIL_SILENCE_3M"].due_date == D(2025, 5, 5)
        assert deadlines["DSA_COMPLAINT_WINDOW_6M"].due_date == D(2025, 8, 5)


def test_future_event_is_refused_and_not_recorded(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(today=D(2025, 3, 12))
        before = claim.events.count()
        with pytest.raises(ClaimActionRefused) as refused:
            claim_event_record(
                claim=claim,
                kind=ClaimEventKind.CONSTAT_DONE,
                date=D(2025, 3, 13),
                by=claim.doctor.user,
                today=D(2025, 3, 12),
            )
        assert refused.value.reasons == ["Un événement ne peut pas être daté dans le futur."]
        assert claim.events.count() == before
