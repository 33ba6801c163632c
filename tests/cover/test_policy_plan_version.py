"""A policy keeps the plan version it was sold on, even after the plan is changed and republished."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from cover.selectors import policy_terms
from cover.services.site import plan_version_current
from tests.cover.factories import PlanFactory, PolicyFactory

pytestmark = pytest.mark.django_db


def test_republishing_a_changed_plan_leaves_sold_policies_on_their_terms(tenant_a):
    with tenant_context(tenant_a.insurer):
        plan = PlanFactory(slug="serenite", per_claim_ceiling_cents=500_000, price_cents=1990)
        sold = PolicyFactory(plan_version=plan_version_current(plan=plan))

        plan.per_claim_ceiling_cents = 800_000
        plan.price_cents = 2490
        plan.save_revision().publish()
        plan.refresh_from_db()
        new_sale = PolicyFactory(plan_version=plan_version_current(plan=plan))
        sold.refresh_from_db()

        assert (
            policy_terms(policy=sold).per_claim_ceiling_cents,
            policy_terms(policy=sold).price_cents,
        ) == (500_000, 1990)
        assert (
            policy_terms(policy=new_sale).per_claim_ceiling_cents,
            new_sale.plan_version.number,
        ) == (800_000, 2)
        assert sold.plan_version.number == 1


def test_a_draft_change_is_not_sold_until_it_is_published(tenant_a):
    with tenant_context(tenant_a.insurer):
        plan = PlanFactory(slug="essentielle", price_cents=990)
        plan_version_current(plan=plan)
        plan.price_cents = 1290
        plan.save_revision()  # a draft, waiting for moderation
        stored = type(plan).objects.get(pk=plan.pk)

        assert (stored.price_cents, stored.has_unpublished_changes) == (990, True)
        assert plan_version_current(plan=stored).terms["price_cents"] == 990
