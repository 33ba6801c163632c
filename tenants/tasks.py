"""Actors for platform-wide work. Thin: they call services.

Periodic jobs are scheduled by dramatiq-crontab (``manage.py crontab``). They run in the public
schema and fan out one message per ready insurer; the tenant middleware then runs each message
in its insurer's schema.
"""

from __future__ import annotations

import dramatiq
from django.contrib.sessions.models import Session
from django.utils import timezone
from dramatiq_crontab import cron

from common.tasks import tenants_fan_out
from tenants.billing import stripe_accounts_provision_missing, usage_report_pending
from tenants.db import connection
from tenants.models import Insurer


@dramatiq.actor(max_retries=3)
def sessions_purge_task() -> None:
    """Delete expired sessions of the current schema (each insurer keeps its own sessions)."""
    Session.objects.filter(expire_date__lt=timezone.now()).delete()


@cron("17 3 * * *")
@dramatiq.actor(max_retries=0)
def sessions_purge_all_tenants_task() -> None:
    tenants_fan_out(actor=sessions_purge_task)


# ---------------------------------------------------------------------------------------------
# Stripe: webhook events and platform billing (tenants.webhooks, tenants.billing)
# ---------------------------------------------------------------------------------------------
STRIPE_QUEUE = "stripe"
BILLING_QUEUE = "billing"


@dramatiq.actor(queue_name=STRIPE_QUEUE, max_retries=8, min_backoff=1_000, max_backoff=300_000)
def stripe_event_process_task(event_id: str) -> None:
    """Apply one stored Stripe event in the schema the message is bound to (idempotent)."""
    from tenants.webhooks import stripe_event_process as process  # lazy: task <-> service pair

    process(event_id=event_id)


@dramatiq.actor(queue_name=BILLING_QUEUE, max_retries=5, min_backoff=5_000, max_backoff=600_000)
def usage_report_task() -> None:
    """Send the current insurer's closed days of usage to Stripe's billing meters."""
    insurer = Insurer.objects.get(schema_name=connection.schema_name)
    usage_report_pending(insurer=insurer, today=timezone.localdate())


@cron("40 0 * * *")
@dramatiq.actor(queue_name=BILLING_QUEUE, max_retries=0)
def usage_report_all_tenants_task() -> None:
    tenants_fan_out(actor=usage_report_task)


@cron("*/15 * * * *")
@dramatiq.actor(queue_name=BILLING_QUEUE, max_retries=0)
def stripe_accounts_provision_task() -> None:
    """Create the connected accounts that onboarding left for later (Stripe was unreachable)."""
    stripe_accounts_provision_missing()
