"""factory_boy factories for accounts in the current schema (call inside tenant_context)."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tenants.roles import CLAIMS_HANDLER, INSURED_DOCTOR, INSURER_ADMIN
from tests.conftest import PASSWORD


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"utilisateur{n}@exemple.fr")
    username = factory.LazyAttribute(lambda o: o.email)
    first_name = "Camille"
    last_name = "Durand"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
            self.is_staff = extracted != INSURED_DOCTOR
        if create:
            self.save()


def InsurerAdminFactory(**kwargs):  # noqa: N802 - reads like the factories it wraps
    return UserFactory(role=INSURER_ADMIN, **kwargs)


def ClaimsHandlerFactory(**kwargs):  # noqa: N802
    return UserFactory(role=CLAIMS_HANDLER, **kwargs)


def DoctorUserFactory(**kwargs):  # noqa: N802
    return UserFactory(role=INSURED_DOCTOR, **kwargs)
