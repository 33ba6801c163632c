"""factory_boy factories for the offer: doctors, plans, policies (call inside ``tenant_context``).

``DoctorFactory``, ``PlanFactory`` and ``PolicyFactory`` are the one way tests build a doctor, a
plan and a policy; ``tests.cover.claims_factories`` and ``tests.cleanup.factories`` give the
doctor their defaults."""

from __future__ import annotations

import datetime

import factory

from cover.models import Doctor, Plan, Policy
from cover.services.site import plan_version_current
from tests.tenants.factories import DoctorUserFactory


class DoctorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Doctor

    user = factory.SubFactory(
        DoctorUserFactory,
        email=factory.Sequence(lambda n: f"medecin{n}@exemple.fr"),
        first_name="Claire",
        last_name="Martin",
    )
    rpps = factory.Sequence(lambda n: f"{10_000_000_000 + n:011d}")
    specialty = "Dermatologie"
    practice_address = "3 avenue Foch"
    city = "Vincennes"


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Formule {n}")
    slug = factory.Sequence(lambda n: f"formule-{n}")
    published = True
    price_cents = 1990
    per_claim_ceiling_cents = 500_000
    annual_ceiling_cents = 1_000_000


class PolicyFactory(factory.django.DjangoModelFactory):
    """A policy on ``plan``'s current version (a new ``PlanFactory`` plan when not given);
    pass ``plan_version`` instead to sell an older version."""

    class Meta:
        model = Policy

    class Params:
        plan = None

    number = factory.Sequence(lambda n: f"TEST-{n:06d}")
    doctor = factory.SubFactory(DoctorFactory)
    plan_version = factory.LazyAttribute(
        lambda o: plan_version_current(plan=o.plan if o.plan is not None else PlanFactory())
    )
    status = Policy.Status.ACTIVE
    start_date = factory.LazyFunction(lambda: datetime.date.today() - datetime.timedelta(days=10))
