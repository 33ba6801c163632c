"""Local server that speaks the part of Stripe's HTTP API that Égide uses (development only).

Why: development, the demo and the test suite must run with no Stripe account and no network,
while the application keeps calling the official SDK unchanged (only its ``api`` base address
points here). Responses are built from Stripe's own OpenAPI fixtures (``stripe_fixtures.json``,
MIT, see ``STRIPE_LICENSE``) so ``stripe.StripeClient`` parses them into the same typed objects
as against Stripe. With real Stripe test keys and no base-address override the same code talks
to Stripe. The PyPI package ``localstripe`` was tried first: it has no Prices and no Checkout.

Covered (``/v1``): customers, products, prices, Checkout sessions (payment, subscription and
setup modes; + line items, expire), SetupIntents and payment methods (retrieve), subscriptions
(retrieve, list, update, cancel), invoices (retrieve, list, pay), billing meters, meter
events and event summaries, connected accounts and account links, events, webhook endpoints.
Stripe's conventions are kept: bracketed form bodies, ``expand[]``, Bearer (or Basic) secret
keys, ``Stripe-Account`` namespaces, ``Idempotency-Key`` replays, ``{object: list}`` pagination,
Stripe's error JSON and status codes, unknown parameters refused.

Hosted pages (no API key, French): ``/pay/<cs_id>`` (Checkout, button "Payer"),
``/invoice/<in_id>`` (hosted invoice, pays an open invoice) and ``/invoice/<in_id>/pdf``,
``/connect/onboarding/<token>`` (account link). Test cards: 4242 4242 4242 4242 pays,
4000 0000 0000 0002 is declined, 4000 0000 0000 0341 can be saved but is declined when charged.

Webhooks: each event is POSTed as JSON to every matching endpoint (configured at start, or
created through ``/v1/webhook_endpoints``) with ``Stripe-Signature: t=…,v1=…`` computed as Stripe
does, from one background thread per endpoint so delivery is in creation order; non-2xx answers
are retried after ``retry_delays`` and then dropped. Pending deliveries survive a restart.

Test controls (same API key; they honour ``Stripe-Account``):
``POST /_test/subscriptions/<sub_id>/advance`` (``fail=true`` to decline the renewal; a
subscription set to cancel, ``cancel_at_period_end`` or a ``cancel_at`` within the period, ends
instead with ``customer.subscription.deleted``),
``POST /_test/events/<evt_id>/redeliver`` (deliver a duplicate), ``POST /_test/webhooks/pause``,
``POST /_test/webhooks/resume`` (``order=reverse`` delivers what queued meanwhile backwards),
``POST /_test/webhooks/wait`` (``timeout=5``; answers once every queue is empty).

Events for a paid subscription Checkout, in order: ``customer.created`` (when Checkout created
the customer), ``checkout.session.completed``, ``customer.subscription.created``,
``invoice.created``, ``invoice.finalized``, ``invoice.paid``, ``invoice.payment_succeeded``.
A declined card (subscription mode) ends instead with the subscription ``past_due``, the invoice
``open`` and ``invoice.payment_failed``; in payment mode the page shows the refusal, as Stripe's.

Saving a card (Checkout ``mode=setup``, button "Enregistrer la carte"): a declined test card is
refused on the page; a good one creates a card ``payment_method`` attached to the session's
customer and a succeeded ``setup_intent``, with ``payment_method.attached``,
``setup_intent.created``, ``setup_intent.succeeded`` and ``checkout.session.completed``. The
card then serves as ``invoice_settings.default_payment_method`` (customer update) or the
subscription's ``default_payment_method``, and ``POST /v1/invoices/<in_id>/pay`` charges it: a
declined card answers 402 ``card_error`` (``card_declined``) and sends
``invoice.payment_failed``.

Layout (a development package: the production image leaves ``devtools/`` out): ``server`` holds
the HTTP server, the dispatch table ``ROUTES`` ((method, path pattern) -> handler) and
``StripeServer``; ``api`` the request plumbing (keys, accounts, idempotency, expansion,
pagination, events); ``state`` the JSON store and its lock; ``webhooks`` signing and delivery;
``resources/`` one module of handlers per Stripe object family; ``pages`` the hosted pages;
``demo`` the helpers the demo seed uses to run and pay through the stand-in.

Run: ``python -m devtools.stripe_standin --port 12111 --data var/stripe
--webhook-url http://127.0.0.1:8000/billing/stripe/webhook/ --webhook-secret whsec_…``
"""

from devtools.stripe_standin.common import form_decode
from devtools.stripe_standin.pages import pdf_document
from devtools.stripe_standin.server import StripeServer
from devtools.stripe_standin.webhooks import WebhookTarget, webhook_signature

__all__ = ["StripeServer", "WebhookTarget", "form_decode", "pdf_document", "webhook_signature"]
