"""« Changer de carte »: after a declined payment the doctor saves a new card, which becomes the
default of the customer and of the subscription and pays the premium due at once.

Runs against the local Stripe server (hosted setup page posted to over HTTP, signed webhooks to
the live server, a Dramatiq worker applying them), as ``test_checkout_retry`` does.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import tenant_context

from common.formatting import euros
from common.stripe import stripe_client
from cover.models import Policy, PolicyInvoice
from cover.services.site import plan_version_current
from tenants.models import StripeEvent
from tests.cover import test_checkout_retry as retry
from tests.cover.factories import DoctorFactory, PolicyFactory
from tests.cover.test_checkout_retry import (
    GOOD_CARD,
    Subscriber,
    _declined,
    _events_applied,
    _http,
    _policy,
)

subscriber = retry.subscriber  # a logged-in doctor of insurer A and a plan on sale

SAVED_THEN_DECLINED = "4000 0000 0000 0341"
DUE = euros(1990)


def _options(tenant) -> dict:
    return {"stripe_account": tenant.insurer.stripe_account_id}


def _past_due(subscriber: Subscriber, stripe_server, tenant) -> Policy:
    _declined(subscriber, stripe_server)
    _events_applied(stripe_server)
    policy = _policy(subscriber, tenant)
    assert policy.status == "past_due"
    return policy


def _change_card(subscriber: Subscriber, policy: Policy, card: str) -> str:
    """« Changer de carte », then the card on Stripe's page; return the return page's path."""
    started = subscriber.client.post(f"/portail/contrat/{policy.number}/carte/")
    assert started.status_code == 303
    assert re.search(r"/pay/cs_test_", started["Location"])
    saved = _http().post(
        started["Location"],
        data={"card_number": card, "cardholder_name": "Claire Martin"},
        allow_redirects=False,
        timeout=10,
    )
    assert saved.status_code == 303
    return "/" + saved.headers["Location"].split("://", 1)[1].split("/", 1)[1]


def _setup_sessions(policy: Policy, tenant) -> list:
    sessions = stripe_client().v1.checkout.sessions.list(
        params={"customer": policy.stripe_customer_id, "limit": 100}, options=_options(tenant)
    )
    return [s for s in sessions.data if s.mode == "setup"]


def test_a_new_card_pays_the_premium_due_and_becomes_the_default(
    subscriber, stripe_server, tenant_a
):
    policy = _past_due(subscriber, stripe_server, tenant_a)
    contract = subscriber.client.get("/portail/contrat/").content.decode()

    path = _change_card(subscriber, policy, GOOD_CARD)
    page = subscriber.client.get(path).content.decode()
    _events_applied(stripe_server)

    assert f'action="/portail/contrat/{policy.number}/carte/"' in contract
    assert "Changer de carte" in contract
    assert path.startswith(f"/portail/contrat/{policy.number}/carte/retour/?session_id=cs_test_")
    assert "Votre nouvelle carte est enregistrée" in page
    assert "La carte Visa •••• 4242 servira désormais au paiement de vos cotisations." in page
    assert f"La cotisation due ({DUE}) a été réglée avec cette carte" in page
    [session] = _setup_sessions(policy, tenant_a)
    client, options = stripe_client(), _options(tenant_a)
    intent = client.v1.setup_intents.retrieve(str(session.setup_intent), options=options)
    subscription = client.v1.subscriptions.retrieve(policy.stripe_subscription_id, options=options)
    customer = client.v1.customers.retrieve(policy.stripe_customer_id, options=options)
    invoices = client.v1.invoices.list(
        params={"subscription": policy.stripe_subscription_id}, options=options
    )
    assert subscription.default_payment_method == intent.payment_method
    assert customer.invoice_settings.default_payment_method == intent.payment_method
    assert [(i.status, i.attempt_count) for i in invoices.data] == [("paid", 2)]
    assert subscription.status == "active"
    with tenant_context(tenant_a.insurer):
        refreshed = Policy.objects.get(pk=policy.pk)
        assert list(PolicyInvoice.objects.filter(policy=policy).values_list("status")) == [
            ("paid",)
        ]
    assert refreshed.status == "active"
    # The webhook came after the return page had applied the change: it paid nothing twice.
    event = StripeEvent.objects.get(
        type="checkout.session.completed", payload__data__object__id=session.id
    )
    assert (event.processed_at is not None, event.error) == (True, "")
    assert "Régler ma cotisation" not in subscriber.client.get("/portail/").content.decode()


def test_the_webhook_alone_applies_the_change_once(subscriber, stripe_server, tenant_a):
    policy = _past_due(subscriber, stripe_server, tenant_a)

    path = _change_card(subscriber, policy, GOOD_CARD)
    _events_applied(stripe_server)
    [session] = _setup_sessions(policy, tenant_a)
    event = StripeEvent.objects.get(
        type="checkout.session.completed", payload__data__object__id=session.id
    )
    stripe_server.event_redeliver(event_id=event.id, account=tenant_a.insurer.stripe_account_id)
    _events_applied(stripe_server)
    page = subscriber.client.get(path).content.decode()

    options = _options(tenant_a)
    invoices = stripe_client().v1.invoices.list(
        params={"subscription": policy.stripe_subscription_id}, options=options
    )
    assert [(i.status, i.attempt_count) for i in invoices.data] == [("paid", 2)]
    assert _policy(subscriber, tenant_a).status == "active"
    assert "Votre nouvelle carte est enregistrée" in page
    assert f"La cotisation due ({DUE}) a été réglée avec cette carte" in page


def test_a_saved_card_declined_on_the_premium_due_says_so(subscriber, stripe_server, tenant_a):
    policy = _past_due(subscriber, stripe_server, tenant_a)

    page = subscriber.client.get(
        _change_card(subscriber, policy, SAVED_THEN_DECLINED)
    ).content.decode()
    _events_applied(stripe_server)

    assert "Votre nouvelle carte est enregistrée" in page
    assert f"Le paiement de la cotisation due ({DUE}) avec cette carte a été refusé" in page
    assert f'action="/portail/contrat/{policy.number}/carte/"' in page
    invoices = stripe_client().v1.invoices.list(
        params={"subscription": policy.stripe_subscription_id}, options=_options(tenant_a)
    )
    assert [(i.status, i.attempt_count) for i in invoices.data] == [("open", 2)]
    assert _policy(subscriber, tenant_a).status == "past_due"


def test_another_doctor_cannot_change_the_card_of_a_policy(
    subscriber, stripe_server, tenant_a, tenant_b
):
    policy = _past_due(subscriber, stripe_server, tenant_a)
    path = _change_card(subscriber, policy, SAVED_THEN_DECLINED)
    [own_session] = _setup_sessions(policy, tenant_a)
    before = stripe_client().v1.subscriptions.retrieve(
        policy.stripe_subscription_id, options=_options(tenant_a)
    )
    with tenant_context(tenant_a.insurer):
        other = DoctorFactory()
        intruder = Client(HTTP_HOST=tenant_a.domain)
        intruder.force_login(other.user)
    with tenant_context(tenant_b.insurer):
        foreign = DoctorFactory()
        neighbour = Client(HTTP_HOST=tenant_b.domain)
        neighbour.force_login(foreign.user)

    try:
        started = intruder.post(f"/portail/contrat/{policy.number}/carte/")
        returned = intruder.get(path)
        across = neighbour.post(f"/portail/contrat/{policy.number}/carte/")
        across_return = neighbour.get(path)
    finally:
        for tenant, doctor in ((tenant_a, other), (tenant_b, foreign)):
            with tenant_context(tenant.insurer):
                user = doctor.user
                doctor.delete()
                get_user_model().objects.filter(pk=user.pk).delete()

    assert [r.status_code for r in (started, returned, across, across_return)] == [404] * 4
    assert [s.id for s in _setup_sessions(policy, tenant_a)] == [own_session.id]
    after = stripe_client().v1.subscriptions.retrieve(
        policy.stripe_subscription_id, options=_options(tenant_a)
    )
    assert after.default_payment_method == before.default_payment_method


def test_a_session_of_another_policy_is_refused_and_changes_nothing(
    subscriber, stripe_server, tenant_a
):
    policy = _past_due(subscriber, stripe_server, tenant_a)
    started = subscriber.client.post(f"/portail/contrat/{policy.number}/carte/")
    # A setup session opened for another purpose on the same customer (not a card change).
    foreign = stripe_client().v1.checkout.sessions.create(
        params={
            "mode": "setup",
            "customer": policy.stripe_customer_id,
            "currency": "eur",
            "metadata": {"policy_number": "ER-2026-AUTRE", "purpose": "card_change"},
            "success_url": "http://127.0.0.1/ok",
        },
        options=_options(tenant_a),
    )
    saved = _http().post(
        foreign.url, data={"card_number": GOOD_CARD}, allow_redirects=False, timeout=10
    )

    response = subscriber.client.get(
        f"/portail/contrat/{policy.number}/carte/retour/?session_id={foreign.id}", follow=True
    )

    assert (started.status_code, saved.status_code) == (303, 303)
    assert response.redirect_chain == [("/portail/contrat/", 302)]
    assert "Ce changement de carte est introuvable pour ce contrat." in response.content.decode()
    subscription = stripe_client().v1.subscriptions.retrieve(
        policy.stripe_subscription_id, options=_options(tenant_a)
    )
    assert subscription.default_payment_method is None
    assert subscription.status == "past_due"


def test_a_policy_with_nothing_paid_yet_has_no_card_to_change(subscriber, stripe_server, tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(
            doctor=subscriber.doctor,
            plan_version=plan_version_current(plan=subscriber.plan),
            status=Policy.Status.PENDING,
        )

    response = subscriber.client.post(f"/portail/contrat/{policy.number}/carte/", follow=True)

    assert response.redirect_chain == [("/portail/contrat/", 302)]
    assert (
        "Aucun paiement n&#x27;est encore enregistré pour ce contrat : réglez d&#x27;abord "
        "votre cotisation." in response.content.decode()
    )
    sessions = stripe_client().v1.checkout.sessions.list(
        params={"limit": 100}, options=_options(tenant_a)
    )
    assert [s.id for s in sessions.data if s.client_reference_id == policy.number] == []
