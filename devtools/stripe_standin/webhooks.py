"""Webhooks: ``Stripe-Signature`` as Stripe computes it, and delivery in creation order with
retries, one thread per endpoint."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from devtools.stripe_standin.common import timestamp_now

logger = logging.getLogger(__name__)


def webhook_signature(*, payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value: HMAC-SHA256 of ``"{t}.{payload}"``, keyed with the
    endpoint secret as Stripe does, so ``stripe.Webhook.construct_event`` accepts it."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret: str


class WebhookDispatcher:
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
                    payload=payload, secret=target.secret, timestamp=timestamp_now()
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
