"""Payment methods and SetupIntents: saved test cards attached to a customer."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from devtools.stripe_standin.common import Call, invalid, new_id, no_such, timestamp_now
from devtools.stripe_standin.constants import CARD_BRANDS
from devtools.stripe_standin.shapes import stripe_shape

if TYPE_CHECKING:
    from devtools.stripe_standin.api import Api


def payment_method_new(
    api: Api,
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
        id=new_id("payment_method"),
        created=timestamp_now(),
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
    api.state.collection(namespace, "payment_method")[method["id"]] = method
    return method


def customer_payment_method(
    api: Api, namespace: str, customer_id: str, method_id: str, *, param: str
) -> dict[str, Any]:
    """A payment method attached to that customer, or Stripe's refusal."""
    method = api.state.collection(namespace, "payment_method").get(method_id)
    if method is None:
        raise no_such("payment_method", method_id, param=param)
    if method["customer"] != customer_id:
        raise invalid(
            f"The customer does not have a payment method with the ID {method_id}. The "
            "payment method must be attached to the customer.",
            param=param,
        )
    return method


def setup_intent_retrieve(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    return api.get(call.namespace, "setup_intent", object_id)


def payment_method_retrieve(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    return api.get(call.namespace, "payment_method", object_id)
