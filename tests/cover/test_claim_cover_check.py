"""Cover check: each refusal carries its French reason, shown to the doctor."""

from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import tenant_context

from cover.claims.models import CostKind
from cover.claims.services.costs import cost_record
from cover.claims.services.cover_check import cover_check
from cover.models import Policy
from tests.cover.claims_factories import claim_create, doctor_create
from tests.cover.factories import PlanFactory, PolicyFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2025, 3, 20)


def _check(claim):
    return cover_check(claim=claim, by=claim.doctor.user, today=TODAY)


def test_covered_claim_records_policy_and_tells_the_deductible(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        policy = PolicyFactory(
            doctor=doctor,
            plan=PlanFactory(
                deductible_cents=15_000, per_claim_ceiling_cents=None, annual_ceiling_cents=None
            ),
            start_date=datetime.date(2025, 1, 1),
        )
        claim = claim_create(doctor=doctor)
        decision = _check(claim)
        claim.refresh_from_db()
        assert (decision.covered, decision.reasons) == (True, ())
        assert (claim.cover_status, claim.policy_id, claim.cover_reasons) == (
            "covered",
            policy.pk,
            [],
        )
        note = claim.events.get(kind="COVER_CHECKED").note
        assert note == (
            "Votre garantie couvre ce dossier. Une franchise de 150,00\u00a0€ reste à votre "
            "charge sur les frais du dossier."
        )


@pytest.mark.parametrize(
    ("policy_kwargs", "claim_kwargs", "reason"),
    [
        (None, {}, "Aucun contrat actif ne vous couvre au 20/03/2025."),
        (
            {"status": Policy.Status.CANCELLED},
            {},
            "Aucun contrat actif ne vous couvre au 20/03/2025.",
        ),
        (
            {"waiting_period_days": 90},
            {},
            "Le contenu a été découvert le 12/03/2025, pendant le délai de carence de 90 jours "
            "(fin le 01/04/2025).",
        ),
        (
            {"anteriority": "after_subscription"},
            {"publication_date": datetime.date(2024, 12, 20)},
            "Le contenu a été publié le 20/12/2024, avant la date d'effet du contrat "
            "(01/01/2025) : la garantie couvre les publications postérieures à la souscription.",
        ),
        (
            {"anteriority": "known_facts_excluded"},
            {
                "publication_date": datetime.date(2024, 11, 2),
                "seen_date": datetime.date(2024, 12, 5),
            },
            "Le contenu était connu le 05/12/2024, avant la date d'effet du contrat "
            "(01/01/2025) : les faits connus à la souscription sont exclus.",
        ),
        (
            {"anteriority": "retroactive_years", "anteriority_years": 1},
            {"publication_date": datetime.date(2023, 6, 1)},
            "Le contenu a été publié le 01/06/2023, avant la période de rétroactivité du "
            "contrat (1 an, soit à partir du 01/01/2024).",
        ),
    ],
)
def test_each_refusal_reason(tenant_a, policy_kwargs, claim_kwargs, reason):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        if policy_kwargs is not None:
            terms = dict(policy_kwargs)
            status = terms.pop("status", Policy.Status.ACTIVE)
            PolicyFactory(
                doctor=doctor,
                plan=PlanFactory(**terms),
                status=status,
                start_date=datetime.date(2025, 1, 1),
            )
        claim = claim_create(doctor=doctor, **claim_kwargs)
        decision = _check(claim)
        claim.refresh_from_db()
        assert (decision.covered, list(decision.reasons)) == (False, [reason])
        assert (claim.cover_status, claim.cover_reasons) == ("refused", [reason])
        # The refusal names the plan's clause it applies (exact wordings: test_cover_refusal).
        assert claim.cover_clause != ""
        assert claim.events.get(kind="COVER_REFUSED").note == (
            f"La garantie ne couvre pas ce dossier : {reason} "
            f"Clause appliquée : {claim.cover_clause}"
        )


def test_per_claim_ceiling_reached(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        PolicyFactory(
            doctor=doctor,
            plan=PlanFactory(per_claim_ceiling_cents=100_000),
            start_date=datetime.date(2025, 1, 1),
        )
        claim = claim_create(doctor=doctor)
        _check(claim)
        cost_record(
            claim=claim,
            kind=CostKind.AVOCAT,
            amount_cents=120_000,
            label="Honoraires",
            incurred_on=TODAY,
            by=claim.doctor.user,
            today=TODAY,
        )
        decision = _check(claim)
        assert list(decision.reasons) == [
            "Le plafond par sinistre (1\u202f000,00\u00a0€) est atteint."
        ]


def test_annual_ceiling_reached_by_other_claims(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        plan = PlanFactory(annual_ceiling_cents=200_000)
        PolicyFactory(doctor=doctor, plan=plan, start_date=datetime.date(2025, 1, 1))
        first = claim_create(doctor=doctor)
        _check(first)
        cost_record(
            claim=first,
            kind=CostKind.COMMISSAIRE,
            amount_cents=250_000,
            label="Constat",
            incurred_on=TODAY,
            by=doctor.user,
            today=TODAY,
        )
        second = claim_create(doctor=doctor)
        decision = _check(second)
        assert list(decision.reasons) == [
            "Le plafond annuel du contrat (2\u202f000,00\u00a0€) est atteint : 2\u202f000,00\u00a0€ "
            "déjà pris en charge cette année."
        ]
