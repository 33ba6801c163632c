"""The chain of custody of a capture: every event, hash-linked, and the access events."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from evidence.custody_chain import custody_hash, custody_payload
from evidence.custody_log import custody_log_append
from evidence.models import Capture, CustodyEvent

SYSTEM_ACTOR = "Égide"
COMMAND_ACTOR = "ligne de commande"


def custody_record(
    *,
    capture: Capture | int,
    kind: str,
    actor: User | None = None,
    actor_label: str = "",
    detail: dict[str, Any] | None = None,
) -> CustodyEvent:
    """Append an event to a capture's chain of custody, linked to the previous one by hash.

    The capture row is locked so that two events (two downloads at once) never get the same
    number or the same predecessor. The event is also appended, in the same transaction, to the
    insurer's custody log (``evidence.custody_log``), which is locked after the capture's row.
    """
    capture_id = capture if isinstance(capture, int) else capture.pk
    with transaction.atomic():
        Capture.objects.select_for_update().only("pk").get(pk=capture_id)
        last = CustodyEvent.objects.filter(capture_id=capture_id).order_by("-seq").first()
        label = actor_label or (actor.email if actor is not None else SYSTEM_ACTOR)
        event = CustodyEvent(
            capture_id=capture_id,
            seq=(last.seq + 1) if last else 1,
            kind=kind,
            at=timezone.now().astimezone(dt.UTC),
            actor=actor,
            actor_label=label[:254],
            detail=json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str)),
            prev_hash=last.hash if last else "",
        )
        event.hash = custody_hash(custody_payload(event))
        event.save()
        # Every event, access or lifecycle, also goes to the insurer's custody log.
        custody_log_append(
            kind=event.kind,
            capture_id=capture_id,
            capture_seq=event.seq,
            event_hash=event.hash,
            actor=actor,
            actor_label=event.actor_label,
            detail=event.detail,
        )
    return event


def capture_viewed(
    *, capture: Capture, actor: User | None = None, actor_label: str = "", where: str
) -> None:
    custody_record(
        capture=capture,
        kind=CustodyEvent.Kind.VIEWED,
        actor=actor,
        actor_label=actor_label,
        detail={"where": where},
    )


def capture_downloaded(
    *, capture: Capture, actor: User | None = None, actor_label: str = "", where: str
) -> None:
    custody_record(
        capture=capture,
        kind=CustodyEvent.Kind.DOWNLOADED,
        actor=actor,
        actor_label=actor_label,
        detail={"where": where, "zip_sha256": capture.zip_sha256},
    )
