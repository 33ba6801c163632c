"""Actors for platform-wide work. Thin: they call services.

Periodic jobs are scheduled by dramatiq-crontab (``manage.py crontab``). They run in the public
schema and fan out one message per ready insurer; the tenant middleware then runs each message
in its insurer's schema.
"""

from __future__ import annotations

import dramatiq
from dramatiq_crontab import cron

from tenants.services import tenants_fan_out


@dramatiq.actor(max_retries=3)
def sessions_purge() -> None:
    """Delete expired sessions of the current schema (each insurer keeps its own sessions)."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    Session.objects.filter(expire_date__lt=timezone.now()).delete()


@cron("17 3 * * *")
@dramatiq.actor(max_retries=0)
def sessions_purge_all_tenants() -> None:
    tenants_fan_out(actor=sessions_purge)


# ---------------------------------------------------------------------------------------------
# Stripe: webhook events and platform billing (tenants.webhooks, tenants.billing)
# ---------------------------------------------------------------------------------------------
STRIPE_QUEUE = "stripe"
BILLING_QUEUE = "billing"


@dramatiq.actor(queue_name=STRIPE_QUEUE, max_retries=8, min_backoff=1_000, max_backoff=300_000)
def stripe_event_process(event_id: str) -> None:
    """Apply one stored Stripe event in the schema the message is bound to (idempotent)."""
    from tenants.webhooks import stripe_event_process as process

    process(event_id=event_id)


@dramatiq.actor(queue_name=BILLING_QUEUE, max_retries=5, min_backoff=5_000, max_backoff=600_000)
def usage_report() -> None:
    """Send the current insurer's closed days of usage to Stripe's billing meters."""
    from django.utils import timezone

    from tenants.billing import usage_report_pending
    from tenants.db import connection
    from tenants.models import Insurer

    insurer = Insurer.objects.get(schema_name=connection.schema_name)
    usage_report_pending(insurer=insurer, today=timezone.localdate())


@cron("40 0 * * *")
@dramatiq.actor(queue_name=BILLING_QUEUE, max_retries=0)
def usage_report_all_tenants() -> None:
    tenants_fan_out(actor=usage_report)


@cron("*/15 * * * *")
@dramatiq.actor(queue_name=BILLING_QUEUE, max_retries=0)
def stripe_accounts_provision() -> None:
    """Create the connected accounts that onboarding left for later (Stripe was unreachable)."""
    from tenants.billing import stripe_accounts_provision_missing

    stripe_accounts_provision_missing()
