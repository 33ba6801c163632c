"""The one way the application talks to Stripe: ``stripe_client()`` for the platform account.

Why one place: every call gets the same explicit timeouts and retry policy, and the API base
address comes from settings. In development, the demo and the tests ``STRIPE_API_BASE`` points
at the local stand-in (``saas.embedded.stripe_server``); with real test keys and no base the
very same code talks to Stripe. Calls on an insurer's connected account pass
``options={"stripe_account": insurer.stripe_account_id}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import stripe
from django.conf import settings

logger = logging.getLogger(__name__)


class StripeUnavailable(Exception):
    """Stripe could not be reached or refused the call; the message is French, safe to show."""


# How far a webhook's signed timestamp may be from our clock, either way (Stripe's default).
WEBHOOK_TOLERANCE_S = 300


def stripe_webhook_verify(
    *, payload: bytes, signature: str | None, secret: str, tolerance_s: int = WEBHOOK_TOLERANCE_S
) -> dict[str, Any]:
    """The event of a webhook delivery, once its signature is checked on the raw body.

    Refuses (``stripe.SignatureVerificationError`` or ``ValueError``) a bad or missing
    signature, a timestamp more than ``tolerance_s`` in the past *or in the future* (the Stripe
    library only checks the past), and a body that is not a JSON object.
    """
    stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance_s)
    stamps = [
        part.split("=", 1)[1] for part in (signature or "").split(",") if part.startswith("t=")
    ]
    if len(stamps) != 1 or not stamps[0].isdigit():
        raise ValueError("webhook timestamp missing or repeated")
    if int(stamps[0]) > time.time() + tolerance_s:
        raise stripe.SignatureVerificationError(
            f"Timestamp in the future ({stamps[0]})", signature, payload.decode("utf-8", "replace")
        )
    data = json.loads(payload)
    if not isinstance(data, dict):
        raise ValueError(f"webhook body is a JSON {type(data).__name__}, not an object")
    return data


def stripe_client() -> stripe.StripeClient:
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
) -> stripe.StripeClient:
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=(connect_timeout, read_timeout)),
    )


def stripe_is_local() -> bool:
    """True when the configured API base is the local stand-in on a loopback address."""
    host = urllib.parse.urlsplit(settings.STRIPE_API_BASE or "").hostname or ""
    return host in {"127.0.0.1", "localhost", "::1"}


def _answers(base: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{base.rstrip('/')}/_health", timeout=1) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def stripe_local_running() -> Iterator[None]:
    """Make sure the local Stripe stand-in answers while the block runs.

    Why: ``./egide run`` seeds the demo before the Procfile starts the stand-in. When the
    configured base is local and nothing answers, the stand-in is started in this process on the
    same port and data directory, then stopped; webhooks it could not deliver stay in its outbox
    and are delivered by the Procfile's server once the web process is up. Against real Stripe
    (or when the server already runs) this does nothing.
    """
    base = settings.STRIPE_API_BASE
    if not base or not stripe_is_local() or _answers(base):
        yield
        return
    from saas.embedded.stripe_server import StripeServer

    parts = urllib.parse.urlsplit(base)
    webhook_url = settings.STRIPE_LOCAL_WEBHOOK_URL
    server = StripeServer(
        data_dir=Path(settings.STRIPE_LOCAL_DATA_DIR),
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 12111,
        webhook_url=webhook_url or None,
        webhook_secret=settings.STRIPE_WEBHOOK_SECRET if webhook_url else None,
    )
    try:
        server.start()
    except OSError as exc:
        logger.warning("Local Stripe server could not start on %s: %s", base, exc)
        yield
        return
    try:
        yield
    finally:
        server.stop()
