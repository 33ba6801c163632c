"""What the demo seed needs from the stand-in: run it for the occasion, pay its Checkout pages.

Dev only, like the rest of the package: product code imports this module lazily, from the demo
seed alone, and says clearly when it is missing (the production image has no ``devtools/``).
"""

from __future__ import annotations

import contextlib
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from common.stripe import StripeUnavailable
from devtools.stripe_standin.server import StripeServer

logger = logging.getLogger(__name__)

# Stripe's test card that always pays.
DEMO_CARD = "4242 4242 4242 4242"


def stripe_is_local() -> bool:
    """True when the configured API base is the local stand-in on a loopback address."""
    host = urllib.parse.urlsplit(settings.STRIPE_API_BASE or "").hostname or ""
    return host in {"127.0.0.1", "localhost", "::1"}


def stand_in_answers(base: str) -> bool:
    """True when a stand-in answers its health check at ``base``."""
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
    if not base or not stripe_is_local() or stand_in_answers(base):
        yield
        return
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


def demo_checkout_pay(*, url: str, email: str) -> None:
    """Pay a Checkout session on the stand-in's hosted page with the test card, as a browser
    would. Does nothing against real Stripe (``url`` then points at checkout.stripe.com)."""
    if not stripe_is_local() or not url:
        return
    session = requests.Session()
    session.trust_env = False  # never through a proxy: the stand-in is on loopback
    response = session.post(
        url,
        data={"email": email, "cardholder_name": "Démo", "card_number": DEMO_CARD},
        allow_redirects=False,
        timeout=10,
    )
    if response.status_code != 303:
        raise StripeUnavailable(_("Le paiement de démonstration a échoué."))
