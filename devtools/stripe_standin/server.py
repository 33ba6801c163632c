"""The HTTP server: the dispatch table ((method, path pattern) -> handler), the request handler
and ``StripeServer``, which tests and ``python -m devtools.stripe_standin`` start."""

from __future__ import annotations

import logging
import re
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from devtools.stripe_standin import pages
from devtools.stripe_standin.api import Api, Handler, Route
from devtools.stripe_standin.common import HttpReply, StripeApiError, json_reply
from devtools.stripe_standin.constants import (
    ACCOUNT_PARAMS,
    CHECKOUT_PARAMS,
    CUSTOMER_PARAMS,
    DEFAULT_RETRY_DELAYS,
    INVOICE_PAY_PARAMS,
    LIST_PARAMS,
    METER_PARAMS,
    PLATFORM,
    PRICE_PARAMS,
    PRICE_UPDATE_PARAMS,
    PRODUCT_PARAMS,
    STATE_FILE_NAME,
    SUBSCRIPTION_UPDATE_PARAMS,
    WEBHOOK_ENDPOINT_PARAMS,
)
from devtools.stripe_standin.pages import html_reply, page_html
from devtools.stripe_standin.resources import (
    accounts,
    checkout,
    customers,
    events,
    invoices,
    meters,
    payment_methods,
    products,
    subscriptions,
)
from devtools.stripe_standin.state import State
from devtools.stripe_standin.webhooks import WebhookTarget

logger = logging.getLogger(__name__)


def _route(method: str, pattern: str, handler: Handler, allowed: Iterable[str] | None) -> Route:
    """``{id}`` in ``pattern`` becomes the handler's ``object_id`` argument."""
    compiled = re.compile(pattern.replace("{id}", r"(?P<object_id>[^/]+)") + "$")
    return Route(method, compiled, handler, None if allowed is None else frozenset(allowed))


# The dispatch table: (method, path pattern) -> handler, with the parameters it accepts.
ROUTES: tuple[Route, ...] = (
    _route("POST", "/v1/customers", customers.customer_create, CUSTOMER_PARAMS),
    _route("GET", "/v1/customers", customers.customer_list, LIST_PARAMS | {"email"}),
    _route("GET", "/v1/customers/{id}", customers.customer_retrieve, {"expand"}),
    _route("POST", "/v1/customers/{id}", customers.customer_update, CUSTOMER_PARAMS),
    _route("DELETE", "/v1/customers/{id}", customers.customer_delete, set()),
    _route("POST", "/v1/products", products.product_create, PRODUCT_PARAMS),
    _route("GET", "/v1/products", products.product_list, LIST_PARAMS | {"active", "ids"}),
    _route("GET", "/v1/products/{id}", products.product_retrieve, {"expand"}),
    _route("POST", "/v1/products/{id}", products.product_update, PRODUCT_PARAMS - {"id"}),
    _route("POST", "/v1/prices", products.price_create, PRICE_PARAMS),
    _route(
        "GET",
        "/v1/prices",
        products.price_list,
        LIST_PARAMS | {"active", "product", "lookup_keys", "type", "currency", "recurring"},
    ),
    _route("GET", "/v1/prices/{id}", products.price_retrieve, {"expand"}),
    _route("POST", "/v1/prices/{id}", products.price_update, PRICE_UPDATE_PARAMS),
    _route("POST", "/v1/checkout/sessions", checkout.checkout_session_create, CHECKOUT_PARAMS),
    _route(
        "GET",
        "/v1/checkout/sessions",
        checkout.checkout_session_list,
        LIST_PARAMS | {"customer", "subscription", "payment_intent", "status"},
    ),
    _route("GET", "/v1/checkout/sessions/{id}", checkout.checkout_session_retrieve, {"expand"}),
    _route(
        "GET",
        "/v1/checkout/sessions/{id}/line_items",
        checkout.checkout_session_line_items,
        LIST_PARAMS,
    ),
    _route(
        "POST", "/v1/checkout/sessions/{id}/expire", checkout.checkout_session_expire, {"expand"}
    ),
    _route(
        "GET",
        "/v1/subscriptions",
        subscriptions.subscription_list,
        LIST_PARAMS | {"customer", "status", "price"},
    ),
    _route("GET", "/v1/subscriptions/{id}", subscriptions.subscription_retrieve, {"expand"}),
    _route(
        "POST",
        "/v1/subscriptions/{id}",
        subscriptions.subscription_update,
        SUBSCRIPTION_UPDATE_PARAMS,
    ),
    _route(
        "DELETE",
        "/v1/subscriptions/{id}",
        subscriptions.subscription_cancel,
        {"invoice_now", "prorate", "cancellation_details", "expand"},
    ),
    _route(
        "GET",
        "/v1/invoices",
        invoices.invoice_list,
        LIST_PARAMS | {"customer", "subscription", "status", "collection_method"},
    ),
    _route("GET", "/v1/invoices/{id}", invoices.invoice_retrieve, {"expand"}),
    _route("POST", "/v1/invoices/{id}/pay", invoices.invoice_pay, INVOICE_PAY_PARAMS),
    _route("GET", "/v1/setup_intents/{id}", payment_methods.setup_intent_retrieve, {"expand"}),
    _route("GET", "/v1/payment_methods/{id}", payment_methods.payment_method_retrieve, {"expand"}),
    _route("POST", "/v1/billing/meters", meters.meter_create, METER_PARAMS),
    _route("GET", "/v1/billing/meters", meters.meter_list, LIST_PARAMS | {"status"}),
    _route("GET", "/v1/billing/meters/{id}", meters.meter_retrieve, {"expand"}),
    _route(
        "GET",
        "/v1/billing/meters/{id}/event_summaries",
        meters.meter_event_summary_list,
        LIST_PARAMS | {"customer", "start_time", "end_time", "value_grouping_window"},
    ),
    _route(
        "POST",
        "/v1/billing/meter_events",
        meters.meter_event_create,
        {"event_name", "payload", "identifier", "timestamp", "expand"},
    ),
    _route("POST", "/v1/accounts", accounts.account_create, ACCOUNT_PARAMS),
    _route("GET", "/v1/accounts", accounts.account_list, LIST_PARAMS),
    _route("GET", "/v1/accounts/{id}", accounts.account_retrieve, {"expand"}),
    _route("POST", "/v1/accounts/{id}", accounts.account_update, ACCOUNT_PARAMS - {"type"}),
    _route("GET", "/v1/account", accounts.account_current, {"expand"}),
    _route(
        "POST",
        "/v1/account_links",
        accounts.account_link_create,
        {"account", "refresh_url", "return_url", "type", "collect", "collection_options", "expand"},
    ),
    _route("GET", "/v1/events", events.event_list, LIST_PARAMS | {"type", "types"}),
    _route("GET", "/v1/events/{id}", events.event_retrieve, {"expand"}),
    _route(
        "POST", "/v1/webhook_endpoints", events.webhook_endpoint_create, WEBHOOK_ENDPOINT_PARAMS
    ),
    _route("GET", "/v1/webhook_endpoints", events.webhook_endpoint_list, LIST_PARAMS),
    _route("GET", "/v1/webhook_endpoints/{id}", events.webhook_endpoint_retrieve, {"expand"}),
    _route("DELETE", "/v1/webhook_endpoints/{id}", events.webhook_endpoint_delete, set()),
    _route(
        "POST",
        "/_test/subscriptions/{id}/advance",
        subscriptions.control_subscription_advance,
        {"fail"},
    ),
    _route("POST", "/_test/events/{id}/redeliver", events.control_event_redeliver, set()),
    _route("POST", "/_test/webhooks/pause", events.control_webhooks_pause, set()),
    _route("POST", "/_test/webhooks/resume", events.control_webhooks_resume, {"order"}),
    _route("POST", "/_test/webhooks/wait", events.control_webhooks_wait, {"timeout"}),
)


class HttpServer(ThreadingHTTPServer):
    """Tracks open connections so ``stop()`` also ends idle keep-alive ones: a restarted server
    on the same port must not have requests answered by the previous instance's threads."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: Api) -> None:
        self.api = api
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, RequestHandler)

    def close_connections(self) -> None:
        with self.connections_lock:
            for connection in self.connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.connections.clear()


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stripe-local/1.0"
    timeout = 30
    server: HttpServer

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
            reply = handle(api, method, parsed.path, parsed.query, body, self.headers)
        except Exception:
            logger.exception("Unhandled error on %s %s", method, self.path)
            reply = json_reply(
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
        self._api = Api(
            state=State(self.data_dir / STATE_FILE_NAME),
            cli_endpoints=targets,
            api_key=api_key,
            retry_delays=retry_delays,
            delivery_timeout=delivery_timeout,
            routes=ROUTES,
        )
        self._httpd: HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("StripeServer is not started")
        return self._api.base_url

    def start(self) -> StripeServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        httpd = HttpServer((self.host, self.port), self._api)
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


def handle(
    api: Api, method: str, path: str, query: str, body: bytes, headers: Message
) -> HttpReply:
    try:
        if path == "/_health":
            return json_reply(200, {"status": "ok"})
        page = pages.page(api, method, path, body)
        if page is not None:
            return page
        if path.startswith(("/v1/", "/_test/")):
            return api.api_call(method, path, query, body, headers)
        return html_reply(404, page_html("Page introuvable", "<p>Page introuvable.</p>"))
    except StripeApiError as error:
        return json_reply(error.status, error.body())
