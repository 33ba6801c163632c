"""Local server that speaks the part of Stripe's HTTP API that Égide uses.

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

Run: ``python -m saas.embedded.stripe_server --port 12111 --data var/stripe
--webhook-url http://127.0.0.1:8000/billing/stripe/webhook/ --webhook-secret whsec_…``
"""

from __future__ import annotations

import argparse
import calendar
import copy
import hashlib
import hmac
import html
import json
import logging
import os
import re
import secrets
import signal
import socket
import string
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FIXTURES_PATH = Path(__file__).with_name("stripe_fixtures.json")
STATE_FILE_NAME = "stripe_state.json"
PLATFORM = "platform"
# Stored URLs start with this marker and get the server's current public URL when rendered, so
# a restart on another port keeps every hosted link working.
URL_MARKER = "stripe-local://"
DEFAULT_API_VERSION = "2026-10-28.endive"
DEFAULT_RETRY_DELAYS = (1.0, 5.0, 25.0)
IDEMPOTENCY_CACHE_SIZE = 2000
PLATFORM_DISPLAY_NAME = "Égide"

# Test cards of Stripe's documentation, as data: number -> decline code (None pays).
TEST_CARDS: dict[str, str | None] = {
    "4242424242424242": None,
    "5555555555554444": None,
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000341": "card_declined",
}
# Cards that can be saved (Checkout setup mode) although every charge on them is declined.
SAVED_THEN_DECLINED = frozenset({"4000000000000341"})

ID_FORMATS: dict[str, tuple[str, int]] = {
    "customer": ("cus_", 14),
    "product": ("prod_", 14),
    "price": ("price_1", 23),
    "checkout.session": ("cs_test_a1", 56),
    "item": ("li_1", 23),
    "subscription": ("sub_1", 23),
    "subscription_item": ("si_", 14),
    "invoice": ("in_1", 23),
    "line_item": ("il_1", 23),
    "payment_intent": ("pi_1", 23),
    "setup_intent": ("seti_1", 23),
    "payment_method": ("pm_1", 23),
    "billing.meter": ("mtr_test_", 32),
    "event": ("evt_1", 23),
    "webhook_endpoint": ("we_1", 23),
    "webhook_secret": ("whsec_", 32),
    "account": ("acct_1", 15),
    "account_link": ("", 24),
    "request": ("req_", 14),
}

# Which string fields of which object can be expanded, and into which kind of object.
EXPANDABLE: dict[str, dict[str, str]] = {
    "checkout.session": {
        "customer": "customer",
        "subscription": "subscription",
        "invoice": "invoice",
        "setup_intent": "setup_intent",
    },
    "subscription": {
        "customer": "customer",
        "latest_invoice": "invoice",
        "default_payment_method": "payment_method",
    },
    "setup_intent": {"customer": "customer", "payment_method": "payment_method"},
    "payment_method": {"customer": "customer"},
    "invoice": {"customer": "customer", "subscription": "subscription"},
    "price": {"product": "product"},
    "product": {"default_price": "price"},
}

KIND_LABELS: dict[str, str] = {
    "customer": "customer",
    "product": "product",
    "price": "price",
    "checkout.session": "checkout.session",
    "subscription": "subscription",
    "invoice": "invoice",
    "billing.meter": "billing.meter",
    "event": "event",
    "webhook_endpoint": "webhook_endpoint",
    "account": "account",
    "setup_intent": "setupintent",
    "payment_method": "PaymentMethod",
}

INTERVALS_FR: dict[str, str] = {"day": "jour", "week": "semaine", "month": "mois", "year": "an"}
CURRENCY_SYMBOLS: dict[str, str] = {"eur": "€", "usd": "$", "gbp": "£", "chf": "CHF"}
INVOICE_STATUS_FR: dict[str, str] = {
    "draft": "brouillon",
    "open": "à payer",
    "paid": "payée",
    "void": "annulée",
    "uncollectible": "irrécouvrable",
}
# Test card number -> (brand, funding country); every test card expires 12/2034 here.
CARD_BRANDS: dict[str, tuple[str, str]] = {
    "4242424242424242": ("visa", "US"),
    "5555555555554444": ("mastercard", "US"),
    "4000000000000002": ("visa", "US"),
    "4000000000009995": ("visa", "US"),
    "4000000000000341": ("visa", "US"),
}
# What the API answers for a declined card (402 ``card_error``), as Stripe words it.
DECLINE_ERRORS: dict[str, tuple[str, str]] = {
    "card_declined": ("generic_decline", "Your card was declined."),
    "insufficient_funds": ("insufficient_funds", "Your card has insufficient funds."),
}
DECLINE_MESSAGES_FR: dict[str, str] = {
    "card_declined": "Votre carte a été refusée.",
    "insufficient_funds": "Votre carte a été refusée : fonds insuffisants.",
}

LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "created", "expand"})
CUSTOMER_PARAMS = frozenset(
    {
        "email",
        "name",
        "description",
        "metadata",
        "phone",
        "address",
        "preferred_locales",
        "invoice_settings",
        "tax_exempt",
        "shipping",
        "invoice_prefix",
        "expand",
    }
)
PRODUCT_PARAMS = frozenset(
    {
        "name",
        "id",
        "description",
        "metadata",
        "active",
        "images",
        "url",
        "statement_descriptor",
        "unit_label",
        "tax_code",
        "marketing_features",
        "shippable",
        "expand",
    }
)
PRICE_PARAMS = frozenset(
    {
        "currency",
        "unit_amount",
        "unit_amount_decimal",
        "product",
        "product_data",
        "recurring",
        "lookup_key",
        "transfer_lookup_key",
        "nickname",
        "metadata",
        "active",
        "tax_behavior",
        "billing_scheme",
        "expand",
    }
)
PRICE_UPDATE_PARAMS = frozenset(
    {"active", "lookup_key", "transfer_lookup_key", "nickname", "metadata", "expand"}
)
CHECKOUT_PARAMS = frozenset(
    {
        "mode",
        "line_items",
        "success_url",
        "cancel_url",
        "customer",
        "customer_email",
        "client_reference_id",
        "metadata",
        "subscription_data",
        "payment_intent_data",
        "locale",
        "allow_promotion_codes",
        "billing_address_collection",
        "automatic_tax",
        "customer_creation",
        "customer_update",
        "tax_id_collection",
        "payment_method_types",
        "expires_at",
        "consent_collection",
        "custom_text",
        "invoice_creation",
        "submit_type",
        "currency",
        "phone_number_collection",
        "payment_method_collection",
        "discounts",
        "saved_payment_method_options",
        "setup_intent_data",
        "expand",
    }
)
SETUP_INTENT_DATA_PARAMS = frozenset({"metadata", "description", "on_behalf_of"})
SUBSCRIPTION_DATA_PARAMS = frozenset(
    {"metadata", "description", "application_fee_percent", "billing_cycle_anchor"}
)
SUBSCRIPTION_UPDATE_PARAMS = frozenset(
    {
        "cancel_at_period_end",
        "cancel_at",
        "metadata",
        "description",
        "items",
        "proration_behavior",
        "cancellation_details",
        "default_payment_method",
        "expand",
    }
)
INVOICE_PAY_PARAMS = frozenset({"payment_method", "off_session", "expand"})
METER_PARAMS = frozenset(
    {
        "display_name",
        "event_name",
        "default_aggregation",
        "customer_mapping",
        "value_settings",
        "event_time_window",
        "expand",
    }
)
ACCOUNT_PARAMS = frozenset(
    {
        "type",
        "country",
        "email",
        "business_type",
        "business_profile",
        "metadata",
        "capabilities",
        "controller",
        "default_currency",
        "company",
        "individual",
        "tos_acceptance",
        "settings",
        "expand",
    }
)
WEBHOOK_ENDPOINT_PARAMS = frozenset(
    {"url", "enabled_events", "description", "metadata", "connect", "api_version", "expand"}
)


class StripeApiError(Exception):
    """An error answered in Stripe's JSON shape, so the SDK raises its own exception types."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.decline_code = decline_code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.decline_code:
            error["decline_code"] = self.decline_code
        if self.param:
            error["param"] = self.param
        return {"error": error}


def _missing(param: str) -> StripeApiError:
    return StripeApiError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def _no_such(kind: str, object_id: str, *, param: str = "id") -> StripeApiError:
    return StripeApiError(
        404,
        f"No such {KIND_LABELS.get(kind, kind)}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def _invalid(message: str, *, param: str | None = None) -> StripeApiError:
    return StripeApiError(400, message, param=param)


# --------------------------------------------------------------------------------------------
# Wire format helpers


_KEY_PART = re.compile(r"\[([^\]]*)\]")
_FREE_FORM_KEYS = frozenset({"metadata", "payload"})


def form_decode(body: str) -> dict[str, Any]:
    """Decode Stripe's bracketed form encoding (``a[b][0][c]=v``, ``expand[]=x``) into nested
    dicts and lists, the way Stripe's API reads request bodies and query strings."""
    root: dict[str, Any] = {}
    for raw_key, value in urllib.parse.parse_qsl(body, keep_blank_values=True):
        head, _, rest = raw_key.partition("[")
        parts = [head, *(_KEY_PART.findall("[" + rest) if rest else [])]
        node = root
        for index, part in enumerate(parts):
            key = str(len(node)) if part == "" else part
            if index == len(parts) - 1:
                node[key] = value
                break
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child
    return _listify(root, free_form=True)


def _listify(value: Any, *, free_form: bool = False) -> Any:
    if not isinstance(value, dict):
        return value
    converted = {
        key: _listify(item, free_form=key in _FREE_FORM_KEYS) for key, item in value.items()
    }
    if not free_form and converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def webhook_signature(*, payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value: HMAC-SHA256 of ``"{t}.{payload}"``, keyed with the
    endpoint secret as Stripe does, so ``stripe.Webhook.construct_event`` accepts it."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _new_id(kind: str) -> str:
    prefix, length = ID_FORMATS[kind]
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def _now() -> int:
    return int(time.time())


def _as_int(value: Any, param: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise _invalid(f"Invalid integer: {value}", param=param) from None


def _as_bool(value: Any, param: str) -> bool:
    text = str(value).lower()
    if text in {"true", "false"}:
        return text == "true"
    raise _invalid(f"Invalid boolean: {value}", param=param)


def _as_dict(value: Any, param: str) -> dict[str, Any]:
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise _invalid(f"Invalid object: {param} must be a hash", param=param)
    return value


def _as_list(value: Any, param: str) -> list[Any]:
    if value == "":
        return []
    if isinstance(value, list):
        return value
    raise _invalid(f"Invalid array: {param} must be an array", param=param)


def _check_params(params: Mapping[str, Any], allowed: frozenset[str], *, prefix: str = "") -> None:
    for name in params:
        if name not in allowed:
            full = f"{prefix}[{name}]" if prefix else name
            raise StripeApiError(
                400, f"Received unknown parameter: {full}", code="parameter_unknown", param=full
            )


def _metadata_merge(current: dict[str, str], update: Any) -> dict[str, str]:
    """Stripe merges metadata keys; an empty value removes the key, an empty hash clears all."""
    if update == "":
        return {}
    merged = dict(current)
    for key, value in _as_dict(update, "metadata").items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


def _add_interval(timestamp: int, interval: str, count: int) -> int:
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    if interval in {"day", "week"}:
        return timestamp + count * (86400 if interval == "day" else 7 * 86400)
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def format_amount_fr(amount: int, currency: str) -> str:
    """``4900, "eur"`` -> ``"49,00 €"`` (French separators, narrow no-break space)."""
    units = f"{abs(amount) / 100:,.2f}".replace(",", "\u202f").replace(".", ",")
    sign = "-" if amount < 0 else ""
    return f"{sign}{units}\u00a0{CURRENCY_SYMBOLS.get(currency, currency.upper())}"


def _date_fr(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%d/%m/%Y")


# --------------------------------------------------------------------------------------------
# Object shapes


_FIXTURES_CACHE: dict[str, dict[str, Any]] = {}

# Fixture fields that hold Stripe's placeholder filler, reset to what a fresh test-mode object
# carries. Values set by the code afterwards win.
NEUTRAL: dict[str, dict[str, Any]] = {
    "customer": {
        "address": None,
        "currency": None,
        "discount": None,
        "email": None,
        "name": None,
        "description": None,
        "phone": None,
        "shipping": None,
        "metadata": {},
        "preferred_locales": [],
        "next_invoice_sequence": 1,
    },
    "product": {
        "default_price": None,
        "description": None,
        "package_dimensions": None,
        "images": [],
        "marketing_features": [],
        "metadata": {},
        "type": "service",
    },
    "price": {"custom_unit_amount": None, "transform_quantity": None, "metadata": {}},
    "plan": {"transform_usage": None, "metadata": {}, "billing_scheme": "per_unit"},
    "checkout.session": {
        "after_expiration": None,
        "automatic_tax": {"enabled": False, "liability": None, "status": None, "provider": None},
        "consent": None,
        "consent_collection": None,
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer_details": None,
        "invoice_creation": None,
        "payment_intent": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "adaptive_pricing": None,
        "discounts": [],
        "collected_information": None,
        "permissions": None,
        "wallet_options": None,
        "currency_conversion": None,
        "managed_payments": None,
        "saved_payment_method_options": None,
        "phone_number_collection": {"enabled": False},
    },
    "subscription": {
        "automatic_tax": {"enabled": False, "liability": None, "disabled_reason": None},
        "billing_cycle_anchor_config": None,
        "cancel_at": None,
        "canceled_at": None,
        "ended_at": None,
        "next_pending_invoice_item_invoice": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_update": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_start": None,
        "cancel_at_period_end": False,
        "billing_thresholds": None,
        "billing_mode": {"type": "classic", "flexible": None},
        "managed_payments": None,
        "billing_schedules": [],
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
    },
    "subscription_item": {"billing_thresholds": None, "metadata": {}},
    "invoice": {
        "account_country": "FR",
        "automatic_tax": {
            "enabled": False,
            "liability": None,
            "status": None,
            "disabled_reason": None,
            "provider": None,
        },
        "customer_address": None,
        "customer_shipping": None,
        "due_date": None,
        "from_invoice": None,
        "last_finalization_error": None,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "shipping_cost": None,
        "shipping_details": None,
        "amount_overpaid": 0,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "rendering": None,
    },
    "line_item": {"pretax_credit_amounts": [], "taxes": [], "metadata": {}},
    "item": {"adjustable_quantity": None},
    "billing.meter": {"event_time_window": None},
    "account": {"email": None, "business_type": None},
    "webhook_endpoint": {"description": None, "metadata": {}},
}


# Objects the fixtures file lacks, with the fields Stripe's API reference gives them (a card
# payment method carries only its ``card`` details, as the API answers).
LOCAL_SHAPES: dict[str, dict[str, Any]] = {
    "setup_intent": {
        "id": "",
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": None,
        "created": 0,
        "customer": None,
        "customer_account": None,
        "description": None,
        "excluded_payment_method_types": None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "single_use_mandate": None,
        "status": "requires_payment_method",
        "usage": "off_session",
    },
    "payment_method": {
        "id": "",
        "object": "payment_method",
        "allow_redisplay": "always",
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": None,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "card": None,
        "created": 0,
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "radar_options": {},
        "type": "card",
    },
}


def _fixtures() -> dict[str, dict[str, Any]]:
    if not _FIXTURES_CACHE:
        _FIXTURES_CACHE.update(json.loads(FIXTURES_PATH.read_text("utf-8"))["resources"])
    return _FIXTURES_CACHE


def stripe_shape(kind: str, **fields: Any) -> dict[str, Any]:
    """A new object of ``kind`` with exactly the fixture's fields, filler reset, ``fields`` set."""
    base = _fixtures().get(kind) or LOCAL_SHAPES[kind]
    shaped = copy.deepcopy(base)
    shaped.update(copy.deepcopy(NEUTRAL.get(kind, {})))
    shaped.update(fields)
    if "livemode" in shaped:
        shaped["livemode"] = False
    return shaped


def _plan_from_price(price: dict[str, Any]) -> dict[str, Any]:
    recurring = price["recurring"] or {}
    return stripe_shape(
        "plan",
        id=price["id"],
        active=price["active"],
        amount=price["unit_amount"],
        amount_decimal=price["unit_amount_decimal"],
        created=price["created"],
        currency=price["currency"],
        interval=recurring.get("interval"),
        interval_count=recurring.get("interval_count"),
        meter=recurring.get("meter"),
        usage_type=recurring.get("usage_type"),
        trial_period_days=recurring.get("trial_period_days"),
        metadata=copy.deepcopy(price["metadata"]),
        nickname=price["nickname"],
        product=price["product"],
        tiers_mode=None,
    )


def _strip_private(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_private(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_strip_private(item) for item in value]
    return value


def _with_base_url(value: Any, base_url: str) -> Any:
    if isinstance(value, str) and value.startswith(URL_MARKER):
        return base_url + value[len(URL_MARKER) :]
    if isinstance(value, dict):
        return {k: _with_base_url(v, base_url) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_base_url(item, base_url) for item in value]
    return value


# --------------------------------------------------------------------------------------------
# Persistent state


class _State:
    """All objects, as JSON under the data directory; one re-entrant lock guards everything."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        if path.exists():
            self.data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        else:
            self.data = {"version": 1, "namespaces": {}, "outbox": []}

    def collection(self, namespace: str, kind: str) -> dict[str, dict[str, Any]]:
        spaces = self.data["namespaces"]
        return spaces.setdefault(namespace, {}).setdefault(kind, {})

    def namespaces(self) -> list[str]:
        return list(self.data["namespaces"])

    @property
    def outbox(self) -> list[list[str]]:
        return self.data["outbox"]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, ensure_ascii=False), "utf-8")
        os.replace(tmp, self.path)


# --------------------------------------------------------------------------------------------
# Webhook delivery


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret: str


class _WebhookDispatcher:
    """One FIFO queue and thread per endpoint: events reach an endpoint in creation order."""

    def __init__(
        self,
        *,
        payload_for: Callable[[str, str], bytes | None],
        target_for: Callable[[str], WebhookTarget | None],
        on_done: Callable[[str, str, str, bool], None],
        retry_delays: Sequence[float],
        timeout: float,
    ) -> None:
        self._payload_for = payload_for
        self._target_for = target_for
        self._on_done = on_done
        self._retry_delays = tuple(retry_delays)
        self._timeout = timeout
        self._cond = threading.Condition()
        self._queues: dict[str, deque[tuple[str, str]]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._in_flight = 0
        self._paused = False
        self._stopping = threading.Event()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.log: list[dict[str, Any]] = []

    def enqueue(self, *, endpoint_key: str, namespace: str, event_id: str) -> None:
        with self._cond:
            if self._stopping.is_set():
                return
            self._queues.setdefault(endpoint_key, deque()).append((namespace, event_id))
            if endpoint_key not in self._threads:
                thread = threading.Thread(
                    target=self._run,
                    args=(endpoint_key,),
                    name=f"stripe-webhook-{endpoint_key}",
                    daemon=True,
                )
                self._threads[endpoint_key] = thread
                thread.start()
            self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self, *, order: str = "forward") -> None:
        with self._cond:
            if order == "reverse":
                for queue in self._queues.values():
                    queue.reverse()
            self._paused = False
            self._cond.notify_all()

    def wait_idle(self, *, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(
                lambda: self._in_flight == 0 and not any(self._queues.values()), timeout=timeout
            )

    def stop(self) -> None:
        with self._cond:
            self._stopping.set()
            self._cond.notify_all()
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout=self._timeout + 1)

    def _run(self, endpoint_key: str) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: (
                        self._stopping.is_set()
                        or (not self._paused and bool(self._queues[endpoint_key]))
                    )
                )
                if self._stopping.is_set():
                    return
                namespace, event_id = self._queues[endpoint_key].popleft()
                self._in_flight += 1
            try:
                delivered = self._deliver(endpoint_key, namespace, event_id)
                if delivered is not None:
                    self._on_done(namespace, event_id, endpoint_key, delivered)
            except Exception:  # a delivery bug must not kill the endpoint's thread
                logger.exception("Webhook delivery of %s failed", event_id)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _deliver(self, endpoint_key: str, namespace: str, event_id: str) -> bool | None:
        """True when delivered, False when given up, None when stopped (kept for a restart)."""
        payload = self._payload_for(namespace, event_id)
        target = self._target_for(endpoint_key)
        if payload is None or target is None:
            return False
        for attempt, delay in enumerate((0.0, *self._retry_delays), start=1):
            if delay and self._stopping.wait(delay):
                return None
            status = self._post(target, payload)
            self.log.append(
                {"event": event_id, "endpoint": endpoint_key, "attempt": attempt, "status": status}
            )
            if 200 <= status < 300:
                return True
        logger.warning("Webhook %s to %s given up after retries", event_id, target.url)
        return False

    def _post(self, target: WebhookTarget, payload: bytes) -> int:
        if urllib.parse.urlsplit(target.url).scheme not in {"http", "https"}:
            return 0
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            target.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": webhook_signature(
                    payload=payload, secret=target.secret, timestamp=_now()
                ),
            },
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, OSError):
            return 0


# --------------------------------------------------------------------------------------------
# The API


@dataclass
class _Call:
    method: str
    path: str
    params: dict[str, Any]
    namespace: str
    api_version: str
    request_id: str | None
    idempotency_key: str | None


@dataclass
class HttpReply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] | None = None


Route = tuple[str, re.Pattern[str], str, frozenset[str] | None]


def _route(method: str, pattern: str, handler: str, allowed: Iterable[str] | None) -> Route:
    compiled = re.compile(pattern.replace("{id}", r"(?P<object_id>[^/]+)") + "$")
    return (method, compiled, handler, None if allowed is None else frozenset(allowed))


ROUTES: list[Route] = [
    _route("POST", "/v1/customers", "customer_create", CUSTOMER_PARAMS),
    _route("GET", "/v1/customers", "customer_list", LIST_PARAMS | {"email"}),
    _route("GET", "/v1/customers/{id}", "customer_retrieve", {"expand"}),
    _route("POST", "/v1/customers/{id}", "customer_update", CUSTOMER_PARAMS),
    _route("DELETE", "/v1/customers/{id}", "customer_delete", set()),
    _route("POST", "/v1/products", "product_create", PRODUCT_PARAMS),
    _route("GET", "/v1/products", "product_list", LIST_PARAMS | {"active", "ids"}),
    _route("GET", "/v1/products/{id}", "product_retrieve", {"expand"}),
    _route("POST", "/v1/products/{id}", "product_update", PRODUCT_PARAMS - {"id"}),
    _route("POST", "/v1/prices", "price_create", PRICE_PARAMS),
    _route(
        "GET",
        "/v1/prices",
        "price_list",
        LIST_PARAMS | {"active", "product", "lookup_keys", "type", "currency", "recurring"},
    ),
    _route("GET", "/v1/prices/{id}", "price_retrieve", {"expand"}),
    _route("POST", "/v1/prices/{id}", "price_update", PRICE_UPDATE_PARAMS),
    _route("POST", "/v1/checkout/sessions", "checkout_session_create", CHECKOUT_PARAMS),
    _route(
        "GET",
        "/v1/checkout/sessions",
        "checkout_session_list",
        LIST_PARAMS | {"customer", "subscription", "payment_intent", "status"},
    ),
    _route("GET", "/v1/checkout/sessions/{id}", "checkout_session_retrieve", {"expand"}),
    _route(
        "GET", "/v1/checkout/sessions/{id}/line_items", "checkout_session_line_items", LIST_PARAMS
    ),
    _route("POST", "/v1/checkout/sessions/{id}/expire", "checkout_session_expire", {"expand"}),
    _route(
        "GET",
        "/v1/subscriptions",
        "subscription_list",
        LIST_PARAMS | {"customer", "status", "price"},
    ),
    _route("GET", "/v1/subscriptions/{id}", "subscription_retrieve", {"expand"}),
    _route("POST", "/v1/subscriptions/{id}", "subscription_update", SUBSCRIPTION_UPDATE_PARAMS),
    _route(
        "DELETE",
        "/v1/subscriptions/{id}",
        "subscription_cancel",
        {"invoice_now", "prorate", "cancellation_details", "expand"},
    ),
    _route(
        "GET",
        "/v1/invoices",
        "invoice_list",
        LIST_PARAMS | {"customer", "subscription", "status", "collection_method"},
    ),
    _route("GET", "/v1/invoices/{id}", "invoice_retrieve", {"expand"}),
    _route("POST", "/v1/invoices/{id}/pay", "invoice_pay", INVOICE_PAY_PARAMS),
    _route("GET", "/v1/setup_intents/{id}", "setup_intent_retrieve", {"expand"}),
    _route("GET", "/v1/payment_methods/{id}", "payment_method_retrieve", {"expand"}),
    _route("POST", "/v1/billing/meters", "meter_create", METER_PARAMS),
    _route("GET", "/v1/billing/meters", "meter_list", LIST_PARAMS | {"status"}),
    _route("GET", "/v1/billing/meters/{id}", "meter_retrieve", {"expand"}),
    _route(
        "GET",
        "/v1/billing/meters/{id}/event_summaries",
        "meter_event_summary_list",
        LIST_PARAMS | {"customer", "start_time", "end_time", "value_grouping_window"},
    ),
    _route(
        "POST",
        "/v1/billing/meter_events",
        "meter_event_create",
        {"event_name", "payload", "identifier", "timestamp", "expand"},
    ),
    _route("POST", "/v1/accounts", "account_create", ACCOUNT_PARAMS),
    _route("GET", "/v1/accounts", "account_list", LIST_PARAMS),
    _route("GET", "/v1/accounts/{id}", "account_retrieve", {"expand"}),
    _route("POST", "/v1/accounts/{id}", "account_update", ACCOUNT_PARAMS - {"type"}),
    _route("GET", "/v1/account", "account_current", {"expand"}),
    _route(
        "POST",
        "/v1/account_links",
        "account_link_create",
        {"account", "refresh_url", "return_url", "type", "collect", "collection_options", "expand"},
    ),
    _route("GET", "/v1/events", "event_list", LIST_PARAMS | {"type", "types"}),
    _route("GET", "/v1/events/{id}", "event_retrieve", {"expand"}),
    _route("POST", "/v1/webhook_endpoints", "webhook_endpoint_create", WEBHOOK_ENDPOINT_PARAMS),
    _route("GET", "/v1/webhook_endpoints", "webhook_endpoint_list", LIST_PARAMS),
    _route("GET", "/v1/webhook_endpoints/{id}", "webhook_endpoint_retrieve", {"expand"}),
    _route("DELETE", "/v1/webhook_endpoints/{id}", "webhook_endpoint_delete", set()),
    _route("POST", "/_test/subscriptions/{id}/advance", "test_subscription_advance", {"fail"}),
    _route("POST", "/_test/events/{id}/redeliver", "test_event_redeliver", set()),
    _route("POST", "/_test/webhooks/pause", "test_webhooks_pause", set()),
    _route("POST", "/_test/webhooks/resume", "test_webhooks_resume", {"order"}),
    _route("POST", "/_test/webhooks/wait", "test_webhooks_wait", {"timeout"}),
]


class _Api:
    """Stripe's behaviour over the state: one method per route, hosted pages, events."""

    def __init__(
        self,
        *,
        state: _State,
        cli_endpoints: Sequence[WebhookTarget],
        api_key: str | None,
        retry_delays: Sequence[float],
        delivery_timeout: float,
    ) -> None:
        self.state = state
        self.cli_endpoints = list(cli_endpoints)
        self.api_key = api_key
        self.base_url = ""
        self._pending: list[tuple[str, str, str]] = []
        self._idempotency: dict[tuple[str, str], tuple[str, HttpReply]] = {}
        self.dispatcher = _WebhookDispatcher(
            payload_for=self._event_payload,
            target_for=self._webhook_target,
            on_done=self._delivery_done,
            retry_delays=retry_delays,
            timeout=delivery_timeout,
        )

    # ---- plumbing -------------------------------------------------------------------------

    def start_deliveries(self) -> None:
        """Queue what a previous run left undelivered, in its original order."""
        with self.state.lock:
            for namespace, event_id, endpoint_key in self.state.outbox:
                self.dispatcher.enqueue(
                    endpoint_key=endpoint_key, namespace=namespace, event_id=event_id
                )

    def handle(
        self, method: str, path: str, query: str, body: bytes, headers: Message
    ) -> HttpReply:
        try:
            if path == "/_health":
                return _json_reply(200, {"status": "ok"})
            page = self._page(method, path, body)
            if page is not None:
                return page
            if path.startswith(("/v1/", "/_test/")):
                return self._api_call(method, path, query, body, headers)
            return _html_reply(404, _page_html("Page introuvable", "<p>Page introuvable.</p>"))
        except StripeApiError as error:
            return _json_reply(error.status, error.body())

    def _api_call(
        self, method: str, path: str, query: str, body: bytes, headers: Message
    ) -> HttpReply:
        self._authenticate(headers.get("Authorization"))
        raw_params = body.decode("utf-8") if method == "POST" else query
        params = form_decode(raw_params)
        idempotency_key = headers.get("Idempotency-Key") if method == "POST" else None
        with self.state.lock:
            namespace = self._namespace(headers.get("Stripe-Account"))
            cache_key = (namespace, idempotency_key) if idempotency_key else None
            fingerprint = f"{method} {path} {raw_params}"
            if cache_key and cache_key in self._idempotency:
                seen_fingerprint, seen = self._idempotency[cache_key]
                if seen_fingerprint != fingerprint:
                    raise StripeApiError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with. Try using a key other than "
                        f"'{idempotency_key}' if you meant to execute a different request.",
                        type_="idempotency_error",
                    )
                return HttpReply(
                    seen.status,
                    seen.body,
                    seen.content_type,
                    {**(seen.headers or {}), "Idempotent-Replayed": "true"},
                )
            request_id = _new_id("request")
            call = _Call(
                method=method,
                path=path,
                params=params,
                namespace=namespace,
                api_version=headers.get("Stripe-Version") or DEFAULT_API_VERSION,
                request_id=request_id,
                idempotency_key=idempotency_key,
            )
            reply_headers = {"Request-Id": request_id}
            if idempotency_key:
                reply_headers["Idempotency-Key"] = idempotency_key
            try:
                result = self._dispatch(call)
                reply = _json_reply(200, result, reply_headers)
            except StripeApiError as error:
                self._pending.clear()
                reply = _json_reply(
                    error.status, error.body(), {**reply_headers, "Stripe-Should-Retry": "false"}
                )
            if method in {"POST", "DELETE"} and reply.status == 200:
                self._commit()
            # As Stripe: a request refused by validation saves no idempotent result.
            if cache_key and reply.status == 200:
                self._idempotency[cache_key] = (fingerprint, reply)
                while len(self._idempotency) > IDEMPOTENCY_CACHE_SIZE:
                    self._idempotency.pop(next(iter(self._idempotency)))
            return reply

    def _authenticate(self, authorization: str | None) -> None:
        key = ""
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() == "bearer":
                key = credentials.strip()
            elif scheme.lower() == "basic":
                try:
                    decoded = _b64decode(credentials.strip())
                except ValueError:
                    decoded = ""
                key = decoded.partition(":")[0]
        if not key:
            raise StripeApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                "or we can help at https://support.stripe.com/.",
            )
        valid = (
            key == self.api_key
            if self.api_key
            else (key.startswith(("sk_test_", "rk_test_")) and len(key) > len("sk_test_"))
        )
        if not valid:
            masked = key[:8] + "*" * max(len(key) - 12, 4) + key[-4:]
            raise StripeApiError(401, f"Invalid API Key provided: {masked}")

    def _namespace(self, stripe_account: str | None) -> str:
        if not stripe_account:
            return PLATFORM
        if stripe_account not in self.state.collection(PLATFORM, "account"):
            raise StripeApiError(
                403,
                f"The provided key does not have access to account '{stripe_account}' (or that "
                "account does not exist). Application access may have been revoked.",
                code="account_invalid",
            )
        return stripe_account

    def _dispatch(self, call: _Call) -> dict[str, Any]:
        for method, pattern, handler_name, allowed in ROUTES:
            match = pattern.match(call.path)
            if not match:
                continue
            if method != call.method:
                continue
            expand = _as_list(call.params.pop("expand", []), "expand")
            if allowed is not None:
                _check_params(call.params, allowed - {"expand"})
            handler = getattr(self, f"_h_{handler_name}")
            result = handler(call, **match.groupdict())
            return self.render(result, namespace=call.namespace, expand=expand)
        raise StripeApiError(
            404,
            f"Unrecognized request URL ({call.method}: {call.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        )

    def _commit(self) -> None:
        """Persist, then hand new events to the delivery threads."""
        self.state.save()
        pending, self._pending = self._pending, []
        for namespace, event_id, endpoint_key in pending:
            self.dispatcher.enqueue(
                endpoint_key=endpoint_key, namespace=namespace, event_id=event_id
            )

    def render(
        self, value: dict[str, Any], *, namespace: str, expand: Sequence[str] = ()
    ) -> dict[str, Any]:
        rendered = copy.deepcopy(value)
        for path in expand:
            rendered = self._expand(rendered, str(path).split("."), namespace, str(path))
        return _with_base_url(_strip_private(rendered), self.base_url)

    def _expand(
        self, obj: dict[str, Any], path: list[str], namespace: str, full: str
    ) -> dict[str, Any]:
        head, rest = path[0], path[1:]
        if obj.get("object") == "list" and head == "data":
            if rest:
                obj["data"] = [self._expand(item, rest, namespace, full) for item in obj["data"]]
            return obj
        if obj.get("object") == "checkout.session" and head == "line_items":
            obj["line_items"] = self._list_response(
                [self._checkout_item(namespace, item) for item in obj.get("_line_items", [])],
                {},
                f"/v1/checkout/sessions/{obj['id']}/line_items",
            )
            return obj
        value = obj.get(head)
        if isinstance(value, str):
            kind = EXPANDABLE.get(obj.get("object", ""), {}).get(head)
            if kind is None:
                raise _invalid(f"This property cannot be expanded ({head}).", param="expand")
            target = self.state.collection(namespace, kind).get(value)
            if target is None:
                raise _no_such(kind, value)
            value = copy.deepcopy(target)
        elif head not in obj or (value is not None and not isinstance(value, dict)):
            raise _invalid(f"This property cannot be expanded ({full}).", param="expand")
        if rest and isinstance(value, dict):
            value = self._expand(value, rest, namespace, full)
        obj[head] = value
        return obj

    def _list_response(
        self, items: list[dict[str, Any]], params: dict[str, Any], url: str
    ) -> dict[str, Any]:
        """Stripe's cursor pagination over ``items`` (already newest first)."""
        created = params.get("created")
        if isinstance(created, dict):
            bounds = {op: _as_int(v, f"created[{op}]") for op, v in created.items()}
            checks: dict[str, Callable[[int, int], bool]] = {
                "gt": lambda a, b: a > b,
                "gte": lambda a, b: a >= b,
                "lt": lambda a, b: a < b,
                "lte": lambda a, b: a <= b,
            }
            for op in bounds:
                if op not in checks:
                    raise StripeApiError(
                        400,
                        f"Received unknown parameter: created[{op}]",
                        code="parameter_unknown",
                        param=f"created[{op}]",
                    )
            items = [
                item
                for item in items
                if all(checks[op](item["created"], bound) for op, bound in bounds.items())
            ]
        elif created not in (None, ""):
            items = [item for item in items if item["created"] == _as_int(created, "created")]
        limit = _as_int(params.get("limit", 10), "limit")
        if not 1 <= limit <= 100:
            raise _invalid(
                "Invalid limit: must be at least 1 and less than or equal to 100.", param="limit"
            )
        ids = [item["id"] for item in items]
        after, before = params.get("starting_after"), params.get("ending_before")
        if after:
            if after not in ids:
                raise _invalid(f"No such object: '{after}'", param="starting_after")
            window = items[ids.index(after) + 1 :]
            page, has_more = window[:limit], len(window) > limit
        elif before:
            if before not in ids:
                raise _invalid(f"No such object: '{before}'", param="ending_before")
            window = items[: ids.index(before)]
            page, has_more = window[-limit:], len(window) > limit
        else:
            page, has_more = items[:limit], len(items) > limit
        return {"object": "list", "data": page, "has_more": has_more, "url": url}

    def _newest_first(self, namespace: str, kind: str) -> list[dict[str, Any]]:
        return list(reversed(self.state.collection(namespace, kind).values()))

    def _get(self, namespace: str, kind: str, object_id: str) -> dict[str, Any]:
        found = self.state.collection(namespace, kind).get(object_id)
        if found is None or found.get("_deleted"):
            raise _no_such(kind, object_id)
        return found

    # ---- events ---------------------------------------------------------------------------

    def _emit(
        self,
        namespace: str,
        type_: str,
        obj: dict[str, Any],
        *,
        call: _Call | None,
        api_version: str | None = None,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"object": _strip_private(copy.deepcopy(obj))}
        if previous is not None:
            data["previous_attributes"] = copy.deepcopy(previous)
        endpoints = self._endpoints_for(namespace, type_)
        event = stripe_shape(
            "event",
            id=_new_id("event"),
            api_version=(call.api_version if call else api_version) or DEFAULT_API_VERSION,
            created=_now(),
            data=data,
            pending_webhooks=len(endpoints),
            request={
                "id": call.request_id if call else None,
                "idempotency_key": call.idempotency_key if call else None,
            },
            type=type_,
        )
        if namespace != PLATFORM:
            event["account"] = namespace
        self.state.collection(namespace, "event")[event["id"]] = event
        for endpoint_key in endpoints:
            self.state.outbox.append([namespace, event["id"], endpoint_key])
            self._pending.append((namespace, event["id"], endpoint_key))
        return event

    def _endpoints_for(self, namespace: str, type_: str) -> list[str]:
        keys = [f"cli:{index}" for index in range(len(self.cli_endpoints))]
        for endpoint in self.state.collection(PLATFORM, "webhook_endpoint").values():
            if endpoint.get("_deleted") or endpoint["status"] != "enabled":
                continue
            if bool(endpoint.get("_connect")) != (namespace != PLATFORM):
                continue
            if "*" in endpoint["enabled_events"] or type_ in endpoint["enabled_events"]:
                keys.append(endpoint["id"])
        return keys

    def _event_payload(self, namespace: str, event_id: str) -> bytes | None:
        with self.state.lock:
            event = self.state.collection(namespace, "event").get(event_id)
            if event is None:
                return None
            rendered = self.render(event, namespace=namespace)
        return json.dumps(rendered, indent=2, ensure_ascii=False).encode("utf-8")

    def _webhook_target(self, endpoint_key: str) -> WebhookTarget | None:
        if endpoint_key.startswith("cli:"):
            index = int(endpoint_key.removeprefix("cli:"))
            return self.cli_endpoints[index] if index < len(self.cli_endpoints) else None
        with self.state.lock:
            endpoint = self.state.collection(PLATFORM, "webhook_endpoint").get(endpoint_key)
            if endpoint is None or endpoint.get("_deleted") or endpoint["status"] != "enabled":
                return None
            return WebhookTarget(url=endpoint["url"], secret=endpoint["_secret"])

    def _delivery_done(
        self, namespace: str, event_id: str, endpoint_key: str, delivered: bool
    ) -> None:
        with self.state.lock:
            entry = [namespace, event_id, endpoint_key]
            if entry in self.state.outbox:
                self.state.outbox.remove(entry)
            event = self.state.collection(namespace, "event").get(event_id)
            if delivered and event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1
            self.state.save()

    def event_redeliver(self, *, namespace: str, event_id: str) -> int:
        """Queue ``event_id`` again for every matching endpoint (a duplicate delivery)."""
        with self.state.lock:
            event = self._get(namespace, "event", event_id)
            endpoints = self._endpoints_for(namespace, event["type"])
            for endpoint_key in endpoints:
                self.state.outbox.append([namespace, event_id, endpoint_key])
                self._pending.append((namespace, event_id, endpoint_key))
            self._commit()
            return len(endpoints)

    # ---- customers ------------------------------------------------------------------------

    def _customer_fields(self, params: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for name in ("email", "name", "description", "phone", "tax_exempt", "invoice_prefix"):
            if name in params:
                fields[name] = params[name] or None
        if "address" in params:
            fields["address"] = _address(params["address"])
        if "shipping" in params:
            fields["shipping"] = params["shipping"] or None
        if "preferred_locales" in params:
            fields["preferred_locales"] = _as_list(params["preferred_locales"], "preferred_locales")
        return fields

    def _customer_new(
        self,
        namespace: str,
        call: _Call | None,
        *,
        api_version: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        customer = stripe_shape(
            "customer",
            id=_new_id("customer"),
            created=_now(),
            invoice_prefix=secrets.token_hex(4).upper(),
        )
        customer.update(fields)
        self.state.collection(namespace, "customer")[customer["id"]] = customer
        self._emit(namespace, "customer.created", customer, call=call, api_version=api_version)
        return customer

    def _h_customer_create(self, call: _Call) -> dict[str, Any]:
        fields = self._customer_fields(call.params)
        fields["metadata"] = _metadata_merge({}, call.params.get("metadata", {}))
        return self._customer_new(call.namespace, call, **fields)

    def _h_customer_list(self, call: _Call) -> dict[str, Any]:
        items = [c for c in self._newest_first(call.namespace, "customer") if not c.get("_deleted")]
        if call.params.get("email"):
            items = [c for c in items if c["email"] == call.params["email"]]
        return self._list_response(items, call.params, "/v1/customers")

    def _h_customer_retrieve(self, call: _Call, object_id: str) -> dict[str, Any]:
        customer = self.state.collection(call.namespace, "customer").get(object_id)
        if customer is None:
            raise _no_such("customer", object_id)
        if customer.get("_deleted"):
            return stripe_shape("deleted_customer", id=object_id)
        return customer

    def _h_customer_update(self, call: _Call, object_id: str) -> dict[str, Any]:
        customer = self._get(call.namespace, "customer", object_id)
        before = copy.deepcopy(customer)
        customer.update(self._customer_fields(call.params))
        if "metadata" in call.params:
            customer["metadata"] = _metadata_merge(customer["metadata"], call.params["metadata"])
        if "invoice_settings" in call.params:
            settings = _as_dict(call.params["invoice_settings"], "invoice_settings")
            _check_params(
                settings,
                frozenset({"default_payment_method", "footer"}),
                prefix="invoice_settings",
            )
            if "default_payment_method" in settings:
                method_id = settings["default_payment_method"] or None
                if method_id:
                    self._customer_payment_method(
                        call.namespace,
                        object_id,
                        method_id,
                        param="invoice_settings[default_payment_method]",
                    )
                customer["invoice_settings"] = {
                    **customer["invoice_settings"],
                    "default_payment_method": method_id,
                }
            if "footer" in settings:
                customer["invoice_settings"] = {
                    **customer["invoice_settings"],
                    "footer": settings["footer"] or None,
                }
        self._emit_updated(call, "customer.updated", before, customer)
        return customer

    def _h_customer_delete(self, call: _Call, object_id: str) -> dict[str, Any]:
        customer = self._get(call.namespace, "customer", object_id)
        customer["_deleted"] = True
        self._emit(call.namespace, "customer.deleted", customer, call=call)
        return stripe_shape("deleted_customer", id=object_id)

    def _emit_updated(
        self,
        call: _Call | None,
        type_: str,
        before: dict[str, Any],
        after: dict[str, Any],
        *,
        namespace: str | None = None,
    ) -> None:
        previous = {k: v for k, v in before.items() if after.get(k) != v and not k.startswith("_")}
        if previous:
            self._emit(
                namespace or (call.namespace if call else PLATFORM),
                type_,
                after,
                call=call,
                previous=previous,
            )

    # ---- products and prices --------------------------------------------------------------

    def _h_product_create(self, call: _Call) -> dict[str, Any]:
        params = call.params
        if not params.get("name"):
            raise _missing("name")
        return self._product_new(call, params)

    def _product_new(self, call: _Call, params: dict[str, Any]) -> dict[str, Any]:
        products = self.state.collection(call.namespace, "product")
        product_id = params.get("id") or _new_id("product")
        if product_id in products:
            raise StripeApiError(
                400,
                f"Product already exists: {product_id}",
                code="resource_already_exists",
                param="id",
            )
        now = _now()
        product = stripe_shape(
            "product",
            id=product_id,
            created=now,
            updated=now,
            name=params["name"],
            active=_as_bool(params.get("active", "true"), "active"),
            description=params.get("description") or None,
            metadata=_metadata_merge({}, params.get("metadata", {})),
            statement_descriptor=params.get("statement_descriptor") or None,
            unit_label=params.get("unit_label") or None,
            tax_code=params.get("tax_code") or None,
            url=params.get("url") or None,
        )
        products[product_id] = product
        self._emit(call.namespace, "product.created", product, call=call)
        return product

    def _h_product_list(self, call: _Call) -> dict[str, Any]:
        items = self._newest_first(call.namespace, "product")
        if "active" in call.params:
            wanted = _as_bool(call.params["active"], "active")
            items = [p for p in items if p["active"] == wanted]
        if "ids" in call.params:
            ids = set(_as_list(call.params["ids"], "ids"))
            items = [p for p in items if p["id"] in ids]
        return self._list_response(items, call.params, "/v1/products")

    def _h_product_retrieve(self, call: _Call, object_id: str) -> dict[str, Any]:
        return self._get(call.namespace, "product", object_id)

    def _h_product_update(self, call: _Call, object_id: str) -> dict[str, Any]:
        product = self._get(call.namespace, "product", object_id)
        before = copy.deepcopy(product)
        for name in ("name", "description", "statement_descriptor", "unit_label", "url"):
            if name in call.params:
                product[name] = call.params[name] or None
        if "active" in call.params:
            product["active"] = _as_bool(call.params["active"], "active")
        if "metadata" in call.params:
            product["metadata"] = _metadata_merge(product["metadata"], call.params["metadata"])
        if product != before:
            product["updated"] = _now()
        self._emit_updated(call, "product.updated", before, product)
        return product

    def _h_price_create(self, call: _Call) -> dict[str, Any]:
        params = call.params
        if not params.get("currency"):
            raise _missing("currency")
        if "unit_amount" not in params and "unit_amount_decimal" not in params:
            raise _missing("unit_amount")
        unit_amount = _as_int(
            params.get("unit_amount", str(params.get("unit_amount_decimal", "")).split(".")[0]),
            "unit_amount",
        )
        if unit_amount < 0:
            raise _invalid("Invalid non-negative integer", param="unit_amount")
        recurring = None
        if params.get("recurring"):
            recurring_params = _as_dict(params["recurring"], "recurring")
            _check_params(
                recurring_params,
                frozenset(
                    {
                        "interval",
                        "interval_count",
                        "usage_type",
                        "meter",
                        "trial_period_days",
                        "aggregate_usage",
                    }
                ),
                prefix="recurring",
            )
            interval = recurring_params.get("interval")
            if not interval:
                raise _missing("recurring[interval]")
            if interval not in INTERVALS_FR:
                raise _invalid(
                    f"Invalid recurring[interval]: must be one of {', '.join(INTERVALS_FR)}",
                    param="recurring[interval]",
                )
            usage_type = recurring_params.get("usage_type", "licensed")
            meter = recurring_params.get("meter") or None
            if usage_type == "metered":
                if not meter:
                    raise _missing("recurring[meter]")
                self._get(call.namespace, "billing.meter", meter)
            recurring = {
                "interval": interval,
                "interval_count": _as_int(
                    recurring_params.get("interval_count", 1), "recurring[interval_count]"
                ),
                "meter": meter,
                "usage_type": usage_type,
                "trial_period_days": None,
            }
        lookup_key = params.get("lookup_key") or None
        holder = None
        if lookup_key:
            holder = next(
                (
                    p
                    for p in self.state.collection(call.namespace, "price").values()
                    if p["lookup_key"] == lookup_key
                ),
                None,
            )
            if holder is not None:
                if not _as_bool(params.get("transfer_lookup_key", "false"), "transfer_lookup_key"):
                    raise _invalid(
                        f"A price ({holder['id']}) already uses that lookup key.",
                        param="lookup_key",
                    )
        if params.get("product"):
            product = self._get(call.namespace, "product", params["product"])
        elif params.get("product_data"):
            product_data = _as_dict(params["product_data"], "product_data")
            if not product_data.get("name"):
                raise _missing("product_data[name]")
            product = self._product_new(call, product_data)
        else:
            raise _missing("product")
        if holder is not None:
            holder_before = copy.deepcopy(holder)
            holder["lookup_key"] = None
            self._emit_updated(call, "price.updated", holder_before, holder)
        price = stripe_shape(
            "price",
            id=_new_id("price"),
            created=_now(),
            active=_as_bool(params.get("active", "true"), "active"),
            currency=str(params["currency"]).lower(),
            lookup_key=lookup_key,
            metadata=_metadata_merge({}, params.get("metadata", {})),
            nickname=params.get("nickname") or None,
            product=product["id"],
            recurring=recurring,
            tax_behavior=params.get("tax_behavior", "unspecified"),
            tiers_mode=None,
            type="recurring" if recurring else "one_time",
            unit_amount=unit_amount,
            unit_amount_decimal=str(unit_amount),
        )
        self.state.collection(call.namespace, "price")[price["id"]] = price
        self._emit(call.namespace, "price.created", price, call=call)
        return price

    def _h_price_list(self, call: _Call) -> dict[str, Any]:
        params = call.params
        items = self._newest_first(call.namespace, "price")
        if "active" in params:
            wanted = _as_bool(params["active"], "active")
            items = [p for p in items if p["active"] == wanted]
        if params.get("product"):
            items = [p for p in items if p["product"] == params["product"]]
        if "lookup_keys" in params:
            keys = set(_as_list(params["lookup_keys"], "lookup_keys"))
            items = [p for p in items if p["lookup_key"] in keys]
        if params.get("type"):
            items = [p for p in items if p["type"] == params["type"]]
        if params.get("currency"):
            items = [p for p in items if p["currency"] == params["currency"]]
        return self._list_response(items, params, "/v1/prices")

    def _h_price_retrieve(self, call: _Call, object_id: str) -> dict[str, Any]:
        return self._get(call.namespace, "price", object_id)

    def _h_price_update(self, call: _Call, object_id: str) -> dict[str, Any]:
        price = self._get(call.namespace, "price", object_id)
        before = copy.deepcopy(price)
        params = call.params
        if "lookup_key" in params and params["lookup_key"]:
            holder = next(
                (
                    p
                    for p in self.state.collection(call.namespace, "price").values()
                    if p["lookup_key"] == params["lookup_key"] and p["id"] != object_id
                ),
                None,
            )
            if holder is not None:
                if not _as_bool(params.get("transfer_lookup_key", "false"), "transfer_lookup_key"):
                    raise _invalid(
                        f"A price ({holder['id']}) already uses that lookup key.",
                        param="lookup_key",
                    )
                holder_before = copy.deepcopy(holder)
                holder["lookup_key"] = None
                self._emit_updated(call, "price.updated", holder_before, holder)
        if "lookup_key" in params:
            price["lookup_key"] = params["lookup_key"] or None
        if "nickname" in params:
            price["nickname"] = params["nickname"] or None
        if "active" in params:
            price["active"] = _as_bool(params["active"], "active")
        if "metadata" in params:
            price["metadata"] = _metadata_merge(price["metadata"], params["metadata"])
        self._emit_updated(call, "price.updated", before, price)
        return price

    # ---- checkout -------------------------------------------------------------------------

    def _h_checkout_session_create(self, call: _Call) -> dict[str, Any]:
        params = call.params
        mode = params.get("mode")
        if not mode:
            raise _missing("mode")
        if mode not in {"payment", "setup", "subscription"}:
            raise _invalid(
                "Invalid mode: must be one of payment, setup or subscription", param="mode"
            )
        if not params.get("success_url"):
            raise _missing("success_url")
        if mode == "setup":
            return self._checkout_setup_session_create(call)
        if "setup_intent_data" in params:
            raise _invalid(
                "You can only specify `setup_intent_data` in `setup` mode.",
                param="setup_intent_data",
            )
        raw_items = _as_list(params.get("line_items", []), "line_items")
        if not raw_items:
            raise _missing("line_items")
        customer_id = params.get("customer") or None
        if customer_id:
            self._get(call.namespace, "customer", customer_id)
        subscription_data = _as_dict(params.get("subscription_data", {}), "subscription_data")
        _check_params(subscription_data, SUBSCRIPTION_DATA_PARAMS, prefix="subscription_data")
        if subscription_data and mode != "subscription":
            raise _invalid(
                "You can only specify `subscription_data` in `subscription` mode.",
                param="subscription_data",
            )
        items: list[dict[str, Any]] = []
        intervals: set[tuple[str, int]] = set()
        for index, raw in enumerate(raw_items):
            raw = _as_dict(raw, f"line_items[{index}]")
            _check_params(
                raw,
                frozenset({"price", "quantity", "adjustable_quantity", "tax_rates"}),
                prefix=f"line_items[{index}]",
            )
            if not raw.get("price"):
                raise _missing(f"line_items[{index}][price]")
            price = self.state.collection(call.namespace, "price").get(raw["price"])
            if price is None:
                raise _no_such("price", raw["price"], param=f"line_items[{index}][price]")
            if not price["active"]:
                raise _invalid(
                    f"The price specified is inactive. This field only accepts active prices. "
                    f"({price['id']})",
                    param=f"line_items[{index}][price]",
                )
            metered = bool(price["recurring"]) and price["recurring"]["usage_type"] == "metered"
            if metered and "quantity" in raw:
                raise _invalid(
                    "Quantity should not be specified where usage_type is `metered`. Remove "
                    f"quantity from `line_items[{index}]`",
                    param=f"line_items[{index}][quantity]",
                )
            quantity = (
                None
                if metered
                else _as_int(raw.get("quantity", 1), f"line_items[{index}][quantity]")
            )
            if mode == "payment" and price["recurring"]:
                raise _invalid(
                    "You must provide at least one recurring price in `subscription` mode when "
                    "using prices. You specified `payment` mode but passed a recurring price. "
                    "Either switch to `subscription` mode or use only one-time prices.",
                    param=f"line_items[{index}][price]",
                )
            if price["recurring"]:
                intervals.add(
                    (price["recurring"]["interval"], price["recurring"]["interval_count"])
                )
            items.append({"id": _new_id("item"), "price": price["id"], "quantity": quantity})
        if mode == "subscription" and not intervals:
            raise _invalid(
                "You must provide at least one recurring price in `subscription` mode when "
                "using prices.",
                param="line_items",
            )
        if len(intervals) > 1:
            raise _invalid(
                "Checkout does not support multiple prices with different billing intervals.",
                param="line_items",
            )
        currencies = {self._get(call.namespace, "price", i["price"])["currency"] for i in items}
        if len(currencies) > 1:
            raise _invalid("All prices must use the same currency.", param="line_items")
        amount = sum(
            self._get(call.namespace, "price", i["price"])["unit_amount"] * (i["quantity"] or 0)
            for i in items
        )
        now = _now()
        session_id = _new_id("checkout.session")
        session = stripe_shape(
            "checkout.session",
            id=session_id,
            created=now,
            expires_at=now + 24 * 3600,
            mode=mode,
            success_url=params["success_url"],
            cancel_url=params.get("cancel_url") or None,
            customer=customer_id,
            customer_email=params.get("customer_email") or None,
            customer_creation="if_required" if mode == "payment" and not customer_id else None,
            client_reference_id=params.get("client_reference_id") or None,
            metadata=_metadata_merge({}, params.get("metadata", {})),
            locale=params.get("locale") or None,
            allow_promotion_codes=(
                _as_bool(params["allow_promotion_codes"], "allow_promotion_codes")
                if "allow_promotion_codes" in params
                else None
            ),
            billing_address_collection=params.get("billing_address_collection") or None,
            currency=currencies.pop(),
            amount_subtotal=amount,
            amount_total=amount,
            payment_method_collection="always" if mode == "subscription" else None,
            payment_method_types=["card"],
            payment_status="unpaid",
            status="open",
            submit_type=params.get("submit_type") or None,
            subscription=None,
            invoice=None,
            url=f"{URL_MARKER}/pay/{session_id}",
        )
        session["_line_items"] = items
        session["_subscription_data"] = subscription_data
        session["_api_version"] = call.api_version
        self.state.collection(call.namespace, "checkout.session")[session_id] = session
        return session

    def _checkout_setup_session_create(self, call: _Call) -> dict[str, Any]:
        """A Checkout session that saves a card for later payments (``mode=setup``).

        No line items and no amount; completing it creates a succeeded SetupIntent whose card
        payment method is attached to the session's customer.
        """
        params = call.params
        if params.get("line_items"):
            raise _invalid("You cannot pass `line_items` in `setup` mode.", param="line_items")
        for name in ("subscription_data", "payment_intent_data"):
            if name in params:
                raise _invalid(f"You cannot pass `{name}` in `setup` mode.", param=name)
        currency = str(params.get("currency") or "").lower()
        if not currency and not params.get("payment_method_types"):
            raise _invalid(
                "`currency` is required in `setup` mode when `payment_method_types` is not set.",
                param="currency",
            )
        customer_id = params.get("customer") or None
        if customer_id:
            self._get(call.namespace, "customer", customer_id)
        intent_data = _as_dict(params.get("setup_intent_data", {}), "setup_intent_data")
        _check_params(intent_data, SETUP_INTENT_DATA_PARAMS, prefix="setup_intent_data")
        now = _now()
        session_id = _new_id("checkout.session")
        session = stripe_shape(
            "checkout.session",
            id=session_id,
            created=now,
            expires_at=now + 24 * 3600,
            mode="setup",
            success_url=params["success_url"],
            cancel_url=params.get("cancel_url") or None,
            customer=customer_id,
            customer_email=params.get("customer_email") or None,
            customer_creation=None,
            client_reference_id=params.get("client_reference_id") or None,
            metadata=_metadata_merge({}, params.get("metadata", {})),
            locale=params.get("locale") or None,
            allow_promotion_codes=None,
            billing_address_collection=params.get("billing_address_collection") or None,
            currency=currency or None,
            amount_subtotal=None,
            amount_total=None,
            total_details=None,
            payment_method_collection=None,
            payment_method_types=["card"],
            payment_status="no_payment_required",
            status="open",
            submit_type=None,
            subscription=None,
            invoice=None,
            setup_intent=None,
            url=f"{URL_MARKER}/pay/{session_id}",
        )
        session["_line_items"] = []
        session["_setup_intent_data"] = intent_data
        session["_api_version"] = call.api_version
        self.state.collection(call.namespace, "checkout.session")[session_id] = session
        return session

    def _checkout_setup_complete(
        self, namespace: str, session: dict[str, Any], *, digits: str, name: str
    ) -> str:
        """Save the card: payment method (attached), SetupIntent, then the session completed.

        Events, in Stripe's order: ``payment_method.attached`` (with a customer),
        ``setup_intent.created``, ``setup_intent.succeeded``, ``checkout.session.completed``.
        """
        api_version = session["_api_version"]
        customer_id = session["customer"]
        customer = self.state.collection(namespace, "customer").get(customer_id or "")
        method = self._payment_method_new(
            namespace,
            digits=digits,
            name=name.strip() or (customer or {}).get("name"),
            email=(customer or {}).get("email"),
            customer_id=customer_id,
        )
        data = session["_setup_intent_data"]
        intent_id = _new_id("setup_intent")
        intent = stripe_shape(
            "setup_intent",
            id=intent_id,
            client_secret=f"{intent_id}_secret_{secrets.token_hex(12)}",
            created=_now(),
            customer=customer_id,
            description=data.get("description") or None,
            metadata=_metadata_merge({}, data.get("metadata", {})),
            on_behalf_of=data.get("on_behalf_of") or None,
        )
        self.state.collection(namespace, "setup_intent")[intent_id] = intent

        def emit(type_: str, obj: dict[str, Any]) -> None:
            self._emit(namespace, type_, obj, call=None, api_version=api_version)

        if customer_id:
            emit("payment_method.attached", method)
        emit("setup_intent.created", intent)
        intent.update(status="succeeded", payment_method=method["id"])
        emit("setup_intent.succeeded", intent)
        session.update(
            status="complete",
            setup_intent=intent_id,
            customer_details={
                "address": _address({}),
                "email": (customer or {}).get("email") or session["customer_email"],
                "name": method["billing_details"]["name"],
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
                "business_name": None,
                "individual_name": None,
            },
            url=None,
        )
        emit("checkout.session.completed", session)
        self._commit()
        return _success_url(session)

    def _payment_method_new(
        self,
        namespace: str,
        *,
        digits: str,
        name: str | None,
        email: str | None,
        customer_id: str | None,
    ) -> dict[str, Any]:
        brand, country = CARD_BRANDS[digits]
        method = stripe_shape(
            "payment_method",
            id=_new_id("payment_method"),
            created=_now(),
            customer=customer_id,
            card={
                "brand": brand,
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": country,
                "display_brand": brand,
                "exp_month": 12,
                "exp_year": 2034,
                "fingerprint": hashlib.sha256(digits.encode()).hexdigest()[:16],
                "funding": "credit",
                "generated_from": None,
                "last4": digits[-4:],
                "networks": {"available": [brand], "preferred": None},
                "regulated_status": "unregulated",
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
            },
        )
        method["billing_details"].update(name=name or None, email=email or None)
        method["_number"] = digits
        self.state.collection(namespace, "payment_method")[method["id"]] = method
        return method

    def _customer_payment_method(
        self, namespace: str, customer_id: str, method_id: str, *, param: str
    ) -> dict[str, Any]:
        """A payment method attached to that customer, or Stripe's refusal."""
        method = self.state.collection(namespace, "payment_method").get(method_id)
        if method is None:
            raise _no_such("payment_method", method_id, param=param)
        if method["customer"] != customer_id:
            raise _invalid(
                f"The customer does not have a payment method with the ID {method_id}. The "
                "payment method must be attached to the customer.",
                param=param,
            )
        return method

    def _h_setup_intent_retrieve(self, call: _Call, object_id: str) -> dict[str, Any]:
        return self._get(call.namespace, "setup_intent", object_id)

    def _h_payment_method_retrieve(self, call: _Call, object_id: str) -> dict[str, Any]:
        return self._get(call.namespace, "payment_method", object_id)

    def _checkout_item(self, namespace: str, stored: dict[str, Any]) -> dict[str, Any]:
        price = self._get(namespace, "price", stored["price"])
        product = self.state.collection(namespace, "product").get(price["product"], {})
        quantity = stored["quantity"]
        amount = price["unit_amount"] * (quantity or 0)
        return stripe_shape(
            "item",
            id=stored["id"],
            amount_discount=0,
            amount_subtotal=amount,
            amount_tax=0,
            amount_total=amount,
            currency=price["currency"],
            description=product.get("name", ""),
            metadata={},
            price=copy.deepcopy(price),
            quantity=quantity,
        )

    def _h_checkout_session_list(self, call: _Call) -> dict[str, Any]:
        items = self._newest_first(call.namespace, "checkout.session")
        for name in ("customer", "subscription", "payment_intent", "status"):
            if call.params.get(name):
                items = [s for s in items if s[name] == call.params[name]]
        return self._list_response(items, call.params, "/v1/checkout/sessions")

    def _h_checkout_session_retrieve(self, call: _Call, object_id: str) -> dict[str, Any]:
        return self._get(call.namespace, "checkout.session", object_id)

    def _h_checkout_session_line_items(self, call: _Call, object_id: str) -> dict[str, Any]:
        session = self._get(call.namespace, "checkout.session", object_id)
        return self._list_response(
            [self._checkout_item(call.namespace, item) for item in session["_line_items"]],
            call.params,
            f"/v1/checkout/sessions/{object_id}/line_items",
        )

    def _h_checkout_session_expire(self, call: _Call, object_id: str) -> dict[str, Any]:
        session = self._get(call.namespace, "checkout.session", object_id)
        if session["status"] != "open":
            raise _invalid(
                f'Only Checkout Sessions with a status in ["open"] can be expired. This '
                f'Checkout Session has a status of "{session["status"]}".',
            )
        session.update(status="expired", url=None)
        self._emit(call.namespace, "checkout.session.expired", session, call=call)
        return session

    def _find_session(self, session_id: str) -> tuple[str, dict[str, Any]] | None:
        for namespace in self.state.namespaces():
            session = self.state.collection(namespace, "checkout.session").get(session_id)
            if session is not None:
                return namespace, session
        return None

    def checkout_pay(
        self, *, session_id: str, email: str, name: str, card_number: str
    ) -> tuple[str, str | None]:
        """Complete a Checkout session as its hosted page does.

        Returns ``(redirect_url, None)`` on completion, or ``("", error_message)`` when the page
        must show an error (unknown card, declined one-off payment, missing e-mail).
        """
        with self.state.lock:
            found = self._find_session(session_id)
            if found is None:
                raise _no_such("checkout.session", session_id)
            namespace, session = found
            if session["status"] == "complete":
                return _success_url(session), None
            if session["status"] != "open":
                return "", "Cette session de paiement a expiré."
            digits = re.sub(r"\D", "", card_number)
            if digits not in TEST_CARDS:
                return "", (
                    "Numéro de carte invalide. En mode test, utilisez 4242 4242 4242 4242 "
                    "ou 4000 0000 0000 0002."
                )
            decline = TEST_CARDS[digits]
            saved = session["mode"] == "setup" and digits in SAVED_THEN_DECLINED
            if decline and session["mode"] in {"payment", "setup"} and not saved:
                return "", DECLINE_MESSAGES_FR[decline]
            if session["mode"] == "setup":
                return self._checkout_setup_complete(
                    namespace, session, digits=digits, name=name
                ), None
            api_version = session["_api_version"]
            customer_id = session["customer"]
            email = email.strip() or (session["customer_email"] or "")
            if customer_id is None and not email:
                return "", "Veuillez saisir votre adresse e-mail."
            if customer_id is None:
                customer = self._customer_new(
                    namespace,
                    None,
                    email=email,
                    name=name.strip() or None,
                    metadata={},
                    api_version=api_version,
                )
            else:
                customer = self._get(namespace, "customer", customer_id)
            customer["currency"] = customer["currency"] or session["currency"]
            session.update(
                status="complete",
                customer=customer["id"],
                customer_details={
                    "address": _address({}),
                    "email": customer["email"] or email or None,
                    "name": customer["name"],
                    "phone": None,
                    "tax_exempt": "none",
                    "tax_ids": [],
                    "business_name": None,
                    "individual_name": None,
                },
                url=None,
            )
            if session["mode"] == "payment":
                session.update(payment_status="paid", payment_intent=_new_id("payment_intent"))
                self._emit(
                    namespace,
                    "checkout.session.completed",
                    session,
                    call=None,
                    api_version=api_version,
                )
                self._commit()
                return _success_url(session), None
            subscription, invoice = self._subscription_from_checkout(
                namespace, session, customer, failed=decline is not None
            )
            session.update(
                subscription=subscription["id"],
                invoice=invoice["id"],
                payment_status="paid" if invoice["status"] == "paid" else "unpaid",
            )
            self._emit(
                namespace, "checkout.session.completed", session, call=None, api_version=api_version
            )
            self._emit(
                namespace,
                "customer.subscription.created",
                subscription,
                call=None,
                api_version=api_version,
            )
            self._emit_invoice_lifecycle(namespace, invoice, api_version=api_version)
            self._commit()
            return _success_url(session), None

    # ---- subscriptions and invoices --------------------------------------------------------

    def _subscription_from_checkout(
        self,
        namespace: str,
        session: dict[str, Any],
        customer: dict[str, Any],
        *,
        failed: bool,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        now = _now()
        subscription_id = _new_id("subscription")
        first_price = self._get(namespace, "price", session["_line_items"][0]["price"])
        recurring = next(
            self._get(namespace, "price", item["price"])["recurring"]
            for item in session["_line_items"]
            if self._get(namespace, "price", item["price"])["recurring"]
        )
        period_end = _add_interval(now, recurring["interval"], recurring["interval_count"])
        items = []
        for stored in session["_line_items"]:
            price = self._get(namespace, "price", stored["price"])
            items.append(
                stripe_shape(
                    "subscription_item",
                    id=_new_id("subscription_item"),
                    created=now,
                    discounts=[],
                    price=copy.deepcopy(price),
                    plan=_plan_from_price(price),
                    quantity=stored["quantity"],
                    subscription=subscription_id,
                    tax_rates=[],
                    current_period_start=now,
                    current_period_end=period_end,
                )
            )
        data = session["_subscription_data"]
        subscription = stripe_shape(
            "subscription",
            id=subscription_id,
            application=None,
            application_fee_percent=(
                float(data["application_fee_percent"])
                if data.get("application_fee_percent")
                else None
            ),
            billing_cycle_anchor=now,
            collection_method="charge_automatically",
            created=now,
            currency=first_price["currency"],
            customer=customer["id"],
            days_until_due=None,
            default_payment_method=None,
            default_source=None,
            default_tax_rates=[],
            description=data.get("description") or None,
            discounts=[],
            items={
                "object": "list",
                "data": items,
                "has_more": False,
                "url": f"/v1/subscription_items?subscription={subscription_id}",
            },
            latest_invoice=None,
            metadata=_metadata_merge({}, data.get("metadata", {})),
            on_behalf_of=None,
            pending_setup_intent=None,
            schedule=None,
            start_date=now,
            status="active",
            test_clock=None,
            trial_settings={"end_behavior": {"missing_payment_method": "create_invoice"}},
            customer_account=None,
        )
        self.state.collection(namespace, "subscription")[subscription_id] = subscription
        invoice = self._invoice_for_subscription(
            namespace,
            subscription,
            billing_reason="subscription_create",
            period=(now, now),
            usage_window=None,
            failed=failed,
        )
        subscription["latest_invoice"] = invoice["id"]
        if invoice["status"] != "paid":
            subscription["status"] = "past_due"
        return subscription, invoice

    def _metered_usage(
        self, namespace: str, meter_id: str | None, customer_id: str, start: int, end: int
    ) -> int | float:
        meter = self.state.collection(namespace, "billing.meter").get(meter_id or "")
        if meter is None:
            return 0
        return _aggregate(self._meter_values(namespace, meter, customer_id, start, end), meter)

    def _meter_values(
        self, namespace: str, meter: dict[str, Any], customer_id: str, start: int, end: int
    ) -> list[tuple[int, float]]:
        customer_key = meter["customer_mapping"]["event_payload_key"]
        value_key = meter["value_settings"]["event_payload_key"]
        values = []
        for event in self.state.collection(namespace, "billing.meter_event").values():
            if event["event_name"] != meter["event_name"]:
                continue
            if event["payload"].get(customer_key) != customer_id:
                continue
            if not start <= event["timestamp"] < end:
                continue
            try:
                values.append((event["timestamp"], float(event["payload"].get(value_key, "0"))))
            except ValueError:
                continue
        return values

    def _invoice_for_subscription(
        self,
        namespace: str,
        subscription: dict[str, Any],
        *,
        billing_reason: str,
        period: tuple[int, int],
        usage_window: tuple[int, int] | None,
        failed: bool,
    ) -> dict[str, Any]:
        now = _now()
        customer = self._get(namespace, "customer", subscription["customer"])
        invoice_id = _new_id("invoice")
        lines = []
        for item in subscription["items"]["data"]:
            price = item["price"]
            product = self.state.collection(namespace, "product").get(price["product"], {})
            metered = price["recurring"]["usage_type"] == "metered"
            if metered:
                window = usage_window or (
                    item["current_period_start"],
                    item["current_period_start"],
                )
                usage = self._metered_usage(
                    namespace, price["recurring"]["meter"], customer["id"], *window
                )
                quantity = int(usage) if float(usage).is_integer() else usage
            else:
                window = (item["current_period_start"], item["current_period_end"])
                quantity = item["quantity"]
            amount = int(round(price["unit_amount"] * quantity))
            interval = INTERVALS_FR[price["recurring"]["interval"]]
            description = (
                f"{quantity} × {product.get('name', price['id'])} "
                f"(à {format_amount_fr(price['unit_amount'], price['currency'])} / {interval})"
            )
            lines.append(
                stripe_shape(
                    "line_item",
                    id=_new_id("line_item"),
                    amount=amount,
                    currency=price["currency"],
                    description=description,
                    discount_amounts=[],
                    discountable=True,
                    discounts=[],
                    invoice=invoice_id,
                    period={"end": window[1], "start": window[0]},
                    quantity=quantity,
                    subscription=subscription["id"],
                    parent={
                        "invoice_item_details": None,
                        "subscription_item_details": {
                            "invoice_item": None,
                            "proration": False,
                            "proration_details": {"credited_items": None},
                            "subscription": subscription["id"],
                            "subscription_item": item["id"],
                        },
                        "type": "subscription_item_details",
                    },
                    pricing={
                        "price_details": {"price": price["id"], "product": price["product"]},
                        "type": "price_details",
                        "unit_amount_decimal": price["unit_amount_decimal"],
                    },
                    subtotal=amount,
                    quantity_decimal=str(quantity),
                )
            )
        total = sum(line["amount"] for line in lines)
        sequence = customer["next_invoice_sequence"]
        customer["next_invoice_sequence"] = sequence + 1
        paid = total == 0 or not failed
        invoice = stripe_shape(
            "invoice",
            id=invoice_id,
            account_name=self._display_name(namespace),
            account_tax_ids=None,
            amount_due=total,
            amount_paid=total if paid else 0,
            amount_remaining=0 if paid else total,
            amount_shipping=0,
            application=None,
            attempt_count=1,
            attempted=True,
            auto_advance=not paid,
            billing_reason=billing_reason,
            collection_method="charge_automatically",
            created=now,
            currency=subscription["currency"],
            custom_fields=None,
            customer=customer["id"],
            customer_email=customer["email"],
            customer_name=customer["name"],
            customer_phone=customer["phone"],
            customer_tax_exempt="none",
            customer_tax_ids=[],
            default_payment_method=None,
            default_source=None,
            default_tax_rates=[],
            description=None,
            discounts=[],
            effective_at=now,
            ending_balance=0,
            footer=None,
            hosted_invoice_url=f"{URL_MARKER}/invoice/{invoice_id}",
            invoice_pdf=f"{URL_MARKER}/invoice/{invoice_id}/pdf",
            issuer={"type": "self"},
            latest_revision=None,
            lines={
                "data": lines,
                "has_more": False,
                "object": "list",
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            metadata={},
            next_payment_attempt=None if paid else now + 3 * 86400,
            number=f"{customer['invoice_prefix']}-{sequence:04d}",
            on_behalf_of=None,
            parent={
                "quote_details": None,
                "subscription_details": {
                    "metadata": copy.deepcopy(subscription["metadata"]),
                    "subscription": subscription["id"],
                },
                "type": "subscription_details",
            },
            period_end=period[1],
            period_start=period[0],
            post_payment_credit_notes_amount=0,
            pre_payment_credit_notes_amount=0,
            receipt_number=None,
            starting_balance=0,
            statement_descriptor=None,
            status="paid" if paid else "open",
            status_transitions={
                "finalized_at": now,
                "marked_uncollectible_at": None,
                "paid_at": now if paid else None,
                "voided_at": None,
            },
            subscription=subscription["id"],
            subtotal=total,
            subtotal_excluding_tax=total,
            test_clock=None,
            total=total,
            total_discount_amounts=[],
            total_excluding_tax=total,
            webhooks_delivered_at=now,
            automatically_finalizes_at=None,
            customer_account=None,
        )
        self.state.collection(namespace, "invoice")[invoice_id] = invoice
        return invoice

    def _emit_invoice_lifecycle(
        self, namespace: str, invoice: dict[str, Any], *, api_version: str | None
    ) -> None:
        """invoice.created (draft), invoice.finalized (open), then the payment outcome."""
        draft = copy.deepcopy(invoice)
        draft.update(
            status="draft",
            number=None,
            hosted_invoice_url=None,
            invoice_pdf=None,
            amount_paid=0,
            amount_remaining=invoice["amount_due"],
            attempted=False,
            attempt_count=0,
            next_payment_attempt=None,
            status_transitions={
                "finalized_at": None,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
        )
        finalized = copy.deepcopy(draft)
        finalized.update(
            status="open",
            number=invoice["number"],
            hosted_invoice_url=invoice["hosted_invoice_url"],
            invoice_pdf=invoice["invoice_pdf"],
            status_transitions={
                **draft["status_transitions"],
                "finalized_at": invoice["status_transitions"]["finalized_at"],
            },
        )
        self._emit(namespace, "invoice.created", draft, call=None, api_version=api_version)
        self._emit(namespace, "invoice.finalized", finalized, call=None, api_version=api_version)
        if invoice["status"] == "paid":
            self._emit(namespace, "invoice.paid", invoice, call=None, api_version=api_version)
            self._emit(
                namespace, "invoice.payment_succeeded", invoice, call=None, api_version=api_version
            )
        else:
            self._emit(
                namespace, "invoice.payment_failed", invoice, call=None, api_version=api_version
            )

    def _h_subscription_list(self, call: _Call) -> dict[str, Any]:
        params = call.params
        items = self._newest_first(call.namespace, "subscription")
        if params.get("customer"):
            items = [s for s in items if s["customer"] == params["customer"]]
        status = params.get("status")
        if status and status != "all":
            items = [s for s in items if s["status"] == status]
        elif not status:
            items = [s for s in items if s["status"] != "canceled"]
        if params.get("price"):
            items = [
                s
                for s in items
                if any(i["price"]["id"] == params["price"] for i in s["items"]["data"])
            ]
        return self._list_response(items, params, "/v1/subscriptions")

    def _h_subscription_retrieve(self, call: _Call, object_id: str) -> dict[str, Any]:
        return self._get(call.namespace, "subscription", object_id)

    def _h_subscription_update(self, call: _Call, object_id: str) -> dict[str, Any]:
        subscription = self._get(call.namespace, "subscription", object_id)
        params = call.params
        if subscription["status"] == "canceled" and set(params) - {
            "metadata",
            "cancellation_details",
        }:
            raise _invalid(
                "A canceled subscription can only update its cancellation_details and metadata."
            )
        before = copy.deepcopy(subscription)
        period_end = subscription["items"]["data"][0]["current_period_end"]
        if "cancel_at_period_end" in params:
            at_end = _as_bool(params["cancel_at_period_end"], "cancel_at_period_end")
            subscription["cancel_at_period_end"] = at_end
            subscription["cancel_at"] = period_end if at_end else None
            subscription["canceled_at"] = _now() if at_end else None
            subscription["cancellation_details"] = {
                "comment": None,
                "feedback": None,
                "reason": "cancellation_requested" if at_end else None,
            }
        if "cancel_at" in params:
            cancel_at = params["cancel_at"]
            subscription["cancel_at"] = _as_int(cancel_at, "cancel_at") if cancel_at else None
        if "cancellation_details" in params:
            details = _as_dict(params["cancellation_details"], "cancellation_details")
            subscription["cancellation_details"] = {
                **subscription["cancellation_details"],
                **{k: (v or None) for k, v in details.items() if k in {"comment", "feedback"}},
            }
        if "description" in params:
            subscription["description"] = params["description"] or None
        if "default_payment_method" in params:
            method_id = params["default_payment_method"] or None
            if method_id:
                self._customer_payment_method(
                    call.namespace,
                    subscription["customer"],
                    method_id,
                    param="default_payment_method",
                )
            subscription["default_payment_method"] = method_id
        if "metadata" in params:
            subscription["metadata"] = _metadata_merge(subscription["metadata"], params["metadata"])
        if "items" in params:
            self._subscription_items_update(call, subscription, params["items"])
        self._emit_updated(call, "customer.subscription.updated", before, subscription)
        return subscription

    def _subscription_items_update(
        self, call: _Call, subscription: dict[str, Any], raw_items: Any
    ) -> None:
        """Change an item's price or quantity (no proration is simulated)."""
        by_id = {item["id"]: item for item in subscription["items"]["data"]}
        for index, raw in enumerate(_as_list(raw_items, "items")):
            raw = _as_dict(raw, f"items[{index}]")
            _check_params(
                raw, frozenset({"id", "price", "quantity", "metadata"}), prefix=f"items[{index}]"
            )
            item = by_id.get(raw.get("id", ""))
            if item is None:
                raise _invalid(
                    f"Invalid subscription item: {raw.get('id')}", param=f"items[{index}][id]"
                )
            if raw.get("price"):
                price = self._get(call.namespace, "price", raw["price"])
                if not price["recurring"]:
                    raise _invalid(
                        "The price specified is not recurring.", param=f"items[{index}][price]"
                    )
                item["price"] = copy.deepcopy(price)
                item["plan"] = _plan_from_price(price)
            if "quantity" in raw:
                item["quantity"] = _as_int(raw["quantity"], f"items[{index}][quantity]")
            if "metadata" in raw:
                item["metadata"] = _metadata_merge(item["metadata"], raw["metadata"])

    def _h_subscription_cancel(self, call: _Call, object_id: str) -> dict[str, Any]:
        subscription = self._get(call.namespace, "subscription", object_id)
        if subscription["status"] == "canceled":
            raise _invalid(
                f"This subscription has already been canceled: {object_id}",
            )
        self._subscription_end(call.namespace, subscription, call=call, ended_at=_now())
        return subscription

    def _subscription_end(
        self, namespace: str, subscription: dict[str, Any], *, call: _Call | None, ended_at: int
    ) -> None:
        now = _now()
        subscription.update(
            status="canceled",
            canceled_at=subscription["canceled_at"] or now,
            ended_at=ended_at,
            cancel_at=subscription["cancel_at"],
            cancellation_details={
                **subscription["cancellation_details"],
                "reason": "cancellation_requested",
            },
        )
        self._emit(namespace, "customer.subscription.deleted", subscription, call=call)

    def _h_test_subscription_advance(self, call: _Call, object_id: str) -> dict[str, Any]:
        """Move the subscription to its next period, as a test clock would."""
        subscription = self._get(call.namespace, "subscription", object_id)
        if subscription["status"] == "canceled":
            raise _invalid(f"This subscription has already been canceled: {object_id}")
        fail = _as_bool(call.params.get("fail", "false"), "fail")
        namespace = call.namespace
        first = subscription["items"]["data"][0]
        old_start, old_end = first["current_period_start"], first["current_period_end"]
        if subscription["cancel_at_period_end"]:
            self._subscription_end(namespace, subscription, call=call, ended_at=old_end)
            return subscription
        cancel_at = subscription["cancel_at"]
        if cancel_at and cancel_at <= old_end:
            # ``cancel_at`` within the period: Stripe ends the subscription at that moment.
            self._subscription_end(namespace, subscription, call=call, ended_at=cancel_at)
            return subscription
        before = copy.deepcopy(subscription)
        if not fail:
            for invoice in list(self.state.collection(namespace, "invoice").values()):
                if invoice["subscription"] == object_id and invoice["status"] == "open":
                    self._invoice_mark_paid(namespace, invoice, call=call)
        recurring = first["price"]["recurring"]
        new_end = _add_interval(old_end, recurring["interval"], recurring["interval_count"])
        for item in subscription["items"]["data"]:
            item["current_period_start"], item["current_period_end"] = old_end, new_end
        invoice = self._invoice_for_subscription(
            namespace,
            subscription,
            billing_reason="subscription_cycle",
            period=(old_start, old_end),
            usage_window=(old_start, old_end),
            failed=fail,
        )
        subscription["latest_invoice"] = invoice["id"]
        subscription["status"] = "active" if invoice["status"] == "paid" else "past_due"
        self._emit_updated(call, "customer.subscription.updated", before, subscription)
        self._emit_invoice_lifecycle(namespace, invoice, api_version=call.api_version)
        return subscription

    def _invoice_mark_paid(
        self, namespace: str, invoice: dict[str, Any], *, call: _Call | None
    ) -> None:
        now = _now()
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            attempt_count=invoice["attempt_count"] + 1,
            attempted=True,
            auto_advance=False,
            next_payment_attempt=None,
            status_transitions={**invoice["status_transitions"], "paid_at": now},
        )
        self._emit(namespace, "invoice.paid", invoice, call=call)
        self._emit(namespace, "invoice.payment_succeeded", invoice, call=call)

    def invoice_pay(self, *, invoice_id: str, card_number: str) -> str | None:
        """Pay an open invoice from its hosted page; returns an error message or None."""
        with self.state.lock:
            namespace, invoice = self._find_invoice(invoice_id)
            if invoice["status"] != "open":
                return None
            digits = re.sub(r"\D", "", card_number)
            if digits not in TEST_CARDS:
                return "Numéro de carte invalide."
            decline = TEST_CARDS[digits]
            if decline:
                invoice["attempt_count"] += 1
                self._emit(namespace, "invoice.payment_failed", invoice, call=None)
                self._commit()
                return DECLINE_MESSAGES_FR[decline]
            self._invoice_mark_paid(namespace, invoice, call=None)
            self._subscription_settled(namespace, invoice, call=None)
            self._commit()
            return None

    def _subscription_settled(
        self, namespace: str, invoice: dict[str, Any], *, call: _Call | None
    ) -> None:
        """A past-due subscription with no open invoice left is active again."""
        subscription = self.state.collection(namespace, "subscription").get(
            invoice["subscription"] or ""
        )
        if subscription is None or subscription["status"] != "past_due":
            return
        still_open = any(
            other["status"] == "open"
            for other in self.state.collection(namespace, "invoice").values()
            if other["subscription"] == subscription["id"]
        )
        if not still_open:
            before = copy.deepcopy(subscription)
            subscription["status"] = "active"
            self._emit_updated(
                call, "customer.subscription.updated", before, subscription, namespace=namespace
            )

    def _h_invoice_pay(self, call: _Call, object_id: str) -> dict[str, Any]:
        """Charge an open invoice off-session with a saved card, as ``POST /v1/invoices/…/pay``.

        The card is ``payment_method``, else the invoice's, the subscription's, then the
        customer's default (Stripe's order). A declined card answers 402 ``card_error`` after
        recording the attempt and sending ``invoice.payment_failed``.
        """
        namespace = call.namespace
        invoice = self._get(namespace, "invoice", object_id)
        if invoice["status"] == "paid":
            raise _invalid("Invoice is already paid")
        if invoice["status"] != "open":
            raise _invalid(
                f"You can only pay an invoice whose status is `open`; this one is "
                f"`{invoice['status']}`."
            )
        customer = self._get(namespace, "customer", invoice["customer"])
        subscription = self.state.collection(namespace, "subscription").get(
            invoice["subscription"] or "", {}
        )
        method_id = (
            call.params.get("payment_method")
            or invoice["default_payment_method"]
            or subscription.get("default_payment_method")
            or customer["invoice_settings"]["default_payment_method"]
        )
        if not method_id:
            raise _invalid(
                "This customer has no attached payment source or default payment method. "
                "Please consider adding a default payment method."
            )
        method = self._customer_payment_method(
            namespace, customer["id"], method_id, param="payment_method"
        )
        decline = TEST_CARDS.get(method["_number"])
        if decline:
            invoice.update(attempt_count=invoice["attempt_count"] + 1, attempted=True)
            self._emit(namespace, "invoice.payment_failed", invoice, call=call)
            self._commit()
            decline_code, message = DECLINE_ERRORS[decline]
            raise StripeApiError(
                402,
                message,
                type_="card_error",
                code="card_declined",
                decline_code=decline_code,
            )
        self._invoice_mark_paid(namespace, invoice, call=call)
        self._subscription_settled(namespace, invoice, call=call)
        return invoice

    def _find_invoice(self, invoice_id: str) -> tuple[str, dict[str, Any]]:
        for namespace in self.state.namespaces():
            invoice = self.state.collection(namespace, "invoice").get(invoice_id)
            if invoice is not None:
                return namespace, invoice
        raise _no_such("invoice", invoice_id)

    def _h_invoice_list(self, call: _Call) -> dict[str, Any]:
        items = self._newest_first(call.namespace, "invoice")
        for name in ("customer", "subscription", "status", "collection_method"):
            if call.params.get(name):
                items = [i for i in items if i[name] == call.params[name]]
        return self._list_response(items, call.params, "/v1/invoices")

    def _h_invoice_retrieve(self, call: _Call, object_id: str) -> dict[str, Any]:
        return self._get(call.namespace, "invoice", object_id)

    # ---- billing meters -------------------------------------------------------------------

    def _h_meter_create(self, call: _Call) -> dict[str, Any]:
        params = call.params
        for name in ("display_name", "event_name"):
            if not params.get(name):
                raise _missing(name)
        aggregation = _as_dict(params.get("default_aggregation", {}), "default_aggregation")
        formula = aggregation.get("formula")
        if not formula:
            raise _missing("default_aggregation[formula]")
        if formula not in {"sum", "count", "last"}:
            raise _invalid(
                "Invalid default_aggregation[formula]: must be one of count, last, or sum",
                param="default_aggregation[formula]",
            )
        meters = self.state.collection(call.namespace, "billing.meter")
        if any(
            m["event_name"] == params["event_name"] and m["status"] == "active"
            for m in meters.values()
        ):
            raise _invalid(
                f"An active meter with event_name `{params['event_name']}` already exists.",
                param="event_name",
            )
        mapping = _as_dict(params.get("customer_mapping", {}), "customer_mapping")
        value_settings = _as_dict(params.get("value_settings", {}), "value_settings")
        now = _now()
        meter = stripe_shape(
            "billing.meter",
            id=_new_id("billing.meter"),
            created=now,
            updated=now,
            customer_mapping={
                "event_payload_key": mapping.get("event_payload_key", "stripe_customer_id"),
                "type": mapping.get("type", "by_id"),
            },
            default_aggregation={"formula": formula},
            display_name=params["display_name"],
            event_name=params["event_name"],
            event_time_window=params.get("event_time_window") or None,
            status="active",
            status_transitions={"deactivated_at": None},
            value_settings={"event_payload_key": value_settings.get("event_payload_key", "value")},
        )
        meters[meter["id"]] = meter
        self._emit(call.namespace, "billing.meter.created", meter, call=call)
        return meter

    def _h_meter_list(self, call: _Call) -> dict[str, Any]:
        items = self._newest_first(call.namespace, "billing.meter")
        if call.params.get("status"):
            items = [m for m in items if m["status"] == call.params["status"]]
        return self._list_response(items, call.params, "/v1/billing/meters")

    def _h_meter_retrieve(self, call: _Call, object_id: str) -> dict[str, Any]:
        return self._get(call.namespace, "billing.meter", object_id)

    def _h_meter_event_create(self, call: _Call) -> dict[str, Any]:
        params = call.params
        if not params.get("event_name"):
            raise _missing("event_name")
        payload = params.get("payload")
        if not payload:
            raise _missing("payload")
        payload = {k: str(v) for k, v in _as_dict(payload, "payload").items()}
        now = _now()
        timestamp = _as_int(params.get("timestamp", now), "timestamp")
        if not now - 35 * 86400 <= timestamp <= now + 300:
            raise _invalid(
                "Timestamp must be within the past 35 calendar days or up to 5 minutes in the "
                "future.",
                param="timestamp",
            )
        identifier = params.get("identifier") or secrets.token_hex(16)
        events = self.state.collection(call.namespace, "billing.meter_event")
        if identifier in events:
            raise _invalid(
                f"An event already exists with identifier {identifier}.", param="identifier"
            )
        event = stripe_shape(
            "billing.meter_event",
            created=now,
            event_name=params["event_name"],
            identifier=identifier,
            payload=payload,
            timestamp=timestamp,
        )
        events[identifier] = event
        return event

    def _h_meter_event_summary_list(self, call: _Call, object_id: str) -> dict[str, Any]:
        meter = self._get(call.namespace, "billing.meter", object_id)
        params = call.params
        for name in ("customer", "start_time", "end_time"):
            if not params.get(name):
                raise _missing(name)
        start = _as_int(params["start_time"], "start_time")
        end = _as_int(params["end_time"], "end_time")
        if start >= end:
            raise _invalid("start_time must be before end_time.", param="start_time")
        window = params.get("value_grouping_window")
        step = {"hour": 3600, "day": 86400}.get(window or "", 0)
        if window and not step:
            raise _invalid(
                "Invalid value_grouping_window: must be one of day or hour",
                param="value_grouping_window",
            )
        bounds = (
            [(s, min(s + step, end)) for s in range(start - start % step, end, step)]
            if step
            else [(start, end)]
        )
        summaries = []
        for window_start, window_end in reversed(bounds):
            values = self._meter_values(
                call.namespace, meter, params["customer"], max(window_start, start), window_end
            )
            if step and not values:
                continue
            digest = hashlib.sha256(
                f"{meter['id']}{params['customer']}{window_start}{window_end}".encode()
            ).hexdigest()[:24]
            summaries.append(
                stripe_shape(
                    "billing.meter_event_summary",
                    id=f"mtrusg_test_{digest}",
                    aggregated_value=_aggregate(values, meter),
                    start_time=window_start,
                    end_time=window_end,
                    meter=meter["id"],
                )
            )
        return self._list_response(
            summaries, params, f"/v1/billing/meters/{object_id}/event_summaries"
        )

    # ---- connected accounts ---------------------------------------------------------------

    def _display_name(self, namespace: str) -> str:
        if namespace == PLATFORM:
            return PLATFORM_DISPLAY_NAME
        account = self.state.collection(PLATFORM, "account").get(namespace, {})
        profile = account.get("business_profile") or {}
        return profile.get("name") or account.get("email") or namespace

    def _h_account_create(self, call: _Call) -> dict[str, Any]:
        params = call.params
        account_type = params.get("type", "standard")
        if account_type not in {"standard", "express", "custom"}:
            raise _invalid(
                "Invalid type: must be one of custom, express, or standard", param="type"
            )
        account_id = _new_id("account")
        account = stripe_shape(
            "account",
            id=account_id,
            created=_now(),
            type=account_type,
            country=params.get("country", "FR"),
            default_currency=params.get("default_currency", "eur"),
            email=params.get("email") or None,
            business_type=params.get("business_type") or None,
            metadata=_metadata_merge({}, params.get("metadata", {})),
            controller={"type": "account" if account_type == "standard" else "application"},
            capabilities={},
            charges_enabled=False,
            payouts_enabled=False,
            details_submitted=False,
        )
        account["external_accounts"]["url"] = f"/v1/accounts/{account_id}/external_accounts"
        account["business_profile"].update(
            {
                k: v or None
                for k, v in _as_dict(params.get("business_profile", {}), "business_profile").items()
                if k in account["business_profile"] and not isinstance(v, dict)
            }
        )
        self.state.collection(PLATFORM, "account")[account_id] = account
        return account

    def _h_account_list(self, call: _Call) -> dict[str, Any]:
        return self._list_response(
            self._newest_first(PLATFORM, "account"), call.params, "/v1/accounts"
        )

    def _h_account_retrieve(self, call: _Call, object_id: str) -> dict[str, Any]:
        return self._get(PLATFORM, "account", object_id)

    def _h_account_current(self, call: _Call) -> dict[str, Any]:
        if call.namespace != PLATFORM:
            return self._get(PLATFORM, "account", call.namespace)
        platform = self.state.data.setdefault("platform_account", None)
        if platform is None:
            platform = stripe_shape(
                "account",
                id=_new_id("account"),
                created=_now(),
                country="FR",
                default_currency="eur",
                charges_enabled=True,
                payouts_enabled=True,
                details_submitted=True,
                capabilities={},
                metadata={},
            )
            platform["business_profile"]["name"] = PLATFORM_DISPLAY_NAME
            self.state.data["platform_account"] = platform
            self.state.save()
        return platform

    def _h_account_update(self, call: _Call, object_id: str) -> dict[str, Any]:
        account = self._get(PLATFORM, "account", object_id)
        before = copy.deepcopy(account)
        params = call.params
        if "email" in params:
            account["email"] = params["email"] or None
        if "metadata" in params:
            account["metadata"] = _metadata_merge(account["metadata"], params["metadata"])
        if "business_profile" in params:
            for key, value in _as_dict(params["business_profile"], "business_profile").items():
                if key in account["business_profile"] and not isinstance(value, dict):
                    account["business_profile"][key] = value or None
        self._emit_updated(call, "account.updated", before, account, namespace=object_id)
        return account

    def _h_account_link_create(self, call: _Call) -> dict[str, Any]:
        params = call.params
        for name in ("account", "type"):
            if not params.get(name):
                raise _missing(name)
        self._get(PLATFORM, "account", params["account"])
        if params["type"] not in {"account_onboarding", "account_update"}:
            raise _invalid(
                "Invalid type: must be one of account_onboarding or account_update", param="type"
            )
        token = _new_id("account_link")
        now = _now()
        self.state.collection(PLATFORM, "account_link")[token] = {
            "account": params["account"],
            "refresh_url": params.get("refresh_url") or None,
            "return_url": params.get("return_url") or None,
            "expires_at": now + 300,
        }
        return stripe_shape(
            "account_link",
            created=now,
            expires_at=now + 300,
            url=f"{URL_MARKER}/connect/onboarding/{token}",
        )

    def account_onboard(self, *, token: str) -> str:
        """Finish onboarding from an account link; returns where to send the browser."""
        with self.state.lock:
            link = self.state.collection(PLATFORM, "account_link").get(token)
            if link is None:
                raise _no_such("account_link", token)
            account = self._get(PLATFORM, "account", link["account"])
            before = copy.deepcopy(account)
            account.update(
                charges_enabled=True,
                payouts_enabled=True,
                details_submitted=True,
                capabilities={"card_payments": "active", "transfers": "active"},
            )
            for key in ("requirements", "future_requirements"):
                account[key].update(
                    currently_due=[], eventually_due=[], past_due=[], disabled_reason=None
                )
            self._emit_updated(None, "account.updated", before, account, namespace=account["id"])
            self._commit()
            return link["return_url"] or f"{self.base_url}/"

    # ---- events and webhook endpoints -----------------------------------------------------

    def _h_event_list(self, call: _Call) -> dict[str, Any]:
        items = self._newest_first(call.namespace, "event")
        if call.params.get("type"):
            wanted = call.params["type"]
            pattern = re.compile(re.escape(wanted).replace(r"\*", ".*") + "$")
            items = [e for e in items if pattern.match(e["type"])]
        if "types" in call.params:
            types = set(_as_list(call.params["types"], "types"))
            items = [e for e in items if e["type"] in types]
        return self._list_response(items, call.params, "/v1/events")

    def _h_event_retrieve(self, call: _Call, object_id: str) -> dict[str, Any]:
        return self._get(call.namespace, "event", object_id)

    def _h_webhook_endpoint_create(self, call: _Call) -> dict[str, Any]:
        params = call.params
        if not params.get("url"):
            raise _missing("url")
        if urllib.parse.urlsplit(params["url"]).scheme not in {"http", "https"}:
            raise _invalid("Invalid URL: URL must be publicly accessible.", param="url")
        enabled = _as_list(params.get("enabled_events", []), "enabled_events")
        if not enabled:
            raise _missing("enabled_events")
        secret = _new_id("webhook_secret")
        endpoint = stripe_shape(
            "webhook_endpoint",
            id=_new_id("webhook_endpoint"),
            api_version=params.get("api_version") or None,
            created=_now(),
            description=params.get("description") or None,
            enabled_events=[str(e) for e in enabled],
            metadata=_metadata_merge({}, params.get("metadata", {})),
            status="enabled",
            url=params["url"],
        )
        endpoint["_secret"] = secret
        endpoint["_connect"] = _as_bool(params.get("connect", "false"), "connect")
        self.state.collection(PLATFORM, "webhook_endpoint")[endpoint["id"]] = endpoint
        return {**endpoint, "secret": secret}

    def _h_webhook_endpoint_list(self, call: _Call) -> dict[str, Any]:
        items = [
            e for e in self._newest_first(PLATFORM, "webhook_endpoint") if not e.get("_deleted")
        ]
        return self._list_response(items, call.params, "/v1/webhook_endpoints")

    def _h_webhook_endpoint_retrieve(self, call: _Call, object_id: str) -> dict[str, Any]:
        return self._get(PLATFORM, "webhook_endpoint", object_id)

    def _h_webhook_endpoint_delete(self, call: _Call, object_id: str) -> dict[str, Any]:
        endpoint = self._get(PLATFORM, "webhook_endpoint", object_id)
        endpoint["_deleted"] = True
        return stripe_shape("deleted_webhook_endpoint", id=object_id)

    # ---- test controls --------------------------------------------------------------------

    def _h_test_event_redeliver(self, call: _Call, object_id: str) -> dict[str, Any]:
        event = self._get(call.namespace, "event", object_id)
        self.event_redeliver(namespace=call.namespace, event_id=object_id)
        return event

    def _h_test_webhooks_pause(self, call: _Call) -> dict[str, Any]:
        self.dispatcher.pause()
        return {"object": "webhook_delivery", "paused": True}

    def _h_test_webhooks_resume(self, call: _Call) -> dict[str, Any]:
        order = call.params.get("order", "forward")
        if order not in {"forward", "reverse"}:
            raise _invalid("Invalid order: must be one of forward or reverse", param="order")
        self.dispatcher.resume(order=order)
        return {"object": "webhook_delivery", "paused": False}

    def _h_test_webhooks_wait(self, call: _Call) -> dict[str, Any]:
        timeout = float(call.params.get("timeout", 5))
        # Deliveries take the state lock to finish; release it while waiting.
        released = 0
        while True:
            try:
                self.state.lock.release()
                released += 1
            except RuntimeError:
                break
        try:
            idle = self.dispatcher.wait_idle(timeout=timeout)
        finally:
            for _ in range(released):
                self.state.lock.acquire()
        return {"object": "webhook_delivery", "idle": idle}

    # ---- hosted pages ---------------------------------------------------------------------

    def _page(self, method: str, path: str, body: bytes) -> HttpReply | None:
        form = form_decode(body.decode("utf-8", errors="replace")) if method == "POST" else {}
        match = re.fullmatch(r"/pay/(cs_[A-Za-z0-9_]+)", path)
        if match:
            return self._page_checkout(method, match.group(1), form)
        match = re.fullmatch(r"/invoice/(in_[A-Za-z0-9]+)(/pdf)?", path)
        if match:
            if match.group(2):
                return self._page_invoice_pdf(match.group(1))
            return self._page_invoice(method, match.group(1), form)
        match = re.fullmatch(r"/connect/onboarding/([A-Za-z0-9]+)", path)
        if match:
            return self._page_onboarding(method, match.group(1))
        return None

    def _page_checkout(self, method: str, session_id: str, form: dict[str, Any]) -> HttpReply:
        error = None
        if method == "POST":
            try:
                redirect, error = self.checkout_pay(
                    session_id=session_id,
                    email=str(form.get("email", "")),
                    name=str(form.get("cardholder_name", "")),
                    card_number=str(form.get("card_number", "")),
                )
            except StripeApiError:
                return _html_reply(
                    404,
                    _page_html("Session introuvable", "<p>Session de paiement introuvable.</p>"),
                )
            if error is None:
                return HttpReply(303, b"", "text/plain", {"Location": redirect})
        with self.state.lock:
            found = self._find_session(session_id)
            if found is None:
                return _html_reply(
                    404,
                    _page_html("Session introuvable", "<p>Session de paiement introuvable.</p>"),
                )
            namespace, session = found
            if session["status"] == "complete" and method == "GET":
                return HttpReply(303, b"", "text/plain", {"Location": _success_url(session)})
            content = self._checkout_page_html(namespace, session, error, form)
        return _html_reply(402 if error else 200, content)

    def _checkout_page_html(
        self, namespace: str, session: dict[str, Any], error: str | None, form: dict[str, Any]
    ) -> str:
        if session["mode"] == "setup":
            return self._checkout_setup_page_html(namespace, session, error, form)
        rows = []
        period = ""
        for stored in session["_line_items"]:
            price = self._get(namespace, "price", stored["price"])
            product = self.state.collection(namespace, "product").get(price["product"], {})
            amount = format_amount_fr(price["unit_amount"], price["currency"])
            if price["recurring"]:
                period = f" par {INTERVALS_FR[price['recurring']['interval']]}"
            if stored["quantity"] is None:
                label = f"{amount} par unité consommée"
            else:
                label = f"{stored['quantity']} × {amount}{period}"
            rows.append(
                f"<tr><td>{html.escape(product.get('name', price['id']))}</td>"
                f"<td class='amount'>{html.escape(label)}</td></tr>"
            )
        total = format_amount_fr(session["amount_total"] or 0, session["currency"])
        email = str(form.get("email", "")) or session["customer_email"] or ""
        if session["customer"]:
            customer = self.state.collection(namespace, "customer").get(session["customer"], {})
            email = email or customer.get("email") or ""
        card = str(form.get("card_number", "4242 4242 4242 4242"))
        error_html = f"<p class='error' role='alert'>{html.escape(error)}</p>" if error else ""
        cancel = (
            f"<p><a href='{html.escape(session['cancel_url'])}'>← Retour</a></p>"
            if session["cancel_url"]
            else ""
        )
        if session["status"] != "open":
            return _page_html(
                "Paiement", "<p>Cette session de paiement n'est plus disponible.</p>" + cancel
            )
        body = f"""
<p class="test">Mode test — aucun paiement réel</p>
<h1>{html.escape(self._display_name(namespace))}</h1>
<table>{"".join(rows)}</table>
<p class="total">Total : {html.escape(total)}{html.escape(period)}</p>
{error_html}
<form method="post" action="/pay/{html.escape(session["id"])}">
  <label>Adresse e-mail
    <input type="email" name="email" value="{html.escape(email)}" autocomplete="email">
  </label>
  <label>Numéro de carte
    <input name="card_number" value="{html.escape(card)}" inputmode="numeric"
      autocomplete="cc-number" required>
  </label>
  <div class="row">
    <label>Expiration <input name="card_expiry" value="12 / 34" autocomplete="cc-exp"></label>
    <label>CVC <input name="card_cvc" value="123" autocomplete="cc-csc"></label>
  </div>
  <label>Titulaire de la carte
    <input name="cardholder_name" value="{html.escape(str(form.get("cardholder_name", "")))}"
      autocomplete="cc-name">
  </label>
  <button type="submit">Payer</button>
</form>
<p class="hint">Cartes de test : 4242 4242 4242 4242 (paiement accepté),
4000 0000 0000 0002 (carte refusée).</p>
{cancel}"""
        return _page_html("Paiement", body)

    def _checkout_setup_page_html(
        self, namespace: str, session: dict[str, Any], error: str | None, form: dict[str, Any]
    ) -> str:
        """Checkout in setup mode: a card to save, nothing charged now."""
        cancel = (
            f"<p><a href='{html.escape(session['cancel_url'])}'>← Retour</a></p>"
            if session["cancel_url"]
            else ""
        )
        if session["status"] != "open":
            return _page_html(
                "Carte bancaire", "<p>Cette session n'est plus disponible.</p>" + cancel
            )
        customer = self.state.collection(namespace, "customer").get(session["customer"] or "", {})
        card = str(form.get("card_number", "4242 4242 4242 4242"))
        holder = str(form.get("cardholder_name", "")) or customer.get("name") or ""
        error_html = f"<p class='error' role='alert'>{html.escape(error)}</p>" if error else ""
        body = f"""
<p class="test">Mode test — aucun paiement réel</p>
<h1>{html.escape(self._display_name(namespace))}</h1>
<p>Enregistrez une carte pour vos prochains paiements. Aucun montant n'est débité sur cette
page.</p>
{error_html}
<form method="post" action="/pay/{html.escape(session["id"])}">
  <label>Numéro de carte
    <input name="card_number" value="{html.escape(card)}" inputmode="numeric"
      autocomplete="cc-number" required>
  </label>
  <div class="row">
    <label>Expiration <input name="card_expiry" value="12 / 34" autocomplete="cc-exp"></label>
    <label>CVC <input name="card_cvc" value="123" autocomplete="cc-csc"></label>
  </div>
  <label>Titulaire de la carte
    <input name="cardholder_name" value="{html.escape(holder)}" autocomplete="cc-name">
  </label>
  <button type="submit">Enregistrer la carte</button>
</form>
<p class="hint">Cartes de test : 4242 4242 4242 4242 (acceptée),
4000 0000 0000 0002 (refusée), 4000 0000 0000 0341 (enregistrée, puis refusée au paiement).</p>
{cancel}"""
        return _page_html("Carte bancaire", body)

    def _page_invoice(self, method: str, invoice_id: str, form: dict[str, Any]) -> HttpReply:
        error = None
        if method == "POST":
            try:
                error = self.invoice_pay(
                    invoice_id=invoice_id, card_number=str(form.get("card_number", ""))
                )
            except StripeApiError:
                return _html_reply(
                    404, _page_html("Facture introuvable", "<p>Facture introuvable.</p>")
                )
        with self.state.lock:
            try:
                namespace, invoice = self._find_invoice(invoice_id)
            except StripeApiError:
                return _html_reply(
                    404, _page_html("Facture introuvable", "<p>Facture introuvable.</p>")
                )
            invoice = self.render(invoice, namespace=namespace)
            seller = self._display_name(namespace)
        rows = "".join(
            f"<tr><td>{html.escape(line['description'])}</td><td class='amount'>"
            f"{html.escape(format_amount_fr(line['amount'], line['currency']))}</td></tr>"
            for line in invoice["lines"]["data"]
        )
        status = INVOICE_STATUS_FR.get(invoice["status"], invoice["status"])
        error_html = f"<p class='error' role='alert'>{html.escape(error)}</p>" if error else ""
        pay_form = ""
        if invoice["status"] == "open":
            pay_form = f"""
<form method="post" action="/invoice/{html.escape(invoice_id)}">
  <label>Numéro de carte
    <input name="card_number" value="4242 4242 4242 4242" inputmode="numeric" required>
  </label>
  <button type="submit">Payer</button>
</form>"""
        body = f"""
<p class="test">Mode test — aucun paiement réel</p>
<h1>Facture {html.escape(invoice["number"] or invoice_id)}</h1>
<p>{html.escape(seller)} — émise le {_date_fr(invoice["created"])}</p>
<table>{rows}</table>
<p class="total">Total : {html.escape(format_amount_fr(invoice["total"], invoice["currency"]))}
</p>
<p>Statut : <strong>{html.escape(status)}</strong></p>
{error_html}{pay_form}
<p><a href="{html.escape(invoice["invoice_pdf"])}">Télécharger la facture (PDF)</a></p>"""
        return _html_reply(402 if error else 200, _page_html("Facture", body))

    def _page_invoice_pdf(self, invoice_id: str) -> HttpReply:
        with self.state.lock:
            try:
                namespace, invoice = self._find_invoice(invoice_id)
            except StripeApiError:
                return _html_reply(
                    404, _page_html("Facture introuvable", "<p>Facture introuvable.</p>")
                )
            lines = [
                f"Facture {invoice['number']}",
                f"{self._display_name(namespace)} - émise le {_date_fr(invoice['created'])}",
                f"Client : {invoice['customer_name'] or ''} {invoice['customer_email'] or ''}",
                "",
                *(
                    f"{line['description']} : {format_amount_fr(line['amount'], line['currency'])}"
                    for line in invoice["lines"]["data"]
                ),
                "",
                f"Total : {format_amount_fr(invoice['total'], invoice['currency'])}",
                f"Statut : {INVOICE_STATUS_FR.get(invoice['status'], invoice['status'])}",
                "Document de test - aucun paiement réel.",
            ]
        return HttpReply(
            200,
            pdf_document(lines=lines),
            "application/pdf",
            {"Content-Disposition": f'inline; filename="{invoice["number"]}.pdf"'},
        )

    def _page_onboarding(self, method: str, token: str) -> HttpReply:
        if method == "POST":
            try:
                return HttpReply(
                    303, b"", "text/plain", {"Location": self.account_onboard(token=token)}
                )
            except StripeApiError:
                return _html_reply(404, _page_html("Lien expiré", "<p>Lien introuvable.</p>"))
        with self.state.lock:
            link = self.state.collection(PLATFORM, "account_link").get(token)
            if link is None:
                return _html_reply(404, _page_html("Lien expiré", "<p>Lien introuvable.</p>"))
        body = f"""
<p class="test">Mode test</p>
<h1>Activer votre compte de paiement</h1>
<p>Compte {html.escape(link["account"])}. En mode test, aucune pièce n'est demandée.</p>
<form method="post" action="/connect/onboarding/{html.escape(token)}">
  <button type="submit">Continuer</button>
</form>"""
        return _html_reply(200, _page_html("Activation du compte", body))


def _aggregate(values: list[tuple[int, float]], meter: dict[str, Any]) -> int | float:
    formula = meter["default_aggregation"]["formula"]
    if formula == "count":
        return len(values)
    if formula == "last":
        result = max(values)[1] if values else 0.0
    else:
        result = sum(value for _, value in values)
    return int(result) if float(result).is_integer() else result


def _address(value: Any) -> dict[str, Any]:
    given = _as_dict(value, "address") if value else {}
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return {key: given.get(key) or None for key in keys}


def _success_url(session: dict[str, Any]) -> str:
    return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])


def _b64decode(text: str) -> str:
    import base64

    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(str(error)) from error


def _json_reply(
    status: int, payload: Mapping[str, Any], headers: dict[str, str] | None = None
) -> HttpReply:
    body = json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8")
    return HttpReply(status, body, "application/json", dict(headers or {}))


def _html_reply(status: int, content: str) -> HttpReply:
    return HttpReply(status, content.encode("utf-8"), "text/html; charset=utf-8")


def _page_html(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f8fa; color: #1a1f36; margin: 0; }}
main {{ max-width: 28rem; margin: 2rem auto; background: #fff; padding: 2rem;
  border-radius: .5rem; box-shadow: 0 1px 3px rgba(0,0,0,.1); }}
.test {{ background: #ffde92; color: #5c3b00; padding: .25rem .5rem; border-radius: .25rem;
  display: inline-block; font-size: .8rem; }}
table {{ width: 100%; border-collapse: collapse; margin: 1rem 0; }}
td {{ padding: .4rem 0; border-bottom: 1px solid #e3e8ee; }}
.amount {{ text-align: right; }}
.total {{ font-weight: 600; font-size: 1.1rem; }}
label {{ display: block; margin: .75rem 0; font-size: .9rem; }}
input {{ display: block; width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem;
  border: 1px solid #cfd7df; border-radius: .25rem; font-size: 1rem; }}
.row {{ display: flex; gap: 1rem; }}
.row label {{ flex: 1; }}
button {{ width: 100%; padding: .75rem; margin-top: 1rem; background: #0a2540; color: #fff;
  border: 0; border-radius: .25rem; font-size: 1rem; cursor: pointer; }}
.error {{ color: #b3093c; background: #fde8ec; padding: .5rem; border-radius: .25rem; }}
.hint {{ font-size: .8rem; color: #697386; }}
</style>
</head>
<body><main>{body}</main></body>
</html>
"""


def pdf_document(*, lines: Sequence[str]) -> bytes:
    """A one-page PDF 1.4 with the given lines in Helvetica (WinAnsi, so € and accents show).

    Hand-built so the server needs nothing beyond the standard library; offsets in the xref
    table are exact, so any PDF reader opens it.
    """

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    operations = ["BT", "/F1 11 Tf", "15 TL", "56 780 Td"]
    operations += [f"({escape(line)}) Tj T*" for line in lines]
    operations.append("ET")
    stream = "\n".join(operations).encode("cp1252", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    output = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref_at = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    output += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    output += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(output)


# --------------------------------------------------------------------------------------------
# HTTP server


class _HttpServer(ThreadingHTTPServer):
    """Tracks open connections so ``stop()`` also ends idle keep-alive ones: a restarted server
    on the same port must not have requests answered by the previous instance's threads."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: _Api) -> None:
        self.api = api
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def close_connections(self) -> None:
        with self.connections_lock:
            for connection in self.connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.connections.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stripe-local/1.0"
    timeout = 30
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        api = self.server.api
        try:
            reply = api.handle(method, parsed.path, parsed.query, body, self.headers)
        except Exception:
            logger.exception("Unhandled error on %s %s", method, self.path)
            reply = _json_reply(
                500,
                {
                    "error": {
                        "message": "Internal error in the local Stripe server.",
                        "type": "api_error",
                    }
                },
            )
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in (reply.headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        logger.debug("%s - " + format, self.address_string(), *args)


class StripeServer:
    """A local Stripe API: ``StripeServer(data_dir=...).start()``, then ``url`` and ``stop()``.

    Give the application ``base_addresses={"api": server.url}`` and the webhook secret; it then
    uses the official SDK against this server exactly as against Stripe.
    """

    def __init__(
        self,
        *,
        data_dir: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhook_endpoints: Sequence[WebhookTarget] = (),
        public_url: str | None = None,
        api_key: str | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        delivery_timeout: float = 5.0,
    ) -> None:
        targets = list(webhook_endpoints)
        if webhook_url:
            if not webhook_secret:
                raise ValueError("webhook_secret is required with webhook_url")
            targets.append(WebhookTarget(url=webhook_url, secret=webhook_secret))
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self._public_url = public_url.rstrip("/") if public_url else None
        self._api = _Api(
            state=_State(self.data_dir / STATE_FILE_NAME),
            cli_endpoints=targets,
            api_key=api_key,
            retry_delays=retry_delays,
            delivery_timeout=delivery_timeout,
        )
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("StripeServer is not started")
        return self._api.base_url

    def start(self) -> StripeServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        httpd = _HttpServer((self.host, self.port), self._api)
        bound_port = httpd.server_address[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._api.base_url = self._public_url or f"http://{host}:{bound_port}"
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="stripe-server",
            daemon=True,
        )
        self._thread.start()
        self._api.start_deliveries()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._api.dispatcher.stop()
        with self._api.state.lock:
            self._api.state.save()
        self._httpd = None

    def __enter__(self) -> StripeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Test controls, also reachable over HTTP under /_test/.

    def webhooks_wait(self, *, timeout: float = 5.0) -> bool:
        """Block until every queued webhook is delivered or given up; False on timeout."""
        return self._api.dispatcher.wait_idle(timeout=timeout)

    def webhooks_pause(self) -> None:
        self._api.dispatcher.pause()

    def webhooks_resume(self, *, order: str = "forward") -> None:
        self._api.dispatcher.resume(order=order)

    def event_redeliver(self, *, event_id: str, account: str | None = None) -> int:
        return self._api.event_redeliver(namespace=account or PLATFORM, event_id=event_id)

    @property
    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every delivery attempt so far: event id, endpoint key, attempt number, HTTP status."""
        return list(self._api.dispatcher.log)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m saas.embedded.stripe_server",
        description="Serveur local compatible avec l'API Stripe (mode test).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--data", required=True, help="répertoire de l'état JSON")
    parser.add_argument("--webhook-url", action="append", default=[])
    parser.add_argument(
        "--webhook-secret",
        action="append",
        default=[],
        help="un secret whsec_… par --webhook-url (ou un seul pour toutes)",
    )
    parser.add_argument("--public-url", help="URL publique des pages hébergées")
    parser.add_argument("--api-key", help="seule clé acceptée (sinon toute clé sk_test_…)")
    parser.add_argument(
        "--retry-delays", default="1,5,25", help="délais entre tentatives de webhook, en secondes"
    )
    args = parser.parse_args(argv)
    secrets_given = args.webhook_secret or []
    if args.webhook_url and not secrets_given:
        parser.error("--webhook-secret est requis avec --webhook-url")
    if len(secrets_given) not in {1, len(args.webhook_url)} and args.webhook_url:
        parser.error("donnez un --webhook-secret par --webhook-url, ou un seul")
    targets = [
        WebhookTarget(url=url, secret=secrets_given[index if len(secrets_given) > 1 else 0])
        for index, url in enumerate(args.webhook_url)
    ]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = StripeServer(
        data_dir=args.data,
        host=args.host,
        port=args.port,
        webhook_endpoints=targets,
        public_url=args.public_url,
        api_key=args.api_key,
        retry_delays=[float(d) for d in args.retry_delays.split(",") if d.strip()],
    ).start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    print(f"Serveur Stripe local : {server.url}", flush=True)  # noqa: T201
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
