"""``python -m devtools.stripe_standin --port … --data … --webhook-url … --webhook-secret …``"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from devtools.stripe_standin.server import StripeServer
from devtools.stripe_standin.webhooks import WebhookTarget


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.stripe_standin",
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
