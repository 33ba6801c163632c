"""The local Stripe server saves a card (Checkout in setup mode) and charges it on an invoice.

Driven by the official SDK and the hosted page's form, as in ``test_stripe_server``: a declined
first payment leaves an open invoice; a card saved through Checkout becomes the customer's and
the subscription's default payment method, and ``invoices.pay`` settles the invoice with it.
"""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.saas import test_stripe_server as base
from tests.saas.test_stripe_server import WebhookReceiver, monthly_price, pay, subscription_checkout

# The stand-in's own fixtures: a server with its data directory and a webhook receiver.
client, data_dir, receiver, server = base.client, base.data_dir, base.receiver, base.server


def _past_due(client: stripe.StripeClient, receiver: WebhookReceiver) -> stripe.Subscription:
    session = subscription_checkout(client, monthly_price(client), receiver)
    assert pay(session, card="4000 0000 0000 0002").status_code == 303
    done = client.v1.checkout.sessions.retrieve(session.id)
    return client.v1.subscriptions.retrieve(
        str(done.subscription), params={"expand": ["latest_invoice"]}
    )


def _setup_session(
    client: stripe.StripeClient, receiver: WebhookReceiver, subscription: stripe.Subscription
) -> stripe.checkout.Session:
    return client.v1.checkout.sessions.create(
        params={
            "mode": "setup",
            "customer": str(subscription.customer),
            "currency": "eur",
            "setup_intent_data": {"metadata": {"subscription": subscription.id}},
            "metadata": {"purpose": "card_change"},
            "success_url": f"{receiver.url}/carte?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{receiver.url}/contrat",
        }
    )


def _save(session: stripe.checkout.Session, card: str) -> httpx.Response:
    return httpx.post(
        session.url,
        data={"card_number": card, "cardholder_name": "Claire Martin"},
        timeout=5,
    )


def test_a_saved_card_becomes_the_default_and_pays_the_open_invoice(
    server, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given a past-due subscription and a setup-mode Checkout session for its customer
    subscription = _past_due(client, receiver)
    invoice = subscription.latest_invoice
    session = _setup_session(client, receiver, subscription)
    page = httpx.get(session.url, timeout=5)

    # When a declined card, then a good one, is entered on the hosted page
    refused = _save(session, "4000 0000 0000 0002")
    saved = _save(session, "4242 4242 4242 4242")

    # Then the page asked for a card, refused the first, and the second was saved
    assert (session.mode, session.payment_status, session.amount_total) == (
        "setup",
        "no_payment_required",
        None,
    )
    assert session.setup_intent is None
    assert page.status_code == 200
    assert "Enregistrer la carte" in page.text
    assert "Aucun montant n'est débité" in page.text
    assert refused.status_code == 402
    assert "Votre carte a été refusée." in refused.text
    assert saved.status_code == 303
    assert saved.headers["Location"] == f"{receiver.url}/carte?session_id={session.id}"
    done = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["setup_intent.payment_method"]}
    )
    intent = done.setup_intent
    method = intent.payment_method
    assert (done.status, intent.status, intent.customer) == (
        "complete",
        "succeeded",
        subscription.customer,
    )
    assert intent.metadata.to_dict() == {"subscription": subscription.id}
    assert isinstance(method, stripe.PaymentMethod)
    assert (method.type, method.card.brand, method.card.last4, method.customer) == (
        "card",
        "visa",
        "4242",
        subscription.customer,
    )

    # When the card becomes the default and the open invoice is paid with it
    customer = client.v1.customers.update(
        str(subscription.customer),
        params={"invoice_settings": {"default_payment_method": method.id}},
    )
    updated = client.v1.subscriptions.update(
        subscription.id, params={"default_payment_method": method.id}
    )
    paid = client.v1.invoices.pay(invoice.id)

    # Then the invoice is paid, the subscription active, and the events say so in order
    assert customer.invoice_settings.default_payment_method == method.id
    assert updated.default_payment_method == method.id
    assert (paid.status, paid.amount_paid, paid.amount_remaining) == ("paid", 4900, 0)
    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"
    assert server.webhooks_wait(timeout=5) is True
    types = receiver.types()
    start = types.index("payment_method.attached")
    assert types[start:] == [
        "payment_method.attached",
        "setup_intent.created",
        "setup_intent.succeeded",
        "checkout.session.completed",
        "customer.updated",
        "customer.subscription.updated",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    completed = receiver.events()[start + 3]
    assert completed.data.object.mode == "setup"
    assert completed.data.object.setup_intent == intent.id
    with pytest.raises(stripe.InvalidRequestError, match="Invoice is already paid"):
        client.v1.invoices.pay(invoice.id)


def test_a_card_saved_but_declined_on_charge_leaves_the_invoice_open(
    server, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given a past-due subscription whose new default card is declined when charged
    subscription = _past_due(client, receiver)
    invoice = subscription.latest_invoice
    session = _setup_session(client, receiver, subscription)
    assert _save(session, "4000 0000 0000 0341").status_code == 303
    intent = client.v1.setup_intents.retrieve(
        str(client.v1.checkout.sessions.retrieve(session.id).setup_intent)
    )
    client.v1.subscriptions.update(
        subscription.id, params={"default_payment_method": str(intent.payment_method)}
    )

    # When the invoice is paid with the subscription's default card
    with pytest.raises(stripe.CardError) as declined:
        client.v1.invoices.pay(invoice.id)

    # Then Stripe's card error comes back and the invoice stays open, one attempt more
    assert (declined.value.code, declined.value.http_status) == ("card_declined", 402)
    assert declined.value.error.decline_code == "generic_decline"
    after = client.v1.invoices.retrieve(invoice.id)
    assert (after.status, after.attempt_count) == ("open", 2)
    assert client.v1.subscriptions.retrieve(subscription.id).status == "past_due"
    assert server.webhooks_wait(timeout=5) is True
    assert receiver.types()[-1] == "invoice.payment_failed"


def test_setup_mode_refuses_what_stripe_refuses(
    server, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    subscription = _past_due(client, receiver)
    other = client.v1.customers.create(params={"email": "autre@example.fr"})
    session = _setup_session(client, receiver, subscription)
    _save(session, "4242 4242 4242 4242")
    method_id = str(
        client.v1.setup_intents.retrieve(
            str(client.v1.checkout.sessions.retrieve(session.id).setup_intent)
        ).payment_method
    )

    with pytest.raises(stripe.InvalidRequestError, match="currency"):
        client.v1.checkout.sessions.create(
            params={"mode": "setup", "success_url": f"{receiver.url}/ok"}
        )
    with pytest.raises(stripe.InvalidRequestError, match="line_items"):
        client.v1.checkout.sessions.create(
            params={
                "mode": "setup",
                "currency": "eur",
                "line_items": [{"price": "price_x", "quantity": 1}],
                "success_url": f"{receiver.url}/ok",
            }
        )
    with pytest.raises(stripe.InvalidRequestError, match="must be attached to the customer"):
        client.v1.customers.update(
            other.id, params={"invoice_settings": {"default_payment_method": method_id}}
        )
    with pytest.raises(stripe.InvalidRequestError, match="No such PaymentMethod"):
        client.v1.subscriptions.update(
            subscription.id, params={"default_payment_method": "pm_1Unknown"}
        )
    assert client.v1.customers.retrieve(other.id).invoice_settings.default_payment_method is None
    assert client.v1.subscriptions.retrieve(subscription.id).default_payment_method is None
