"""The local Stripe server, driven by the official SDK, a browser-like form post and Chromium.

Every test starts the server on 127.0.0.1 (port 0) with its own data directory, and a tiny
webhook receiver on 127.0.0.1 that checks signatures with ``stripe.Webhook.construct_event``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from devtools.stripe_standin import (
    StripeServer,
    form_decode,
    pdf_document,
    webhook_signature,
)

API_KEY = "sk_test_egide_local_1234"
WEBHOOK_SECRET = "whsec_test_egide_local"
FIXTURES = json.loads(
    (
        Path(__file__).resolve().parents[2] / "devtools/stripe_standin/stripe_fixtures.json"
    ).read_text()
)["resources"]


class WebhookReceiver:
    """A webhook endpoint and success/cancel pages on 127.0.0.1, as the application would be."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.received.append((dict(self.headers), body))
                    failing = receiver.fail_next > 0
                    receiver.fail_next -= 1 if failing else 0
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                content = b"<!doctype html><html lang='fr'><h1>Merci</h1></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def events(self, secret: str = WEBHOOK_SECRET) -> list[stripe.Event]:
        """Every delivery, in arrival order, each verified as the application verifies it."""
        with self.lock:
            received = list(self.received)
        return [
            stripe.Webhook.construct_event(
                body.decode("utf-8"), headers["Stripe-Signature"], secret
            )
            for headers, body in received
        ]

    def types(self) -> list[str]:
        return [event.type for event in self.events()]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "stripe"


def server_start(data_dir: Path, receiver: WebhookReceiver) -> StripeServer:
    return StripeServer(
        data_dir=data_dir,
        api_key=API_KEY,
        webhook_url=f"{receiver.url}/webhook",
        webhook_secret=WEBHOOK_SECRET,
        retry_delays=(0.05, 0.1, 0.2),
        delivery_timeout=2.0,
    ).start()


@pytest.fixture
def server(data_dir: Path, receiver: WebhookReceiver) -> Iterator[StripeServer]:
    server = server_start(data_dir, receiver)
    yield server
    server.stop()


def sdk(server: StripeServer, api_key: str = API_KEY) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": server.url}, max_network_retries=0)


@pytest.fixture
def client(server: StripeServer) -> stripe.StripeClient:
    return sdk(server)


def monthly_price(client: stripe.StripeClient, **options: Any) -> stripe.Price:
    product = client.v1.products.create(params={"name": "Offre Sérénité"}, options=options)
    return client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "eur",
            "unit_amount": 4900,
            "recurring": {"interval": "month"},
            "lookup_key": "serenite_mensuel",
        },
        options=options,
    )


def subscription_checkout(
    client: stripe.StripeClient, price: stripe.Price, receiver: WebhookReceiver, **options: Any
) -> stripe.checkout.Session:
    return client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": f"{receiver.url}/merci?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{receiver.url}/annule",
            "customer_email": "dr.martin@example.fr",
            "client_reference_id": "insurer-42",
            "subscription_data": {"metadata": {"insurer": "42"}},
        },
        options=options,
    )


def pay(session: stripe.checkout.Session, card: str = "4242 4242 4242 4242") -> httpx.Response:
    """Submit the hosted page's form as a browser would."""
    return httpx.post(
        session.url,
        data={
            "email": "dr.martin@example.fr",
            "cardholder_name": "Claire Martin",
            "card_number": card,
            "card_expiry": "12 / 34",
            "card_cvc": "123",
        },
        timeout=5,
    )


def test_paid_checkout_creates_subscription_and_delivers_signed_events_in_order(
    server: StripeServer, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given a product, a monthly price and an open subscription Checkout session
    price = monthly_price(client)
    session = subscription_checkout(client, price, receiver)
    assert isinstance(session, stripe.checkout.Session)
    assert session.url == f"{server.url}/pay/{session.id}"
    assert session.status == "open"
    assert session.amount_total == 4900
    assert session.currency == "eur"
    page = httpx.get(session.url, timeout=5)
    assert page.status_code == 200
    assert "Payer" in page.text
    assert "49,00\u00a0€ par mois" in page.text

    # When the doctor pays with the test card that succeeds
    response = pay(session)

    # Then the browser goes back to success_url with the session id filled in
    assert response.status_code == 303
    assert response.headers["Location"] == f"{receiver.url}/merci?session_id={session.id}"
    done = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription.latest_invoice", "customer", "line_items"]}
    )
    assert done.status == "complete"
    assert done.payment_status == "paid"
    assert done.url is None
    assert isinstance(done.customer, stripe.Customer)
    assert done.customer.email == "dr.martin@example.fr"
    assert done.customer.name == "Claire Martin"
    assert isinstance(done.subscription, stripe.Subscription)
    assert done.subscription.status == "active"
    assert done.subscription.metadata.to_dict() == {"insurer": "42"}
    item = done.subscription["items"].data[0]
    assert item.price.id == price.id
    assert item.quantity == 1
    invoice = done.subscription.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert (invoice.status, invoice.amount_paid, invoice.billing_reason) == (
        "paid",
        4900,
        "subscription_create",
    )
    assert invoice.hosted_invoice_url == f"{server.url}/invoice/{invoice.id}"
    assert invoice.number == f"{done.customer.invoice_prefix}-0001"
    assert [line.price.id for line in done.line_items.data] == [price.id]

    # And the receiver got every event, signed, in creation order
    assert server.webhooks_wait(timeout=5) is True
    events = receiver.events()
    assert [event.type for event in events] == [
        "product.created",
        "price.created",
        "customer.created",
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    completed = events[3]
    assert completed.data.object.id == session.id
    assert completed.data.object.client_reference_id == "insurer-42"
    assert completed.data.object.subscription == done.subscription.id
    assert events[4].data.object.status == "active"
    assert events[5].data.object.status == "draft"
    assert events[7].data.object.id == invoice.id
    assert {event.livemode for event in events} == {False}
    listed = client.v1.events.list(params={"limit": 100})
    assert [event.id for event in listed.data] == [event.id for event in reversed(events)]


def test_payer_button_in_chromium_completes_checkout(
    server: StripeServer, client: stripe.StripeClient, receiver: WebhookReceiver, page
) -> None:
    # Given an open Checkout session
    session = subscription_checkout(client, monthly_price(client), receiver)

    # When a real browser fills the card and clicks "Payer"
    page.goto(session.url)
    page.get_by_label("Numéro de carte").fill("4242424242424242")
    page.get_by_role("button", name="Payer").click()
    page.wait_for_url(f"{receiver.url}/merci?session_id={session.id}", timeout=10_000)
    heading = page.locator("h1").inner_text()

    # Then it lands on the success page and the subscription is active
    assert heading == "Merci"
    done = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["subscription"]})
    assert done.subscription.status == "active"


def test_declined_card_leaves_subscription_past_due_then_hosted_invoice_recovers_it(
    server: StripeServer, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given an open Checkout session
    session = subscription_checkout(client, monthly_price(client), receiver)

    # When the doctor pays with the card that is declined
    response = pay(session, card="4000 0000 0000 0002")

    # Then the subscription is past_due with an open first invoice and a payment_failed event
    assert response.status_code == 303
    done = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription.latest_invoice"]}
    )
    assert done.payment_status == "unpaid"
    assert done.subscription.status == "past_due"
    invoice = done.subscription.latest_invoice
    assert (invoice.status, invoice.amount_remaining, invoice.attempt_count) == ("open", 4900, 1)
    assert server.webhooks_wait(timeout=5) is True
    assert receiver.types()[-3:] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_failed",
    ]

    # When the invoice is paid from its hosted page with a good card
    page = httpx.post(
        invoice.hosted_invoice_url, data={"card_number": "4242424242424242"}, timeout=5
    )

    # Then the invoice is paid and the subscription active again
    assert page.status_code == 200
    assert "payée" in page.text
    assert client.v1.invoices.retrieve(invoice.id).status == "paid"
    assert client.v1.subscriptions.retrieve(done.subscription.id).status == "active"
    assert server.webhooks_wait(timeout=5) is True
    assert receiver.types()[-3:] == [
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]


def test_declined_card_in_payment_mode_shows_the_refusal_and_keeps_session_open(
    server: StripeServer, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given a one-off payment session
    product = client.v1.products.create(params={"name": "Constat d'huissier"})
    price = client.v1.prices.create(
        params={"product": product.id, "currency": "eur", "unit_amount": 35000}
    )
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": f"{receiver.url}/merci",
            "customer_email": "a@example.fr",
        }
    )

    # When the card is declined
    response = pay(session, card="4000000000000002")

    # Then the page says so and nothing was completed
    assert response.status_code == 402
    assert "Votre carte a été refusée." in response.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert server.webhooks_wait(timeout=5) is True
    assert receiver.types() == ["product.created", "price.created"]


def test_subscription_update_advance_and_cancel(
    server: StripeServer, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given an active subscription
    session = subscription_checkout(client, monthly_price(client), receiver)
    pay(session)
    subscription_id = client.v1.checkout.sessions.retrieve(session.id).subscription
    first = client.v1.subscriptions.retrieve(subscription_id)
    period_end = first["items"].data[0].current_period_end
    control = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5
    )

    # When the period renews with a declined payment
    renewed = control.post(
        f"/_test/subscriptions/{subscription_id}/advance", data={"fail": "true"}
    ).json()

    # Then a new period starts, its invoice is open and the subscription past_due
    assert renewed["status"] == "past_due"
    assert renewed["items"]["data"][0]["current_period_start"] == period_end
    invoices = client.v1.invoices.list(params={"subscription": subscription_id})
    assert [(i.billing_reason, i.status) for i in invoices.data] == [
        ("subscription_cycle", "open"),
        ("subscription_create", "paid"),
    ]

    # When the doctor asks to stop at period end
    updated = client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})

    # Then Stripe's fields say so and an updated event carries the previous value
    assert updated.cancel_at_period_end is True
    assert updated.cancel_at == renewed["items"]["data"][0]["current_period_end"]
    assert server.webhooks_wait(timeout=5) is True
    last = receiver.events()[-1]
    assert last.type == "customer.subscription.updated"
    assert last.data.previous_attributes["cancel_at_period_end"] is False

    # When it is cancelled now
    canceled = client.v1.subscriptions.cancel(subscription_id)

    # Then it is canceled, hidden from the default list, and a deleted event is sent
    assert canceled.status == "canceled"
    assert client.v1.subscriptions.list().data == []
    assert [s.id for s in client.v1.subscriptions.list(params={"status": "all"}).data] == [
        subscription_id
    ]
    assert server.webhooks_wait(timeout=5) is True
    assert receiver.types()[-1] == "customer.subscription.deleted"
    refused = control.post(f"/_test/subscriptions/{subscription_id}/advance")
    assert refused.status_code == 400
    control.close()


def test_meter_events_are_deduplicated_by_identifier_and_summed(
    server: StripeServer, client: stripe.StripeClient
) -> None:
    # Given a meter and two customers
    meter = client.v1.billing.meters.create(
        params={
            "display_name": "Analyses d'avis",
            "event_name": "analyse_avis",
            "default_aggregation": {"formula": "sum"},
        }
    )
    assert meter.id.startswith("mtr_test_")
    doctor = client.v1.customers.create(params={"email": "a@example.fr"})
    other = client.v1.customers.create(params={"email": "b@example.fr"})
    now = int(time.time())

    # When usage is reported, once with a repeated identifier
    for identifier, customer, value in (
        ("ev-1", doctor, 3),
        ("ev-2", doctor, 4),
        ("ev-3", other, 10),
    ):
        event = client.v1.billing.meter_events.create(
            params={
                "event_name": "analyse_avis",
                "identifier": identifier,
                "payload": {"stripe_customer_id": customer.id, "value": str(value)},
            }
        )
        assert isinstance(event, stripe.billing.MeterEvent)
    with pytest.raises(stripe.InvalidRequestError) as duplicate:
        client.v1.billing.meter_events.create(
            params={
                "event_name": "analyse_avis",
                "identifier": "ev-1",
                "payload": {"stripe_customer_id": doctor.id, "value": "3"},
            }
        )

    # Then the duplicate is refused as Stripe refuses it, and the summary sums the rest
    assert duplicate.value.http_status == 400
    assert duplicate.value.user_message == "An event already exists with identifier ev-1."
    summaries = client.v1.billing.meters.event_summaries.list(
        meter.id, params={"customer": doctor.id, "start_time": now - 60, "end_time": now + 60}
    )
    assert [(s.aggregated_value, s.start_time, s.end_time) for s in summaries.data] == [
        (7, now - 60, now + 60)
    ]
    assert isinstance(summaries.data[0], stripe.billing.MeterEventSummary)
    assert [m.id for m in client.v1.billing.meters.list().data] == [meter.id]


def test_renewal_invoice_bills_metered_usage_of_the_ended_period(
    server: StripeServer, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given a subscription with a flat monthly price and a metered price
    flat = monthly_price(client)
    meter = client.v1.billing.meters.create(
        params={
            "display_name": "Retraits",
            "event_name": "retrait",
            "default_aggregation": {"formula": "sum"},
        }
    )
    metered = client.v1.prices.create(
        params={
            "product": flat.product,
            "currency": "eur",
            "unit_amount": 1500,
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
        }
    )
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "success_url": f"{receiver.url}/merci",
            "line_items": [{"price": flat.id, "quantity": 1}, {"price": metered.id}],
            "customer_email": "a@example.fr",
        }
    )
    pay(session)
    done = client.v1.checkout.sessions.retrieve(session.id)
    client.v1.billing.meter_events.create(
        params={
            "event_name": "retrait",
            "payload": {"stripe_customer_id": done.customer, "value": "2"},
        }
    )

    # When the period renews
    httpx.post(
        f"{server.url}/_test/subscriptions/{done.subscription}/advance",
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=5,
    )

    # Then the renewal invoice bills the flat price ahead and the usage behind
    renewal = client.v1.invoices.list(params={"subscription": done.subscription}).data[0]
    assert [(line.quantity, line.amount) for line in renewal.lines.data] == [(1, 4900), (2, 3000)]
    assert (renewal.total, renewal.status) == (7900, "paid")


def test_connected_account_objects_are_invisible_to_other_accounts(
    server: StripeServer, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given two connected accounts
    first = client.v1.accounts.create(params={"type": "standard", "country": "FR"})
    second = client.v1.accounts.create(params={"type": "express", "country": "FR"})
    assert isinstance(first, stripe.Account)
    assert first.id.startswith("acct_")

    # When a customer is created on the first account
    customer = client.v1.customers.create(
        params={"email": "a@example.fr"}, options={"stripe_account": first.id}
    )

    # Then only the first account sees it
    seen = client.v1.customers.retrieve(customer.id, options={"stripe_account": first.id})
    assert seen.email == "a@example.fr"
    with pytest.raises(stripe.InvalidRequestError) as hidden:
        client.v1.customers.retrieve(customer.id, options={"stripe_account": second.id})
    assert hidden.value.http_status == 404
    assert client.v1.customers.list(options={"stripe_account": second.id}).data == []
    assert client.v1.customers.list().data == []
    # And its event carries the account, on the API and on the webhook
    events = client.v1.events.list(options={"stripe_account": first.id}).data
    assert [(e.type, e.account) for e in events] == [("customer.created", first.id)]
    assert client.v1.events.list().data == []
    assert server.webhooks_wait(timeout=5) is True
    assert [(e.type, e.account) for e in receiver.events()] == [("customer.created", first.id)]
    # And an account the platform does not have is refused
    with pytest.raises(stripe.PermissionError) as refused:
        client.v1.customers.list(options={"stripe_account": "acct_1Unknown00000000"})
    assert refused.value.http_status == 403


def test_account_link_onboarding_enables_charges(
    server: StripeServer, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given a new express account and an onboarding link
    account = client.v1.accounts.create(params={"type": "express"})
    assert account.charges_enabled is False
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": f"{receiver.url}/refresh",
            "return_url": f"{receiver.url}/retour",
        }
    )

    # When the insurer completes it
    response = httpx.post(link.url, timeout=5)

    # Then the account can take payments and an account.updated event says so
    assert (response.status_code, response.headers["Location"]) == (303, f"{receiver.url}/retour")
    assert client.v1.accounts.retrieve(account.id).charges_enabled is True
    assert server.webhooks_wait(timeout=5) is True
    [event] = receiver.events()
    assert (event.type, event.account, event.data.previous_attributes["charges_enabled"]) == (
        "account.updated",
        account.id,
        False,
    )


def test_missing_or_invalid_api_key_is_refused_with_stripes_error(
    server: StripeServer, client: stripe.StripeClient
) -> None:
    # When no key is sent
    response = httpx.get(f"{server.url}/v1/customers", timeout=5)

    # Then Stripe's 401 error comes back
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "message": "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or "
            "we can help at https://support.stripe.com/.",
            "type": "invalid_request_error",
        }
    }
    # When a wrong test key or a live key tries to create a customer
    for bad_key in ("sk_test_not_the_right_key", "sk_live_egide_local_1234"):
        with pytest.raises(stripe.AuthenticationError) as refused:
            sdk(server, bad_key).v1.customers.create(params={"email": "x@example.fr"})
        assert refused.value.http_status == 401
        assert refused.value.user_message.startswith("Invalid API Key provided: ")
    # Then nothing was created
    assert client.v1.customers.list().data == []


def test_idempotency_key_replays_the_first_response(
    server: StripeServer, client: stripe.StripeClient
) -> None:
    # When the same request is sent twice with one key
    first = client.v1.customers.create(
        params={"email": "a@example.fr"}, options={"idempotency_key": "inscription-1"}
    )
    again = client.v1.customers.create(
        params={"email": "a@example.fr"}, options={"idempotency_key": "inscription-1"}
    )

    # Then it ran once and the second answer is the first one, marked as replayed
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert [c.id for c in client.v1.customers.list().data] == [first.id]
    # And reusing the key for other parameters is an idempotency error
    with pytest.raises(stripe.IdempotencyError) as misuse:
        client.v1.customers.create(
            params={"email": "b@example.fr"}, options={"idempotency_key": "inscription-1"}
        )
    assert misuse.value.http_status == 400


def test_restart_keeps_state_and_hosted_links(data_dir: Path, receiver: WebhookReceiver) -> None:
    # Given objects created on a first run
    server = server_start(data_dir, receiver)
    client = sdk(server)
    customer = client.v1.customers.create(
        params={"email": "a@example.fr", "metadata": {"doctor": "7"}}
    )
    session = subscription_checkout(client, monthly_price(client), receiver)
    server.stop()

    # When the server starts again on the same data directory (and another port)
    restarted = server_start(data_dir, receiver)
    try:
        client = sdk(restarted)
        # Then everything is still there and the hosted link follows the new address
        kept = client.v1.customers.retrieve(customer.id)
        assert (kept.email, kept.metadata.to_dict()) == ("a@example.fr", {"doctor": "7"})
        reopened = client.v1.checkout.sessions.retrieve(session.id)
        assert reopened.url == f"{restarted.url}/pay/{session.id}"
        assert pay(reopened).status_code == 303
        assert client.v1.prices.list(params={"lookup_keys": ["serenite_mensuel"]}).data[0].id == (
            session_price_id(client, session.id)
        )
    finally:
        restarted.stop()


def session_price_id(client: stripe.StripeClient, session_id: str) -> str:
    return client.v1.checkout.sessions.line_items.list(session_id).data[0].price.id


def test_failed_delivery_is_retried_until_the_endpoint_answers(
    server: StripeServer, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given an endpoint that fails twice
    receiver.fail_next = 2

    # When an event is emitted
    customer = client.v1.customers.create(params={"email": "a@example.fr"})

    # Then it is delivered three times, the last one accepted
    assert server.webhooks_wait(timeout=5) is True
    events = receiver.events()
    assert [(e.type, e.data.object.id) for e in events] == [("customer.created", customer.id)] * 3
    assert len({e.id for e in events}) == 1
    assert [d["status"] for d in server.webhook_deliveries] == [500, 500, 200]
    assert client.v1.events.retrieve(events[0].id).pending_webhooks == 0


def test_out_of_order_and_duplicate_deliveries_on_demand(
    server: StripeServer, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given deliveries paused while two customers are created
    control = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5
    )
    assert control.post("/_test/webhooks/pause").json()["paused"] is True
    first = client.v1.customers.create(params={"email": "a@example.fr"})
    second = client.v1.customers.create(params={"email": "b@example.fr"})
    assert receiver.received == []

    # When delivery resumes in reverse order
    control.post("/_test/webhooks/resume", data={"order": "reverse"})

    # Then the second event arrives first
    assert control.post("/_test/webhooks/wait", data={"timeout": "5"}).json()["idle"] is True
    assert [e.data.object.id for e in receiver.events()] == [second.id, first.id]

    # When the first event is delivered again
    first_event = receiver.events()[1]
    control.post(f"/_test/events/{first_event.id}/redeliver")

    # Then the receiver sees a duplicate with the same id
    assert server.webhooks_wait(timeout=5) is True
    assert [e.id for e in receiver.events()] == [
        receiver.events()[0].id,
        first_event.id,
        first_event.id,
    ]
    control.close()


def test_webhook_endpoints_created_through_the_api_get_their_own_secret(
    server: StripeServer, client: stripe.StripeClient
) -> None:
    # Given an endpoint registered through the API for customer.created only
    other = WebhookReceiver()
    try:
        endpoint = client.v1.webhook_endpoints.create(
            params={"url": f"{other.url}/hook", "enabled_events": ["customer.created"]}
        )
        assert endpoint.secret.startswith("whsec_")
        assert [e.id for e in client.v1.webhook_endpoints.list().data] == [endpoint.id]
        assert "secret" not in client.v1.webhook_endpoints.retrieve(endpoint.id)

        # When a product and a customer are created
        client.v1.products.create(params={"name": "Offre"})
        customer = client.v1.customers.create(params={"email": "a@example.fr"})

        # Then that endpoint only gets the customer event, signed with its own secret
        assert server.webhooks_wait(timeout=5) is True
        assert [(e.type, e.data.object.id) for e in other.events(endpoint.secret)] == [
            ("customer.created", customer.id)
        ]
    finally:
        other.close()


def test_responses_have_exactly_the_fields_of_stripes_fixtures(
    server: StripeServer, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given one object of each kind
    session = subscription_checkout(client, monthly_price(client), receiver)
    pay(session)
    done = client.v1.checkout.sessions.retrieve(session.id)
    meter = client.v1.billing.meters.create(
        params={"display_name": "M", "event_name": "m", "default_aggregation": {"formula": "sum"}}
    )
    now = int(time.time())
    client.v1.billing.meter_events.create(
        params={"event_name": "m", "payload": {"stripe_customer_id": done.customer, "value": "1"}}
    )
    account = client.v1.accounts.create(params={"type": "standard"})
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": f"{receiver.url}/x", "enabled_events": ["*"]}
    )
    api = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5
    )

    def raw(path: str, **params: Any) -> dict[str, Any]:
        return api.get(path, params=params).json()

    subscription = raw(f"/v1/subscriptions/{done.subscription}")
    invoice = raw(f"/v1/invoices/{done.invoice}")
    price_id = session_price_id(client, session.id)
    objects = {
        "customer": raw(f"/v1/customers/{done.customer}"),
        "product": raw(f"/v1/products/{client.v1.prices.retrieve(price_id).product}"),
        "price": raw(f"/v1/prices/{price_id}"),
        "checkout.session": raw(f"/v1/checkout/sessions/{session.id}"),
        "item": raw(f"/v1/checkout/sessions/{session.id}/line_items")["data"][0],
        "subscription": subscription,
        "subscription_item": subscription["items"]["data"][0],
        "plan": subscription["items"]["data"][0]["plan"],
        "invoice": invoice,
        "line_item": invoice["lines"]["data"][0],
        "billing.meter": raw(f"/v1/billing/meters/{meter.id}"),
        "billing.meter_event_summary": raw(
            f"/v1/billing/meters/{meter.id}/event_summaries",
            customer=done.customer,
            start_time=now - 60,
            end_time=now + 60,
        )["data"][0],
        "account": raw(f"/v1/accounts/{account.id}"),
        "event": raw("/v1/events")["data"][0],
        "webhook_endpoint": raw(f"/v1/webhook_endpoints/{endpoint.id}"),
    }
    api.close()

    # Then each has the fixture's fields, test mode and Stripe's id prefix
    for kind, obj in objects.items():
        assert set(obj) == set(FIXTURES[kind]), kind
        assert obj["object"] == FIXTURES[kind]["object"], kind
        assert obj.get("livemode", False) is False, kind
    prefixes = {
        "customer": "cus_",
        "product": "prod_",
        "price": "price_",
        "checkout.session": "cs_test_",
        "item": "li_",
        "subscription": "sub_",
        "subscription_item": "si_",
        "invoice": "in_",
        "line_item": "il_",
        "billing.meter": "mtr_",
        "billing.meter_event_summary": "mtrusg_",
        "account": "acct_",
        "event": "evt_",
        "webhook_endpoint": "we_",
    }
    assert {kind: objects[kind]["id"][: len(p)] for kind, p in prefixes.items()} == prefixes


def test_unknown_and_missing_parameters_are_refused_like_stripe(
    server: StripeServer, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.customers.create(params={"emial": "a@example.fr"})  # type: ignore[typeddict-unknown-key]
    assert (unknown.value.code, unknown.value.param, unknown.value.user_message) == (
        "parameter_unknown",
        "emial",
        "Received unknown parameter: emial",
    )
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.create(
            params={"mode": "subscription", "success_url": "http://127.0.0.1/ok"}
        )
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "line_items")
    with pytest.raises(stripe.InvalidRequestError) as absent:
        client.v1.prices.retrieve("price_1Absent")
    assert (absent.value.http_status, absent.value.user_message) == (
        404,
        "No such price: 'price_1Absent'",
    )
    assert client.v1.customers.list().data == []


def test_lists_paginate_newest_first(server: StripeServer, client: stripe.StripeClient) -> None:
    created = [client.v1.customers.create(params={"email": f"{n}@example.fr"}).id for n in range(3)]
    page = client.v1.customers.list(params={"limit": 2})
    assert ([c.id for c in page.data], page.has_more, page.url) == (
        [created[2], created[1]],
        True,
        "/v1/customers",
    )
    assert [c.id for c in page.auto_paging_iter()] == list(reversed(created))


def test_form_decode_reads_stripes_bracket_syntax() -> None:
    body = (
        "mode=subscription&line_items[0][price]=price_1&line_items[0][quantity]=2"
        "&line_items[1][price]=price_2&metadata[0]=zero&metadata[doctor]=7"
        "&expand[]=customer&expand[]=subscription&subscription_data[metadata][insurer]=42"
    )
    assert form_decode(body) == {
        "mode": "subscription",
        "line_items": [{"price": "price_1", "quantity": "2"}, {"price": "price_2"}],
        "metadata": {"0": "zero", "doctor": "7"},
        "expand": ["customer", "subscription"],
        "subscription_data": {"metadata": {"insurer": "42"}},
    }


def test_webhook_signature_is_accepted_by_the_sdk() -> None:
    payload = b'{"id": "evt_1", "object": "event", "type": "customer.created", "data": {}}'
    header = webhook_signature(payload=payload, secret=WEBHOOK_SECRET, timestamp=int(time.time()))
    event = stripe.Webhook.construct_event(payload.decode(), header, WEBHOOK_SECRET)
    assert event.id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload.decode(), header, "whsec_other")


def test_invoice_pdf_is_a_well_formed_pdf(
    server: StripeServer, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given a paid invoice
    session = subscription_checkout(client, monthly_price(client), receiver)
    pay(session)
    invoice = client.v1.invoices.retrieve(client.v1.checkout.sessions.retrieve(session.id).invoice)

    # When its PDF is downloaded
    response = httpx.get(invoice.invoice_pdf, timeout=5)

    # Then it is a PDF whose cross-reference table points at each object
    assert (response.status_code, response.headers["Content-Type"]) == (200, "application/pdf")
    assert response.content == pdf_document(lines=pdf_lines_of(response.content))
    assert_xref_consistent(response.content)
    assert f"Facture {invoice.number}".encode() in response.content
    assert "Total : 49,00\u00a0€".encode("cp1252") in response.content


def pdf_lines_of(document: bytes) -> list[str]:
    stream = document.split(b"stream\n", 1)[1].split(b"\nendstream", 1)[0].decode("cp1252")
    return [
        match.replace("\\(", "(").replace("\\)", ")").replace("\\\\", "\\")
        for match in re.findall(r"\((.*)\) Tj T\*", stream)
    ]


def assert_xref_consistent(document: bytes) -> None:
    assert document.startswith(b"%PDF-1.4\n")
    assert document.endswith(b"%%EOF\n")
    xref_at = int(document.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    table = document[xref_at:].split(b"trailer", 1)[0].split(b"\n")
    assert table[0] == b"xref"
    offsets = [int(row[:10]) for row in table[3:] if row]
    assert len(offsets) == 5
    for number, offset in enumerate(offsets, start=1):
        assert document[offset:].startswith(b"%d 0 obj\n" % number)


def test_checkout_on_a_connected_account_stays_in_that_account(
    server: StripeServer, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    # Given an insurer's connected account with its own price and Checkout session
    insurer = client.v1.accounts.create(
        params={"type": "standard", "business_profile": {"name": "Mutuelle Exemple"}}
    )
    on_insurer = {"stripe_account": insurer.id}
    session = subscription_checkout(
        client, monthly_price(client, **on_insurer), receiver, **on_insurer
    )
    assert "Mutuelle Exemple" in httpx.get(session.url, timeout=5).text

    # When the doctor pays
    assert pay(session).status_code == 303

    # Then the subscription lives in the insurer's account only, and every event says so
    done = client.v1.checkout.sessions.retrieve(session.id, options=on_insurer)
    subscription = client.v1.subscriptions.retrieve(done.subscription, options=on_insurer)
    assert subscription.status == "active"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.retrieve(done.subscription)
    assert server.webhooks_wait(timeout=5) is True
    events = receiver.events()
    assert {event.account for event in events} == {insurer.id}
    assert len(events) == 9


def test_command_line_server_serves_until_sigterm(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    # Given the server started as the run command starts it
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devtools.stripe_standin",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data",
            str(tmp_path / "cli"),
            "--webhook-url",
            "http://127.0.0.1:9/webhook",
            "--webhook-secret",
            WEBHOOK_SECRET,
            "--retry-delays",
            "0.01",
            "--api-key",
            API_KEY,
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), line
        client = stripe.StripeClient(API_KEY, base_addresses={"api": url}, max_network_retries=0)

        # When a customer is created and the process is asked to stop
        customer = client.v1.customers.create(params={"email": "a@example.fr"})
        process.send_signal(signal.SIGTERM)

        # Then it exits cleanly with the customer saved
        assert process.wait(timeout=10) == 0
        state = json.loads((tmp_path / "cli" / "stripe_state.json").read_text())
        assert list(state["namespaces"]["platform"]["customer"]) == [customer.id]
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
