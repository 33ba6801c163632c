"""Actors of the monitoring guarantee. Thin: they call ``cleanup.services``.

The actors import ``cleanup.services.scans`` inside their body (the task ↔ service pair of
STYLE.md): that service module imports ``scan_run_task`` at the top to enqueue it.

The periodic job runs in the public schema (dramatiq-crontab) and fans out one message per
ready insurer; the tenant middleware runs each in its insurer's schema, where only the profiles
due under their plan's frequency get a scan.
"""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.middleware import CurrentMessage
from dramatiq_crontab import cron

from cleanup.services.removals import removal_requests_overdue_flag
from common.tasks import tenants_fan_out
from outbox.services import outbox_done, outbox_heartbeat, outbox_lease_take

logger = logging.getLogger(__name__)

QUEUE = "cleanup"


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=30 * 60 * 1000)
def scan_run_task(scan_id: int) -> None:
    """Run one scan. No retry: a scan records its own failures page by page, and a rerun of
    a finished scan does nothing.

    Sent through the outbox: a second delivery while a live worker runs the scan is dropped; a
    re-delivery after that worker died runs it again. Whatever the outcome, the outbox row is
    acknowledged (the scan row carries the result, failed ones with their reason).
    """
    from cleanup.services.scans import scan_outbox_key, scan_run  # lazy: task ↔ service

    key = scan_outbox_key(scan_id=scan_id)
    message = CurrentMessage.get_current_message()
    message_id = message.message_id if message is not None else ""
    if not outbox_lease_take(key=key, message_id=message_id):
        logger.info("Scan %s is running in another live worker: delivery dropped", scan_id)
        return
    try:
        with outbox_heartbeat(key=key, message_id=message_id):
            scan_run(scan_id=scan_id)
    finally:
        outbox_done(key=key)


@dramatiq.actor(queue_name=QUEUE, max_retries=3)
def scans_due_task() -> None:
    """In one insurer's schema: queue the scans that are due and flag overdue requests."""
    from cleanup.services.scans import scans_due_request  # lazy: task ↔ service

    scans_due_request()
    removal_requests_overdue_flag()


@cron("7 * * * *")
@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def scans_due_all_tenants_task() -> None:
    """Hourly: each insurer's due profiles (daily, weekly or monthly per plan)."""
    tenants_fan_out(actor=scans_due_task)
