"""Reads of the outbox, always limited to the current insurer's schema."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from outbox.models import OutboxMessage
from tenants.db import connection


@dataclass(frozen=True)
class Delivery:
    status: str
    sends: int
    heartbeat_at: dt.datetime | None
    stale: bool  # someone was working on it and stopped giving signs of life


def outbox_delivery(*, key: str) -> Delivery | None:
    """Where the work named ``key`` of the current insurer stands in the outbox, if anywhere."""
    row = (
        OutboxMessage.objects.filter(schema_name=connection.schema_name, key=key)
        .only("status", "sends", "heartbeat_at")
        .first()
    )
    if row is None:
        return None
    limit = timezone.now() - dt.timedelta(seconds=settings.EGIDE_OUTBOX_LEASE_STALE_S)
    stale = (
        row.status != OutboxMessage.Status.DONE
        and row.heartbeat_at is not None
        and row.heartbeat_at < limit
    )
    return Delivery(status=row.status, sends=row.sends, heartbeat_at=row.heartbeat_at, stale=stale)


def outbox_pending_count(*, schema_name: str | None = None) -> int:
    rows = OutboxMessage.objects.exclude(status=OutboxMessage.Status.DONE)
    if schema_name is not None:
        rows = rows.filter(schema_name=schema_name)
    return rows.count()
