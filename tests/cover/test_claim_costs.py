"""Costs against the deductible and the ceilings; partner directory."""

from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import tenant_context

from cover.claims.models import CostKind, Partner, PartnerKind
from cover.claims.selectors.costs import claim_cost_summary
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.costs import cost_record
from cover.claims.services.cover_check import cover_check
from tests.cover.claims_factories import claim_create, doctor_create
from tests.cover.factories import PlanFactory, PolicyFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2025, 3, 20)


def test_deductible_then_per_claim_ceiling(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        PolicyFactory(
            doctor=doctor,
            plan=PlanFactory(
                deductible_cents=10_000,
                per_claim_ceiling_cents=50_000,
                annual_ceiling_cents=200_000,
            ),
            start_date=datetime.date(2025, 1, 1),
        )
        claim = claim_create(doctor=doctor)
        cover_check(claim=claim, by=doctor.user, today=TODAY)
        partner = Partner.objects.create(
            kind=PartnerKind.COMMISSAIRE,
            name="Me Durand",
            office="Étude Durand",
            email="etude@durand.example",
        )
        first = cost_record(
            claim=claim,
            kind=CostKind.COMMISSAIRE,
            amount_cents=30_000,
            label="Constat internet",
            incurred_on=TODAY,
            partner=partner,
            by=doctor.user,
            today=TODAY,
        )
        second = cost_record(
            claim=claim,
            kind=CostKind.AVOCAT,
            amount_cents=60_000,
            label="Honoraires",
            incurred_on=TODAY,
            by=doctor.user,
            today=TODAY,
        )
        assert (first.deductible_cents, first.covered_cents) == (10_000, 20_000)
        assert (second.deductible_cents, second.covered_cents) == (0, 30_000)
        summary = claim_cost_summary(claim=claim, today=TODAY)
        assert (
            summary.total_cents,
            summary.covered_cents,
            summary.insured_share_cents,
            summary.per_claim_remaining_cents,
            summary.annual_remaining_cents,
        ) == (90_000, 50_000, 40_000, 0, 150_000)


def test_nothing_is_paid_before_the_cover_is_confirmed(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_create()
        cost = cost_record(
            claim=claim,
            kind=CostKind.OTHER,
            amount_cents=5_000,
            label="Frais",
            incurred_on=TODAY,
            by=claim.doctor.user,
            today=TODAY,
        )
        assert (cost.covered_cents, cost.deductible_cents) == (0, 0)


def test_invalid_cost_is_refused_and_not_recorded(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_create()
        with pytest.raises(ClaimActionRefused) as refused:
            cost_record(
                claim=claim,
                kind=CostKind.AVOCAT,
                amount_cents=0,
                label="",
                incurred_on=TODAY + datetime.timedelta(days=1),
                by=claim.doctor.user,
                today=TODAY,
            )
        assert refused.value.reasons == [
            "Le montant doit être positif.",
            "La date des frais ne peut pas être dans le futur.",
            "Indiquez un libellé.",
        ]
        assert claim.costs.count() == 0
