"""Which policy covers a new claim: only an active, started, not ended one; per insurer."""

from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import tenant_context

from cover.models import Policy
from cover.selectors import (
    doctor_for_user,
    plans_published,
    policies_for_doctor,
    policy_current,
    policy_invoices,
    policy_latest,
)
from tests.cover.factories import DoctorFactory, PlanFactory, PolicyFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 6, 1)


@pytest.mark.parametrize(
    "status", [Policy.Status.PAST_DUE, Policy.Status.CANCELLED, Policy.Status.PENDING]
)
def test_a_lapsed_or_unpaid_policy_does_not_cover_new_claims(tenant_a, status):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(status=status, start_date=datetime.date(2026, 1, 1))

        assert policy_current(doctor=policy.doctor, on=TODAY) is None


def test_an_active_policy_covers_from_its_start_date_until_its_end(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(
            start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2026, 12, 31)
        )

        assert policy_current(doctor=policy.doctor, on=datetime.date(2025, 12, 31)) is None
        assert policy_current(doctor=policy.doctor, on=TODAY) == policy
        assert policy_current(doctor=policy.doctor, on=datetime.date(2027, 1, 1)) is None


def test_selectors_never_return_another_insurers_data(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(start_date=datetime.date(2026, 1, 1))
        doctor, user = policy.doctor, policy.doctor.user
        PlanFactory(slug="seulement-chez-a")

    with tenant_context(tenant_b.insurer):
        assert policy_current(doctor=doctor, on=TODAY) is None
        assert list(policies_for_doctor(doctor=doctor)) == []
        assert policy_latest(doctor=doctor) is None
        assert list(policy_invoices(policy=policy)) == []
        assert doctor_for_user(user=user) is None
        assert list(plans_published().filter(slug="seulement-chez-a")) == []


def test_doctor_for_user_finds_the_profile_of_the_account(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = DoctorFactory()

        assert doctor_for_user(user=doctor.user) == doctor
