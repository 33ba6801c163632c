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
