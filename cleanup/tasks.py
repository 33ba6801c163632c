"""Actors of the monitoring guarantee. Thin: they call ``cleanup.services``.

The periodic job runs in the public schema (dramatiq-crontab) and fans out one message per
ready insurer; the tenant middleware runs each in its insurer's schema, where only the profiles
due under their plan's frequency get a scan.
"""

from __future__ import annotations

import dramatiq
from dramatiq_crontab import cron

from tenants.services import tenants_fan_out

QUEUE = "cleanup"


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=30 * 60 * 1000)
def scan_run_task(scan_id: int) -> None:
    """Run one scan. No retry: a scan records its own failures page by page, and a rerun of
    a finished scan does nothing."""
    from cleanup.services import scan_run

    scan_run(scan_id=scan_id)


@dramatiq.actor(queue_name=QUEUE, max_retries=3)
def scans_due_task() -> None:
    """In one insurer's schema: queue the scans that are due and flag overdue requests."""
    from cleanup.services import removal_requests_overdue_flag, scans_due_request

    scans_due_request()
    removal_requests_overdue_flag()


@cron("7 * * * *")
@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def scans_due_all_tenants() -> None:
    """Hourly: each insurer's due profiles (daily, weekly or monthly per plan)."""
    tenants_fan_out(actor=scans_due_task)
