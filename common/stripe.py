"""The one way the application talks to Stripe: ``stripe_client()`` for the platform account.

Why one place: every call gets the same explicit timeouts and retry policy, and the API base
address comes from settings. In development, the demo and the tests ``STRIPE_API_BASE`` points
at the local stand-in; with real test keys and no base the very same code talks to Stripe.
The apps take Stripe's client type, its errors and the webhook check from here
(``from common import stripe``), never from the ``stripe`` package itself. Calls on an insurer's connected account pass
``options={"stripe_account": insurer.stripe_account_id}``.
"""

from __future__ import annotations

import json
import time
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings
from stripe import (
    AuthenticationError,
    CardError,
    InvalidRequestError,
    Invoice,
    PaymentMethod,
    SetupIntent,
    SignatureVerificationError,
    StripeClient,
    StripeError,
)

__all__ = [
    "WEBHOOK_TOLERANCE_S",
    "AuthenticationError",
    "CardError",
    "InvalidRequestError",
    "Invoice",
    "PaymentMethod",
    "SetupIntent",
    "SignatureVerificationError",
    "StripeClient",
    "StripeError",
    "StripeUnavailable",
    "stripe_client",
    "stripe_webhook_verify",
]


class StripeUnavailable(Exception):
    """Stripe could not be reached or refused the call; the message is French, safe to show."""


# How far a webhook's signed timestamp may be from our clock, either way (Stripe's default).
WEBHOOK_TOLERANCE_S = 300


def stripe_webhook_verify(
    *, payload: bytes, signature: str | None, secret: str, tolerance_s: int = WEBHOOK_TOLERANCE_S
) -> dict[str, Any]:
    """The event of a webhook delivery, once its signature is checked on the raw body.

    Refuses (``SignatureVerificationError`` or ``ValueError``) a bad or missing signature, a
    timestamp more than ``tolerance_s`` in the past *or in the future* (the Stripe library only
    checks the past), and a body that is not a JSON object.
    """
    stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance_s)
    stamps = [
        part.split("=", 1)[1] for part in (signature or "").split(",") if part.startswith("t=")
    ]
    if len(stamps) != 1 or not stamps[0].isdigit():
        raise ValueError("webhook timestamp missing or repeated")
    if int(stamps[0]) > time.time() + tolerance_s:
        raise SignatureVerificationError(
            f"Timestamp in the future ({stamps[0]})", signature, payload.decode("utf-8", "replace")
        )
    data = json.loads(payload)
    if not isinstance(data, dict):
        raise ValueError(f"webhook body is a JSON {type(data).__name__}, not an object")
    return data


def stripe_client() -> StripeClient:
    """A client for the platform account, configured from settings (cached per configuration)."""
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        int(settings.STRIPE_MAX_NETWORK_RETRIES),
        float(settings.STRIPE_CONNECT_TIMEOUT),
        float(settings.STRIPE_READ_TIMEOUT),
    )


@lru_cache(maxsize=8)
def _client(
    secret_key: str, api_base: str, retries: int, connect_timeout: float, read_timeout: float
) -> StripeClient:
    return StripeClient(
        secret_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=(connect_timeout, read_timeout)),
    )
