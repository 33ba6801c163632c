"""The demo offer: three published plans and the demo doctor's active policy, seeded once."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from cover.demo import demo_offer_seed
from cover.models import Plan, Policy
from cover.selectors import plans_published, policy_current
from tests.tenants.factories import DoctorUserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_offer_seed_is_idempotent(tenant_a):
    with tenant_context(tenant_a.insurer):
        user = DoctorUserFactory(email="dr.demo@exemple.fr")

        demo_offer_seed(doctor_email="dr.demo@exemple.fr")
        demo_offer_seed(doctor_email="dr.demo@exemple.fr")

        assert list(plans_published().values_list("slug", flat=True)) == [
            "essentielle",
            "serenite",
            "integrale",
        ]
        assert Plan.objects.filter(slug__in=["essentielle", "serenite", "integrale"]).count() == 3
        policy = Policy.objects.get(doctor__user=user)
        assert policy_current(doctor=policy.doctor, on=timezone.localdate()) == policy
        assert policy.plan_version.terms["plan_name"] == "Sérénité"
