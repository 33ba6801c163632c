"""Capture actors, on their own "evidence" queue and worker processes.

The evidence worker runs with ``--threads 2`` (Procfile line "evidence"). Its worker threads
keep the database; browser work goes to one ``BrowserThread`` shared by the process's worker
threads (``evidence.browser.SharedBrowser``), whose Chromium is launched on the first capture
and reused for the next ones; each capture still opens a fresh browser context (no cache,
cookies or history). Browser work is serialized in that thread, so one worker thread's
post-processing (WACZ, report, bag, seal, timestamp) overlaps the other's capture, with one
Chromium's memory. The browser thread is closed when the last worker thread shuts down.

Retries: a failed attempt raises and Dramatiq retries it with backoff (``max_retries=3``); when
retries are exhausted ``capture_execute_exhausted_task`` marks the capture failed with the last
reason. A worker killed mid-capture never acknowledges its message: the Redis broker re-queues
it once the worker's heartbeat is older than ``DRAMATIQ_HEARTBEAT_TIMEOUT_MS`` (RabbitMQ does
so when the connection drops), and ``capture_execute`` counts that re-delivery as an attempt,
bounded by ``EGIDE_CAPTURE_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import logging

import dramatiq
from django.conf import settings
from django.utils.translation import gettext as _
from django_tenants.utils import get_tenant_model, tenant_context
from dramatiq.middleware import CurrentMessage
from dramatiq_crontab import cron

from common.tasks import SCHEMA_OPTION, tenants_fan_out
from evidence.browser import BrowserThread, SharedBrowser
from evidence.models import Capture
from evidence.renewal import captures_renew
from evidence.selectors import capture_outbox_key
from evidence.services.execution import attempts_exhausted_reason, capture_execute, capture_fail
from outbox.services import outbox_done, outbox_heartbeat, outbox_lease_take

logger = logging.getLogger(__name__)

QUEUE = "evidence"

_shared = SharedBrowser(name="evidence-browser", concurrency=settings.EGIDE_CAPTURE_CONCURRENCY)


def worker_browser() -> BrowserThread:
    """The process's browser thread, shared by its worker threads (Chromium launched on use)."""
    return _shared.take()


def worker_browser_close() -> None:
    """This worker thread is done with the browser; the last one out closes it."""
    _shared.release()


class WorkerBrowserMiddleware(dramatiq.Middleware):
    """Release the shared browser when a worker thread stops (the last one closes it)."""

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
    on_retry_exhausted="capture_execute_exhausted_task",
)
def capture_execute_task(capture_id: int) -> None:
    """One delivery of a capture, under the outbox lease of its capture.

    A second delivery of a capture another live worker is running (a re-send) is dropped: the
    capture is captured once. A re-delivery of the same message after its worker died takes
    over. A finished capture (complete or failed) acknowledges its outbox row.
    """
    key = capture_outbox_key(capture_id=capture_id)
    if not Capture.objects.filter(pk=capture_id).exists():
        logger.warning("Capture %s no longer exists: delivery acknowledged", capture_id)
        outbox_done(key=key)
        return
    message = CurrentMessage.get_current_message()
    message_id = message.message_id if message is not None else ""
    if not outbox_lease_take(key=key, message_id=message_id):
        logger.info("Capture %s is running in another live worker: delivery dropped", capture_id)
        return
    with outbox_heartbeat(key=key, message_id=message_id):
        capture = capture_execute(capture_id=capture_id, browser=worker_browser())
    if capture.is_finished:
        outbox_done(key=key)


@dramatiq.actor(queue_name=QUEUE, max_retries=3)
def capture_execute_exhausted_task(message_data: dict, retry_info: dict) -> None:
    """Retries used up: the capture is failed with the reason of its last attempt.

    The schema is read from the failed message itself, so it does not depend on which schema
    the worker connection was in when Dramatiq sent this message.
    """
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
        # The row holds the French reason of the last attempt; the traceback stays in the logs.
        last = capture.error or _("erreur inconnue (voir le journal du processus de capture)")
        reason = attempts_exhausted_reason(attempts=capture.attempts, last_error=last)
        capture_fail(capture_id=capture_id, reason=reason)
        outbox_done(key=capture_outbox_key(capture_id=capture_id))


# --- Timestamp renewal (evidence.renewal) ----------------------------------------------------


@dramatiq.actor(max_retries=3, min_backoff=60_000, time_limit=60 * 60 * 1000)
def evidence_renew_due_task() -> None:
    """Renew, in the current insurer's schema, every bundle whose timestamp renewal is due.

    Idempotent: a renewed bundle is no longer due. A capture whose renewal failed (TSA down)
    has nothing recorded; raising makes Dramatiq retry, and next week's run retries anyway.
    """
    outcomes = captures_renew()
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        raise RuntimeError(
            "evidence renewal failed for captures "
            + ", ".join(f"{o.capture_id} ({o.detail})" for o in failed)
        )


@cron("41 4 * * Mon")
@dramatiq.actor(max_retries=0)
def evidence_renew_all_tenants_task() -> None:
    """Weekly: one renewal message per ready insurer."""
    tenants_fan_out(actor=evidence_renew_due_task)
