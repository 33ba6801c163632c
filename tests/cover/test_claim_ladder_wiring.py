"""Ladder on a stored claim: guards block with their reasons, every move is audited."""

from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import tenant_context

from cover.claims.models import Transition
from cover.claims.selectors.engine import claim_ladder_options
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.events import claim_event_record
from cover.claims.services.ladder import claim_transition
from cover.ladder import LadderState
from cover.rules import ClaimEventKind, Route
from tests.cover.claims_factories import claim_create, claim_qualified, handler_create

pytestmark = pytest.mark.django_db
D = datetime.date
S = LadderState


def test_unqualified_claim_cannot_leave_intake_and_nothing_is_audited(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_create(today=D(2025, 3, 12))
        handler = handler_create()
        with pytest.raises(ClaimActionRefused) as refused:
            claim_transition(
                claim=claim,
                to_state=S.EVIDENCE,
                by=handler,
                reason="Ouverture",
                today=D(2025, 3, 12),
            )
        assert refused.value.reasons == [
            "Qualifiez chaque passage (questionnaire) avant de poursuivre."
        ]
        claim.refresh_from_db()
        assert (claim.state, Transition.objects.filter(claim=claim).count()) == ("INTAKE", 0)


def test_constat_before_dsa_notice_then_audited_moves(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(
            publication_date=D(2025, 3, 10), seen_date=D(2025, 3, 12), today=D(2025, 3, 12)
        )
        handler = handler_create()
        claim_transition(
            claim=claim,
            to_state=S.EVIDENCE,
            by=handler,
            reason="Diffamation qualifiée",
            today=D(2025, 3, 12),
        )
        claim_event_record(
            claim=claim,
            kind=ClaimEventKind.CAPTURE_DONE,
            date=D(2025, 3, 12),
            by=handler,
            today=D(2025, 3, 12),
        )
        with pytest.raises(ClaimActionRefused) as refused:
            claim_transition(
                claim=claim,
                to_state=S.PLATFORM,
                route=Route.DSA_NOTICE,
                by=handler,
                reason="Notification",
                today=D(2025, 3, 13),
            )
        assert refused.value.reasons == [
            "Un contentieux est plausible : faites établir le constat par un commissaire de "
            "justice avant toute démarche pouvant entraîner le retrait du contenu (risque de "
            "perdre la preuve)."
        ]
        claim.refresh_from_db()
        options = claim_ladder_options(claim=claim, today=D(2025, 3, 13))
        dsa = next(o for o in options if o.route is Route.DSA_NOTICE)
        assert [f.guard_id for f in dsa.check.blocked] == ["CONSTAT_BEFORE_REMOVAL"]

        claim_event_record(
            claim=claim,
            kind=ClaimEventKind.CONSTAT_DONE,
            date=D(2025, 3, 14),
            by=handler,
            today=D(2025, 3, 14),
        )
        claim_transition(
            claim=claim,
            to_state=S.PLATFORM,
            route=Route.DSA_NOTICE,
            by=handler,
            reason="Constat fait",
            today=D(2025, 3, 14),
        )
        claim.refresh_from_db()
        audit = list(
            Transition.objects.filter(claim=claim).values_list(
                "from_state", "to_state", "route", "reason", "actor"
            )
        )
        assert claim.state == "PLATFORM"
        assert audit == [
            ("INTAKE", "EVIDENCE", "", "Diffamation qualifiée", handler.pk),
            ("EVIDENCE", "PLATFORM", "DSA_NOTICE", "Constat fait", handler.pk),
        ]
        assert Transition.objects.filter(claim=claim).first().warnings == [
            "Le sinistre n'a pas été déclaré à l'assureur : le délai de déclaration dépend du "
            "contrat."
        ]


def test_author_doctor_requires_conciliation_before_litigation(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(
            author_is_doctor=True,
            publication_date=D(2025, 3, 10),
            seen_date=D(2025, 3, 12),
            today=D(2025, 3, 12),
        )
        handler = handler_create()
        for kind in (
            ClaimEventKind.INSURER_NOTIFIED,
            ClaimEventKind.CAPTURE_DONE,
            ClaimEventKind.CONSTAT_DONE,
            ClaimEventKind.LAWYER_ENGAGED,
        ):
            claim_event_record(
                claim=claim, kind=kind, date=D(2025, 3, 12), by=handler, today=D(2025, 3, 12)
            )
        claim_transition(
            claim=claim, to_state=S.EVIDENCE, by=handler, reason="ok", today=D(2025, 3, 12)
        )
        with pytest.raises(ClaimActionRefused) as refused:
            claim_transition(
                claim=claim,
                to_state=S.LITIGATION,
                route=Route.CITATION_DIRECTE,
                by=handler,
                reason="Avocat",
                today=D(2025, 3, 13),
            )
        assert refused.value.reasons == [
            "L'auteur est un médecin : une conciliation doit être recherchée, au besoin par "
            "l'intermédiaire du conseil départemental de l'Ordre, avant tout contentieux."
        ]


def test_a_transition_needs_a_reason(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(today=D(2025, 3, 12))
        with pytest.raises(ClaimActionRefused) as refused:
            claim_transition(
                claim=claim,
                to_state=S.EVIDENCE,
                by=handler_create(),
                reason="  ",
                today=D(2025, 3, 12),
            )
        assert refused.value.reasons == ["Indiquez le motif du changement d'étape."]
