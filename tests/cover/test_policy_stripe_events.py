"""A policy follows its Stripe subscription: once per event, whatever the order of arrival."""

from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import tenant_context

from cover.models import Policy, PolicyInvoice
from cover.selectors import policy_current
from cover.services.policies import policy_stripe_event_apply
from tests.cover.factories import PolicyFactory

pytestmark = pytest.mark.django_db

T0 = 1_780_000_000  # 2026-05-28 (UTC)
SUB = "sub_1TestTestTestTestTest01"


def _event(type_: str, obj: dict, created: int) -> dict:
    return {
        "id": f"evt_{type_}_{created}",
        "object": "event",
        "type": type_,
        "created": created,
        "account": "acct_1Test",
        "data": {"object": obj},
    }


def _session(number: str, *, paid: bool = True) -> dict:
    return {
        "id": "cs_test_a1",
        "object": "checkout.session",
        "client_reference_id": number,
        "metadata": {"policy_number": number},
        "customer": "cus_Test",
        "subscription": SUB,
        "payment_status": "paid" if paid else "unpaid",
        "status": "complete",
    }


def _subscription(number: str, status: str, **extra) -> dict:
    return {
        "id": SUB,
        "object": "subscription",
        "status": status,
        "customer": "cus_Test",
        "metadata": {"policy_number": number},
        "start_date": T0,
        "created": T0,
        "ended_at": None,
        **extra,
    }


def _invoice(number: str, status: str, invoice_id: str = "in_1Test") -> dict:
    return {
        "id": invoice_id,
        "object": "invoice",
        "status": status,
        "number": "ABCD-0001",
        "amount_due": 1990,
        "amount_paid": 1990 if status == "paid" else 0,
        "currency": "eur",
        "created": T0,
        "hosted_invoice_url": f"http://127.0.0.1:1/invoice/{invoice_id}",
        "invoice_pdf": f"http://127.0.0.1:1/invoice/{invoice_id}/pdf",
        "subscription": SUB,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": SUB, "metadata": {"policy_number": number}},
        },
    }


def _pending(tenant):
    with tenant_context(tenant.insurer):
        return PolicyFactory(status=Policy.Status.PENDING, start_date=None)


def test_the_checkout_sequence_activates_the_policy_and_records_the_invoice(tenant_a):
    policy = _pending(tenant_a)
    events = [
        _event("checkout.session.completed", _session(policy.number), T0),
        _event("customer.subscription.created", _subscription(policy.number, "active"), T0),
        _event("invoice.created", _invoice(policy.number, "draft"), T0),
        _event("invoice.finalized", _invoice(policy.number, "open"), T0),
        _event("invoice.paid", _invoice(policy.number, "paid"), T0),
    ]
    with tenant_context(tenant_a.insurer):
        for event in events:
            policy_stripe_event_apply(event=event)
        policy.refresh_from_db()
        invoice = PolicyInvoice.objects.get(policy=policy)

        assert (policy.status, policy.stripe_subscription_id, policy.stripe_customer_id) == (
            "active",
            SUB,
            "cus_Test",
        )
        assert policy.start_date == datetime.date(2026, 5, 28)
        assert (invoice.status, invoice.number, invoice.amount_paid_cents) == (
            "paid",
            "ABCD-0001",
            1990,
        )


def test_invoice_paid_before_checkout_completed_still_ends_active(tenant_a):
    policy = _pending(tenant_a)
    with tenant_context(tenant_a.insurer):
        policy_stripe_event_apply(event=_event("invoice.paid", _invoice(policy.number, "paid"), T0))
        policy_stripe_event_apply(
            event=_event("invoice.finalized", _invoice(policy.number, "open"), T0)
        )
        policy_stripe_event_apply(
            event=_event("checkout.session.completed", _session(policy.number), T0)
        )
        policy.refresh_from_db()

        assert (policy.status, policy.stripe_subscription_id) == ("active", SUB)
        assert list(
            PolicyInvoice.objects.filter(policy=policy).values_list("status", flat=True)
        ) == ["paid"]


def test_the_same_event_twice_is_applied_once(tenant_a):
    policy = _pending(tenant_a)
    paid = _event("invoice.paid", _invoice(policy.number, "paid"), T0)
    with tenant_context(tenant_a.insurer):
        policy_stripe_event_apply(event=paid)
        policy_stripe_event_apply(event=paid)
        policy.refresh_from_db()

        assert policy.status == "active"
        assert PolicyInvoice.objects.filter(policy=policy).count() == 1


def test_a_stale_update_after_cancellation_does_not_revive_the_policy(tenant_a):
    policy = _pending(tenant_a)
    with tenant_context(tenant_a.insurer):
        policy_stripe_event_apply(
            event=_event(
                "customer.subscription.created", _subscription(policy.number, "active"), T0
            )
        )
        policy_stripe_event_apply(
            event=_event(
                "customer.subscription.deleted",
                _subscription(policy.number, "canceled", ended_at=T0 + 86_400 * 40),
                T0 + 86_400 * 40,
            )
        )
        policy_stripe_event_apply(
            event=_event(
                "customer.subscription.updated",
                _subscription(policy.number, "active"),
                T0 + 86_400 * 30,
            )
        )
        policy.refresh_from_db()

        assert (policy.status, policy.end_date) == ("cancelled", datetime.date(2026, 7, 7))
        assert policy_current(doctor=policy.doctor, on=datetime.date(2026, 7, 8)) is None


def test_a_failed_renewal_makes_the_policy_past_due_and_it_covers_nothing_new(tenant_a):
    policy = _pending(tenant_a)
    with tenant_context(tenant_a.insurer):
        policy_stripe_event_apply(event=_event("invoice.paid", _invoice(policy.number, "paid"), T0))
        policy_stripe_event_apply(
            event=_event(
                "invoice.payment_failed",
                _invoice(policy.number, "open", "in_1Renewal"),
                T0 + 2_592_000,
            )
        )
        policy.refresh_from_db()

        assert policy.status == "past_due"
        assert policy_current(doctor=policy.doctor, on=datetime.date(2026, 7, 1)) is None
        assert sorted(
            PolicyInvoice.objects.filter(policy=policy).values_list("status", flat=True)
        ) == ["open", "paid"]


def test_an_event_for_a_policy_of_insurer_a_changes_nothing_at_insurer_b(tenant_a, tenant_b):
    policy = _pending(tenant_a)
    with tenant_context(tenant_b.insurer):
        other = PolicyFactory(number=policy.number, status=Policy.Status.PENDING, start_date=None)

    with tenant_context(tenant_a.insurer):
        policy_stripe_event_apply(event=_event("invoice.paid", _invoice(policy.number, "paid"), T0))

    with tenant_context(tenant_b.insurer):
        other.refresh_from_db()
        assert (other.status, PolicyInvoice.objects.count()) == ("pending", 0)
    with tenant_context(tenant_a.insurer):
        policy.refresh_from_db()
        assert policy.status == "active"
