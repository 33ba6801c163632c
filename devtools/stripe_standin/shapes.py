"""Object shapes: Stripe's OpenAPI fixtures (``stripe_fixtures.json``, MIT, ``STRIPE_LICENSE``)
with their placeholder filler reset, plus the few objects the fixtures lack."""

from __future__ import annotations

import copy
import json
from typing import Any

from devtools.stripe_standin.constants import FIXTURES_PATH, URL_MARKER

FIXTURES_CACHE: dict[str, dict[str, Any]] = {}


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
    if not FIXTURES_CACHE:
        FIXTURES_CACHE.update(json.loads(FIXTURES_PATH.read_text("utf-8"))["resources"])
    return FIXTURES_CACHE


def stripe_shape(kind: str, **fields: Any) -> dict[str, Any]:
    """A new object of ``kind`` with exactly the fixture's fields, filler reset, ``fields`` set."""
    base = _fixtures().get(kind) or LOCAL_SHAPES[kind]
    shaped = copy.deepcopy(base)
    shaped.update(copy.deepcopy(NEUTRAL.get(kind, {})))
    shaped.update(fields)
    if "livemode" in shaped:
        shaped["livemode"] = False
    return shaped


def plan_from_price(price: dict[str, Any]) -> dict[str, Any]:
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


def strip_private(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_private(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [strip_private(item) for item in value]
    return value


def with_base_url(value: Any, base_url: str) -> Any:
    if isinstance(value, str) and value.startswith(URL_MARKER):
        return base_url + value[len(URL_MARKER) :]
    if isinstance(value, dict):
        return {k: with_base_url(v, base_url) for k, v in value.items()}
    if isinstance(value, list):
        return [with_base_url(item, base_url) for item in value]
    return value
