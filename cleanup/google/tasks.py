"""Actors of the Google Business Profile link. Thin: they call ``cleanup.google.services.*``."""

from __future__ import annotations

import logging

import dramatiq
from dramatiq_crontab import cron

from cleanup.google.models import GoogleReply
from cleanup.google.services.connection import GoogleBusinessError
from cleanup.google.services.reviews import google_reviews_scan_all
from common.tasks import tenants_fan_out

logger = logging.getLogger(__name__)

QUEUE = "cleanup"


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def google_reply_post_task(reply_id: int) -> None:
    """Publish a reply the doctor approved. Idempotent: a reply already posted (or no longer
    approved) is left alone."""
    from cleanup.google.services.replies import google_reply_post  # lazy: task ↔ service

    reply = GoogleReply.objects.filter(pk=reply_id).select_related("review").first()
    if reply is None or reply.status != GoogleReply.Status.APPROVED:
        return
    try:
        google_reply_post(reply=reply)
    except GoogleBusinessError as exc:
        logger.warning("Google reply %s not posted: %s", reply_id, exc)


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=30 * 60 * 1000)
def google_reviews_scan_task() -> None:
    """In one insurer's schema: read the Google reviews of every connected doctor."""
    counts = google_reviews_scan_all()
    logger.info("Google reviews read: %s", counts)


@cron("37 */6 * * *")
@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def google_reviews_scan_all_tenants_task() -> None:
    """Every six hours: each insurer's connected Google accounts (new, edited, deleted)."""
    tenants_fan_out(actor=google_reviews_scan_task)
