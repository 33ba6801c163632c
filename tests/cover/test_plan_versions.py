"""A policy keeps the terms it was sold with, whatever happens to the plan afterwards."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from cover.models import Plan, PlanVersion
from cover.services.site import plan_version_current

pytestmark = pytest.mark.django_db


def test_unchanged_plan_reuses_its_version_and_a_change_makes_a_new_one(tenant_a):
    with tenant_context(tenant_a.insurer):
        plan = Plan.objects.create(
            name="Essentielle", slug="essentielle", per_claim_ceiling_cents=500_000
        )
        first = plan_version_current(plan=plan)
        again = plan_version_current(plan=plan)
        plan.per_claim_ceiling_cents = 1_000_000
        plan.save()
        second = plan_version_current(plan=plan)
        first.refresh_from_db()

        assert (first.number, again.pk, second.number) == (1, first.pk, 2)
        assert first.terms["per_claim_ceiling_cents"] == 500_000
        assert second.terms["per_claim_ceiling_cents"] == 1_000_000
        assert PlanVersion.objects.filter(plan=plan).count() == 2
