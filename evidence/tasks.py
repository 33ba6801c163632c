"""Capture actors, on their own "evidence" queue and worker processes.

Playwright's sync API is not thread-safe, so the evidence worker runs with ``--threads 1``
(Procfile line "evidence"). A worker thread owns one Chromium, launched lazily on its first
capture and reused for the next ones; each capture still opens a fresh browser context (no
cache, cookies or history). The browser is closed when the worker thread shuts down.

Retries: a failed attempt raises and Dramatiq retries it with backoff (``max_retries=3``); when
retries are exhausted ``capture_execute_exhausted`` marks the capture failed with the last
reason. A worker killed mid-capture never acknowledges its message: the Redis broker re-queues
it once the worker's heartbeat is older than ``DRAMATIQ_HEARTBEAT_TIMEOUT_MS`` (RabbitMQ does
so when the connection drops), and ``capture_execute`` counts that re-delivery as an attempt,
bounded by ``EGIDE_CAPTURE_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import contextlib
import logging
import threading

import dramatiq
from django.conf import settings
from django.utils.translation import gettext as _
from django_tenants.utils import get_tenant_model, tenant_context

from evidence import services
from evidence.models import Capture

logger = logging.getLogger(__name__)

QUEUE = "evidence"

_local = threading.local()


def worker_browser():
    """This thread's Chromium, launched on first use and relaunched if it died."""
    from playwright.sync_api import sync_playwright

    from evidence.capture import CHROMIUM_ARGS

    browser = getattr(_local, "browser", None)
    if browser is not None and browser.is_connected():
        return browser
    worker_browser_close()
    with services.tenant_kept():
        _local.playwright = sync_playwright().start()
    _local.browser = _local.playwright.chromium.launch(
        executable_path=settings.CHROMIUM_PATH, args=list(CHROMIUM_ARGS), timeout=30_000
    )
    return _local.browser


def worker_browser_close() -> None:
    """Close this thread's browser and Playwright driver, if any."""
    browser = getattr(_local, "browser", None)
    playwright = getattr(_local, "playwright", None)
    _local.browser = _local.playwright = None
    if browser is not None:
        with contextlib.suppress(Exception):
            browser.close()
    if playwright is not None:
        with contextlib.suppress(Exception):
            playwright.stop()


class WorkerBrowserMiddleware(dramatiq.Middleware):
    """Close a worker thread's browser when the thread stops (it is the thread that owns it)."""

    def before_worker_thread_shutdown(self, broker, thread):
        worker_browser_close()


_broker = dramatiq.get_broker()
if not any(isinstance(m, WorkerBrowserMiddleware) for m in _broker.middleware):
    _broker.add_middleware(WorkerBrowserMiddleware())


@dramatiq.actor(
    queue_name=QUEUE,
    max_retries=3,
    min_backoff=settings.EGIDE_CAPTURE_MIN_BACKOFF_MS,
    max_backoff=settings.EGIDE_CAPTURE_MAX_BACKOFF_MS,
    time_limit=15 * 60 * 1000,
    on_retry_exhausted="capture_execute_exhausted",
)
def capture_execute_task(capture_id: int) -> None:
    services.capture_execute(capture_id=capture_id, browser=worker_browser())


@dramatiq.actor(queue_name=QUEUE, max_retries=3)
def capture_execute_exhausted(message_data: dict, retry_info: dict) -> None:
    """Retries used up: the capture is failed with the reason of its last attempt.

    The schema is read from the failed message itself, so it does not depend on which schema
    the worker connection was in when Dramatiq sent this message.
    """
    from tenants.task_middleware import SCHEMA_OPTION

    schema = message_data.get("options", {}).get(SCHEMA_OPTION)
    capture_id = message_data.get("kwargs", {}).get("capture_id")
    insurer = get_tenant_model().objects.filter(schema_name=schema).first()
    if insurer is None or capture_id is None:
        logger.error("Exhausted capture message without tenant or id: %s", message_data)
        return
    with tenant_context(insurer):
        capture = Capture.objects.filter(pk=capture_id).first()
        if capture is None:
            return
        last = capture.error or str(message_data.get("options", {}).get("traceback", ""))[-500:]
        reason = _("%(error)s (abandon après %(n)s nouvelles tentatives)") % {
            "error": last,
            "n": retry_info.get("retries", "?"),
        }
        services.capture_fail(capture_id=capture_id, reason=reason)
