"""factory_boy factories for the offer (call inside ``tenant_context``)."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from cover.models import Doctor, Plan, Policy
from cover.services import plan_version_current
from tenants.roles import INSURED_DOCTOR
from tests.conftest import PASSWORD


class DoctorUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"medecin{n}@exemple.fr")
    username = factory.LazyAttribute(lambda o: o.email)
    first_name = "Claire"
    last_name = "Martin"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def doctor_group(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get(name=INSURED_DOCTOR))
            self.save()


class DoctorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Doctor

    user = factory.SubFactory(DoctorUserFactory)
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
    class Meta:
        model = Policy

    number = factory.Sequence(lambda n: f"TEST-{n:06d}")
    doctor = factory.SubFactory(DoctorFactory)
    plan_version = factory.LazyFunction(lambda: plan_version_current(plan=PlanFactory()))
    status = Policy.Status.ACTIVE
    start_date = factory.LazyFunction(lambda: datetime.date.today() - datetime.timedelta(days=10))
