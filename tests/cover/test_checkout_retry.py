"""A declined first payment leads to « Paiement refusé » and a way to pay the same policy again.

Runs against the local Stripe server: its hosted Checkout and invoice pages are posted to over
HTTP, its signed webhooks reach the live server and a Dramatiq worker applies them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import tenant_context

from common.stripe import stripe_client
from cover.models import Doctor, Plan, Policy, PolicyInvoice
from cover.services.policies import policy_stripe_event_apply
from cover.services.site import plan_version_current
from tenants.tasks import STRIPE_QUEUE
from tests.cover.conftest import queue_drain
from tests.cover.factories import DoctorFactory, PlanFactory, PolicyFactory

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


@dataclass
class Subscriber:
    client: Client
    doctor: Doctor
    plan: Plan


def _http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


@pytest.fixture
def subscriber(stripe_server, committed_db, tenant_a, unique) -> Iterator[Subscriber]:
    with tenant_context(tenant_a.insurer):
        doctor = DoctorFactory(user__email=f"dr.{unique}@exemple.fr")
        plan = PlanFactory(slug=f"retry-{unique}", name=f"Retry {unique}", price_cents=1990)
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(doctor.user)
    yield Subscriber(client=client, doctor=doctor, plan=plan)
    with tenant_context(tenant_a.insurer):
        PolicyInvoice.objects.filter(policy__doctor=doctor).delete()
        Policy.objects.filter(doctor=doctor).delete()
        user = doctor.user
        doctor.delete()
        get_user_model().objects.filter(pk=user.pk).delete()
        plan.versions.all().delete()
        plan.delete()


def _checkout(subscriber: Subscriber) -> str:
    response = subscriber.client.post(
        "/portail/souscrire/", {"plan": subscriber.plan.pk, "accept_conditions": "on"}
    )
    assert response.status_code == 302
    assert re.search(r"/pay/cs_test_", response["Location"])
    return response["Location"]


def _pay(url: str, card: str) -> requests.Response:
    return _http().post(url, data={"card_number": card}, allow_redirects=False, timeout=10)


def _events_applied(stripe_server) -> None:
    assert stripe_server.webhooks_wait(timeout=15)
    queue_drain(STRIPE_QUEUE)


def _declined(subscriber: Subscriber, stripe_server) -> str:
    """Subscribe and pay with the declined card; return the success URL's path."""
    paid = _pay(_checkout(subscriber), DECLINED_CARD)
    assert paid.status_code == 303
    return paid.headers["Location"].split("://", 1)[1].split("/", 1)[1]


def _policy(subscriber: Subscriber, tenant) -> Policy:
    with tenant_context(tenant.insurer):
        return Policy.objects.get(doctor=subscriber.doctor)


def test_a_declined_card_leads_to_payment_refused_with_a_retry_button(
    subscriber, stripe_server, tenant_a
):
    path = _declined(subscriber, stripe_server)

    # Before Stripe's events are applied, Stripe itself says the payment was declined.
    before = subscriber.client.get(f"/{path}").content.decode()
    _events_applied(stripe_server)
    after = subscriber.client.get(f"/{path}").content.decode()

    home = subscriber.client.get("/portail/").content.decode()
    policy = _policy(subscriber, tenant_a)
    assert policy.status == "past_due"
    assert f'action="/portail/contrat/{policy.number}/regler/"' in home
    assert "Régler ma cotisation" in home
    for page in (before, after):
        assert '<h1 id="checkout-outcome" data-outcome="declined">Paiement refusé</h1>' in page
        assert "Merci" not in page
        assert 'http-equiv="refresh"' not in page
        assert f'action="/portail/contrat/{policy.number}/regler/"' in page
        assert "Payer à nouveau" in page
        assert "Votre banque a refusé le paiement de votre cotisation" in page


def test_paying_again_with_a_good_card_activates_the_same_policy(
    subscriber, stripe_server, tenant_a
):
    path = _declined(subscriber, stripe_server)
    _events_applied(stripe_server)
    policy = _policy(subscriber, tenant_a)
    contract = subscriber.client.get("/portail/contrat/").content.decode()

    retry = subscriber.client.post(f"/portail/contrat/{policy.number}/regler/")
    with tenant_context(tenant_a.insurer):
        invoice = PolicyInvoice.objects.get(policy=policy)
    paid = _http().post(retry["Location"], data={"card_number": GOOD_CARD}, timeout=10)
    _events_applied(stripe_server)

    assert 'id="payment-due-' in contract
    assert "Régler ma cotisation" in contract
    assert retry.status_code == 303
    assert retry["Location"] == f"{stripe_server.url}/invoice/{invoice.stripe_invoice_id}"
    assert paid.status_code == 200
    with tenant_context(tenant_a.insurer):
        policies = list(Policy.objects.filter(doctor=subscriber.doctor))
        invoices = list(PolicyInvoice.objects.filter(policy__doctor=subscriber.doctor))
    assert [(p.pk, p.status, p.stripe_subscription_id) for p in policies] == [
        (policy.pk, "active", policy.stripe_subscription_id)
    ]
    assert [(i.stripe_invoice_id, i.status) for i in invoices] == [
        (invoice.stripe_invoice_id, "paid")
    ]
    subscriptions = stripe_client().v1.subscriptions.list(
        params={"customer": policy.stripe_customer_id, "status": "all"},
        options={"stripe_account": tenant_a.insurer.stripe_account_id},
    )
    assert [(s.id, s.status) for s in subscriptions.data] == [
        (policy.stripe_subscription_id, "active")
    ]
    thanks = subscriber.client.get(f"/{path}").content.decode()
    assert '<h1 id="checkout-outcome" data-outcome="paid">Merci !</h1>' in thanks
    assert "Régler ma cotisation" not in subscriber.client.get("/portail/contrat/").content.decode()


def test_a_paid_checkout_whose_events_are_not_applied_yet_says_it_is_being_confirmed(
    subscriber, stripe_server, tenant_a
):
    paid = _pay(_checkout(subscriber), GOOD_CARD)
    path = paid.headers["Location"].split("://", 1)[1].split("/", 1)[1]

    page = subscriber.client.get(f"/{path}").content.decode()
    _events_applied(stripe_server)
    then = subscriber.client.get(f"/{path}").content.decode()

    assert (
        '<h1 id="checkout-outcome" data-outcome="confirming">'
        "Paiement en cours de confirmation</h1>" in page
    )
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "Payer à nouveau" not in page
    assert '<h1 id="checkout-outcome" data-outcome="paid">Merci !</h1>' in then
    assert 'http-equiv="refresh"' not in then


def test_an_expired_checkout_is_paid_again_through_a_new_session_for_the_same_policy(
    subscriber, stripe_server, tenant_a
):
    first_url = _checkout(subscriber)
    policy = _policy(subscriber, tenant_a)
    first_session = policy.stripe_checkout_session_id

    resumed = subscriber.client.post(f"/portail/contrat/{policy.number}/regler/")
    stripe_client().v1.checkout.sessions.expire(
        first_session, options={"stripe_account": tenant_a.insurer.stripe_account_id}
    )
    page = subscriber.client.get("/portail/souscrire/retour/").content.decode()
    renewed = subscriber.client.post(f"/portail/contrat/{policy.number}/regler/")
    paid = _pay(renewed["Location"], GOOD_CARD)
    _events_applied(stripe_server)

    assert resumed["Location"] == first_url
    assert '<h1 id="checkout-outcome" data-outcome="unfinished">' in page
    assert "Payer à nouveau" in page
    assert renewed.status_code == 303
    assert re.search(r"/pay/cs_test_", renewed["Location"])
    assert renewed["Location"] != first_url
    assert paid.status_code == 303
    with tenant_context(tenant_a.insurer):
        assert list(
            Policy.objects.filter(doctor=subscriber.doctor).values_list("pk", "status")
        ) == [(policy.pk, "active")]


def test_another_doctor_cannot_pay_for_a_policy_that_is_not_theirs(
    subscriber, stripe_server, tenant_a
):
    _declined(subscriber, stripe_server)
    _events_applied(stripe_server)
    policy = _policy(subscriber, tenant_a)
    with tenant_context(tenant_a.insurer):
        other = DoctorFactory()
        intruder = Client(HTTP_HOST=tenant_a.domain)
        intruder.force_login(other.user)

    try:
        response = intruder.post(f"/portail/contrat/{policy.number}/regler/")
        invoices = stripe_client().v1.invoices.list(
            params={"subscription": policy.stripe_subscription_id},
            options={"stripe_account": tenant_a.insurer.stripe_account_id},
        )
    finally:
        with tenant_context(tenant_a.insurer):
            user = other.user
            other.delete()
            get_user_model().objects.filter(pk=user.pk).delete()

    assert response.status_code == 404
    assert [i.status for i in invoices.data] == ["open"]
    with tenant_context(tenant_a.insurer):
        assert Policy.objects.filter(doctor__user=other.user).count() == 0


def test_an_active_policy_has_nothing_to_pay_again(subscriber, stripe_server, tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(
            doctor=subscriber.doctor,
            plan_version=plan_version_current(plan=subscriber.plan),
            status=Policy.Status.ACTIVE,
        )

    response = subscriber.client.post(f"/portail/contrat/{policy.number}/regler/", follow=True)

    assert response.redirect_chain == [("/portail/contrat/", 302)]
    assert "Votre cotisation est à jour : il n&#x27;y a rien à régler." in (
        response.content.decode()
    )


@pytest.mark.django_db
def test_choosing_a_plan_again_with_an_unpaid_policy_opens_no_second_one(tenant_a):
    with tenant_context(tenant_a.insurer):
        unpaid = PolicyFactory(status=Policy.Status.PAST_DUE)
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(unpaid.doctor.user)
        plan = unpaid.plan_version.plan

    response = client.post(
        "/portail/souscrire/", {"plan": plan.pk, "accept_conditions": "on"}, follow=True
    )

    assert response.status_code == 200
    assert (
        f"La cotisation de votre contrat n° {unpaid.number} n&#x27;est pas réglée : réglez-la "
        "depuis la page « Mon contrat » pour retrouver vos garanties."
    ) in response.content.decode()
    with tenant_context(tenant_a.insurer):
        assert list(Policy.objects.filter(doctor=unpaid.doctor).values_list("pk", "status")) == [
            (unpaid.pk, "past_due")
        ]


# ---------------------------------------------------------------------------------------------
# Paid again within the second of the refusal: Stripe's timestamps cannot order the events
# ---------------------------------------------------------------------------------------------

T0 = 1_780_000_000
SUB = "sub_1RetryRetryRetryRetry01"


def _event(type_: str, obj: dict, number: int) -> dict:
    return {
        "id": f"evt_{number}",
        "object": "event",
        "type": type_,
        "created": T0,
        "data": {"object": obj},
    }


def _subscription(number: str, status: str) -> dict:
    return {
        "id": SUB,
        "object": "subscription",
        "status": status,
        "customer": "cus_Retry",
        "metadata": {"policy_number": number},
        "start_date": T0,
        "created": T0,
    }


def _invoice(number: str, status: str) -> dict:
    return {
        "id": "in_1Retry",
        "object": "invoice",
        "status": status,
        "number": "RETRY-0001",
        "amount_due": 1990,
        "amount_paid": 1990 if status == "paid" else 0,
        "currency": "eur",
        "created": T0,
        "hosted_invoice_url": "http://127.0.0.1:1/invoice/in_1Retry",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": SUB, "metadata": {"policy_number": number}},
        },
    }


def _same_second_events(number: str) -> list[dict]:
    """A declined first payment, then the hosted invoice paid, all stamped with one second."""
    return [
        _event("customer.subscription.created", _subscription(number, "past_due"), 1),
        _event("invoice.finalized", _invoice(number, "open"), 2),
        _event("invoice.payment_failed", _invoice(number, "open"), 3),
        _event("invoice.paid", _invoice(number, "paid"), 4),
        _event("customer.subscription.updated", _subscription(number, "active"), 5),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("order", ["forward", "reverse"])
def test_paid_again_in_the_second_of_the_refusal_ends_active_in_any_order(tenant_a, order):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(status=Policy.Status.PENDING, start_date=None)
        events = _same_second_events(policy.number)
        for event in events if order == "forward" else events[::-1]:
            policy_stripe_event_apply(event=event)
        policy.refresh_from_db()

        assert (policy.status, policy.stripe_subscription_id) == ("active", SUB)
        assert list(PolicyInvoice.objects.filter(policy=policy).values_list("status")) == [
            ("paid",)
        ]


@pytest.mark.django_db
def test_a_refusal_in_the_second_of_the_first_event_still_leaves_the_policy_past_due(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(status=Policy.Status.PENDING, start_date=None)
        for event in _same_second_events(policy.number)[:3]:
            policy_stripe_event_apply(event=event)
        policy.refresh_from_db()

        assert policy.status == "past_due"
