"""The insurer's platform plan caps insured doctors and monthly captures, in plain French.

Counters stand in for cover's and evidence's figures (registered in ``tenants.usage``); the
check reads them in the insurer's schema and writes nothing.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.limits import PlatformLimitExceeded, platform_limit_check
from tenants.models import InsurerSubscription, PlatformPlan, UsageReport
from tenants.usage import usage_counter, usage_counter_register, usage_counter_unregister

pytestmark = pytest.mark.django_db


class Fixed:
    """Returns a figure per schema and remembers the schema and window it was asked for."""

    def __init__(self, by_schema: dict[str, int]) -> None:
        self.by_schema = by_schema
        self.calls: list[tuple[str, datetime.datetime, datetime.datetime]] = []

    def __call__(self, *, since: datetime.datetime, until: datetime.datetime) -> int:
        self.calls.append((connection.schema_name, since, until))
        return self.by_schema.get(connection.schema_name, 0)


@pytest.fixture
def counters():
    doctors, captures = Fixed({"test_a": 3, "test_b": 99}), Fixed({"test_a": 10, "test_b": 99})
    usage_counter_register(resource="doctors", counter=doctors)
    usage_counter_register(resource="captures", counter=captures)
    yield doctors, captures
    usage_counter_unregister(resource="doctors")
    usage_counter_unregister(resource="captures")


def _subscribe(insurer, *, status=InsurerSubscription.Status.ACTIVE, **limits) -> PlatformPlan:
    plan = PlatformPlan.objects.create(
        code="limitee", name="Limitée", monthly_price_cents=10_000, **limits
    )
    InsurerSubscription.objects.create(
        insurer=insurer, plan=plan, status=status, stripe_customer_id="cus_limites"
    )
    return plan


def test_one_doctor_too_many_is_refused_in_french_and_nothing_is_written(tenant_a, counters):
    _subscribe(tenant_a.insurer, max_doctors=3)
    reports_before = UsageReport.objects.count()

    with pytest.raises(PlatformLimitExceeded) as refused:
        platform_limit_check(insurer=tenant_a.insurer, resource="doctors")

    assert str(refused.value) == (
        "Limite de la formule Égide « Limitée » atteinte pour Assureur test A : 3 médecins "
        "assurés au maximum. Contactez Égide pour changer de formule."
    )
    assert UsageReport.objects.count() == reports_before
    assert [schema for schema, _since, _until in counters[0].calls] == ["test_a"]


def test_captures_are_capped_per_calendar_month(tenant_a, counters):
    _subscribe(tenant_a.insurer, max_captures_per_month=10)

    with pytest.raises(PlatformLimitExceeded) as refused:
        platform_limit_check(insurer=tenant_a.insurer, resource="captures")

    assert str(refused.value) == (
        "Limite de la formule Égide « Limitée » atteinte pour Assureur test A : 10 constats "
        "par mois au maximum. Contactez Égide pour changer de formule."
    )
    (schema, since, until) = counters[1].calls[0]
    local_since = timezone.localtime(since)
    assert schema == "test_a"
    assert (local_since.day, local_since.hour, local_since.minute) == (1, 0, 0)
    assert local_since.month == timezone.localtime(until).month


def test_below_the_limit_or_without_limit_the_check_passes(tenant_a, counters):
    _subscribe(tenant_a.insurer, max_doctors=4, max_captures_per_month=None)

    platform_limit_check(insurer=tenant_a.insurer, resource="doctors")
    platform_limit_check(insurer=tenant_a.insurer, resource="captures")

    assert [schema for schema, _s, _u in counters[0].calls] == ["test_a"]
    assert counters[1].calls == []  # unlimited: nothing to count


def test_a_check_called_from_another_schema_counts_the_insurers_own_figures(
    tenant_a, tenant_b, counters
):
    _subscribe(tenant_a.insurer, max_doctors=4)

    with tenant_context(tenant_b.insurer):
        platform_limit_check(insurer=tenant_a.insurer, resource="doctors")

    assert [schema for schema, _s, _u in counters[0].calls] == ["test_a"]


def test_a_cancelled_subscription_blocks_new_doctors_and_captures(tenant_a, counters):
    _subscribe(tenant_a.insurer, status=InsurerSubscription.Status.CANCELED)

    for resource in ("doctors", "captures"):
        with pytest.raises(PlatformLimitExceeded) as refused:
            platform_limit_check(insurer=tenant_a.insurer, resource=resource)
        assert str(refused.value) == (
            "Abonnement Égide résilié pour Assureur test A : aucune nouvelle adhésion ni "
            "aucun nouveau constat n'est possible."
        )


def test_an_insurer_without_a_platform_subscription_is_not_limited(tenant_b, counters):
    platform_limit_check(insurer=tenant_b.insurer, resource="doctors")

    assert counters[0].calls == []


def test_captures_are_counted_by_evidence_when_no_counter_is_registered():
    from evidence.selectors import captures_count

    assert usage_counter(resource="captures") is captures_count
