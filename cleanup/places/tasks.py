"""Actors of the Google Maps (Places API) follow-up. Thin: they call
``cleanup.places.services``."""

from __future__ import annotations

import logging

import dramatiq
from dramatiq_crontab import cron

from cleanup.places.services import places_scan_all
from common.tasks import tenants_fan_out

logger = logging.getLogger(__name__)

QUEUE = "cleanup"


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=30 * 60 * 1000)
def places_scan_task() -> None:
    """In one insurer's schema: read every followed place, purge expired Google content."""
    counts = places_scan_all()
    logger.info("Google Maps places read: %s", counts)


@cron("47 5 * * *")
@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def places_scan_all_tenants_task() -> None:
    """Once a day: each insurer's followed Google Maps places (each read is billed)."""
    tenants_fan_out(actor=places_scan_task)
