"""factory_boy factories for accounts in the current schema (call inside tenant_context).

One factory per kind of account: ``UserFactory(role=...)`` for any role, and the three
accounts tests ask for by name, ``InsurerAdminFactory``, ``ClaimsHandlerFactory`` and
``DoctorUserFactory`` (the doctor's ``Doctor`` row comes from ``tests.cover.factories``).
"""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tenants.roles import CLAIMS_HANDLER, INSURED_DOCTOR, INSURER_ADMIN
from tests.conftest import PASSWORD


def _role_give(user, create: bool, role: str | None) -> None:
    """Put ``user`` in the role's group; staff roles get ``is_staff``."""
    if role:
        user.groups.add(Group.objects.get(name=role))
        user.is_staff = role != INSURED_DOCTOR
    if create:
        user.save()


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
    role = factory.PostGeneration(
        lambda user, create, role, **kwargs: _role_give(user, create, role)
    )


class InsurerAdminFactory(UserFactory):
    role = factory.PostGeneration(
        lambda user, create, role, **kwargs: _role_give(user, create, role or INSURER_ADMIN)
    )


class ClaimsHandlerFactory(UserFactory):
    role = factory.PostGeneration(
        lambda user, create, role, **kwargs: _role_give(user, create, role or CLAIMS_HANDLER)
    )


class DoctorUserFactory(UserFactory):
    role = factory.PostGeneration(
        lambda user, create, role, **kwargs: _role_give(user, create, role or INSURED_DOCTOR)
    )
