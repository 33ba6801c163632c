"""Transactional outbox: the row and the message cannot disagree.

``outbox_enqueue`` writes an outbox row in the caller's transaction (next to, say, the capture
row) and asks for a dispatch once that transaction commits. ``outbox_dispatch`` sends pending
rows to the broker; when the broker is down the send fails quietly (logged), the row stays
pending, and the user's request still succeeds. ``outbox_relay`` (run every few seconds by
every worker process, see ``saas.worker_loop``) sends what is pending and re-sends what the
broker no longer holds and nobody is working on. The actor acknowledges with ``outbox_done``.

Fairness: a queue can have a per-insurer cap of messages in flight
(``EGIDE_OUTBOX_INFLIGHT_MAX``, e.g. ``{"evidence": 2}``); the rest of that insurer's rows wait
in the outbox, so one insurer's backlog never sits in front of another insurer's first capture.

Leases: the actor takes the row's lease for its delivery (``outbox_lease_take``) and refreshes
its heartbeat while working (``outbox_heartbeat``). A second delivery of the same work while
the first one is alive is refused (idempotence), a re-delivery after the worker died takes over.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import dramatiq
from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils import timezone
from dramatiq.brokers.redis import RedisBroker

from outbox.models import OutboxMessage
from tenants.db import connection
from tenants.task_middleware import SCHEMA_OPTION

logger = logging.getLogger(__name__)


def _current_schema() -> str:
    return connection.schema_name


# --- Enqueue and dispatch ----------------------------------------------------------------------


def outbox_enqueue(*, actor: dramatiq.Actor, kwargs: dict, key: str) -> OutboxMessage:
    """Record ``actor(**kwargs)`` for the current schema; it is sent once the transaction commits.

    Must run inside the transaction that writes the work's own rows. ``key`` names the work
    (unique per schema): enqueuing the same key again returns the existing row.
    """
    schema = _current_schema()
    row, _created = OutboxMessage.objects.get_or_create(
        schema_name=schema,
        key=key,
        defaults={"actor_name": actor.actor_name, "queue_name": actor.queue_name, "kwargs": kwargs},
    )
    transaction.on_commit(lambda: outbox_dispatch_safe(schema_name=schema))
    return row


def outbox_dispatch_safe(*, schema_name: str | None = None) -> int:
    """``outbox_dispatch`` that never raises (after a commit, in a web request): logs instead."""
    try:
        return outbox_dispatch(schema_name=schema_name)
    except Exception:  # the relay sends it later; the user's request must not fail
        logger.warning("Outbox dispatch failed; the relay will retry", exc_info=True)
        return 0


def _inflight_caps() -> dict[str, int]:
    return {str(q): int(n) for q, n in (settings.EGIDE_OUTBOX_INFLIGHT_MAX or {}).items()}


def outbox_dispatch(*, schema_name: str | None = None, limit: int = 200) -> int:
    """Send pending rows (of one schema, or all) within each insurer's in-flight cap.

    Rows are locked with SKIP LOCKED, so several relays never send the same row at once. On a
    broker error the remaining rows stay pending and the error is recorded on the row.
    """
    broker = dramatiq.get_broker()
    caps = _inflight_caps()
    sent = 0
    with transaction.atomic(using="default"):
        pending = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            status=OutboxMessage.Status.PENDING
        )
        if schema_name is not None:
            pending = pending.filter(schema_name=schema_name)
        rows = list(pending.order_by("id")[:limit])
        if not rows:
            return 0
        inflight = Counter(
            (s, q)
            for s, q in OutboxMessage.objects.filter(
                status=OutboxMessage.Status.SENT,
                schema_name__in={r.schema_name for r in rows},
                queue_name__in={r.queue_name for r in rows} & set(caps),
            ).values_list("schema_name", "queue_name")
        )
        for row in rows:
            cap = caps.get(row.queue_name)
            if cap is not None and inflight[(row.schema_name, row.queue_name)] >= cap:
                continue  # this insurer has enough in flight on that queue: wait your turn
            try:
                actor: Any = broker.get_actor(row.actor_name)
                message = actor.send_with_options(
                    kwargs=row.kwargs, **{SCHEMA_OPTION: row.schema_name}
                )
            except Exception as exc:  # noqa: BLE001 - any broker error: row stays pending
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                row.save(update_fields=["last_error"])
                logger.warning("Outbox send failed for %s: %s", row, row.last_error)
                break  # the broker is down: the next relay tries again
            row.status = OutboxMessage.Status.SENT
            row.message_id = message.message_id
            row.sends += 1
            row.sent_at = timezone.now()
            row.last_error = ""
            row.save(update_fields=["status", "message_id", "sends", "sent_at", "last_error"])
            inflight[(row.schema_name, row.queue_name)] += 1
            sent += 1
    return sent


# --- Relay -----------------------------------------------------------------------------------


def broker_message_ids(*, queue_name: str) -> set[str] | None:
    """Ids of the messages the broker holds for a queue (queued, delayed or being worked on).

    Redis keeps each message's data in a hash until it is acknowledged, under an id of its own
    (new at every retry), so the Dramatiq message ids are read from the data. None when the
    broker cannot say (RabbitMQ): the caller then relies on time alone.
    """
    broker = dramatiq.get_broker()
    if not isinstance(broker, RedisBroker):
        return None
    ids: set[str] = set()
    base = f"{broker.namespace}:{queue_name}"
    for key in (f"{base}.msgs", f"{base}.DQ.msgs"):
        ids.update(filter(None, map(_message_id, broker.client.hvals(key))))
    return ids


def _message_id(data: bytes) -> str | None:
    try:
        return dramatiq.Message.decode(data).message_id
    except (dramatiq.errors.DecodeError, KeyError, TypeError):
        return None  # a message we cannot read is not ours


def outbox_relay(*, now: dt.datetime | None = None) -> int:
    """Send what is pending; make sent rows the broker lost pending again first.

    A sent row is re-sent when it is older than ``EGIDE_OUTBOX_RESEND_S``, nobody holds a live
    lease on it, and the broker no longer has its message (or cannot tell, for RabbitMQ, after
    ``EGIDE_OUTBOX_RESEND_BLIND_S``). Returns how many messages were sent.
    """
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.EGIDE_OUTBOX_LEASE_STALE_S)
    older = now - dt.timedelta(seconds=settings.EGIDE_OUTBOX_RESEND_S)
    blind = now - dt.timedelta(seconds=settings.EGIDE_OUTBOX_RESEND_BLIND_S)
    candidates = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.SENT, sent_at__lt=older
    ).exclude(heartbeat_at__gte=stale)
    held: dict[str, set[str] | None] = {}
    for row in candidates.order_by("id")[:200]:
        if row.queue_name not in held:
            held[row.queue_name] = broker_message_ids(queue_name=row.queue_name)
        ids = held[row.queue_name]
        if ids is None:
            lost = row.sent_at is not None and row.sent_at < blind
        else:
            lost = row.message_id not in ids
        if lost:
            updated = OutboxMessage.objects.filter(
                pk=row.pk, status=OutboxMessage.Status.SENT, message_id=row.message_id
            ).update(status=OutboxMessage.Status.PENDING)
            if updated:
                logger.warning("Outbox row %s lost by the broker: re-sending", row)
    return outbox_dispatch()


# --- Acknowledgement and leases --------------------------------------------------------------


def outbox_done(*, key: str, schema_name: str | None = None) -> bool:
    """The work named ``key`` is finished: never send it again. Idempotent."""
    schema = schema_name or _current_schema()
    updated = (
        OutboxMessage.objects.filter(schema_name=schema, key=key)
        .exclude(status=OutboxMessage.Status.DONE)
        .update(status=OutboxMessage.Status.DONE, done_at=timezone.now(), heartbeat_at=None)
    )
    if updated:
        outbox_dispatch_safe(schema_name=schema)  # this insurer's next row, if it waited
    return bool(updated)


def outbox_lease_take(*, key: str, message_id: str) -> bool:
    """Take the lease of ``key`` for this delivery; False when another live delivery holds it.

    A re-delivery of the same message (its worker died) always takes over; a different message
    (a re-send) is refused while the holder's heartbeat is fresh. Work without an outbox row
    (the command line) is always allowed.
    """
    schema = _current_schema()
    stale = timezone.now() - dt.timedelta(seconds=settings.EGIDE_OUTBOX_LEASE_STALE_S)
    with transaction.atomic():
        row = OutboxMessage.objects.select_for_update().filter(schema_name=schema, key=key).first()
        if row is None:
            return True
        if (
            row.lease_message_id
            and row.lease_message_id != message_id
            and row.heartbeat_at is not None
            and row.heartbeat_at >= stale
            and row.status != OutboxMessage.Status.DONE
        ):
            return False
        row.lease_message_id = message_id
        row.heartbeat_at = timezone.now()
        row.save(update_fields=["lease_message_id", "heartbeat_at"])
    return True


def _beat(*, schema: str, key: str, message_id: str) -> None:
    OutboxMessage.objects.filter(schema_name=schema, key=key, lease_message_id=message_id).exclude(
        status=OutboxMessage.Status.DONE
    ).update(heartbeat_at=timezone.now())


@contextlib.contextmanager
def outbox_heartbeat(*, key: str, message_id: str) -> Iterator[None]:
    """Refresh the lease's heartbeat every ``EGIDE_OUTBOX_HEARTBEAT_S`` while the block runs."""
    schema = _current_schema()
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.EGIDE_OUTBOX_HEARTBEAT_S):
                try:
                    _beat(schema=schema, key=key, message_id=message_id)
                except Exception:
                    logger.warning("Heartbeat of %s failed", key, exc_info=True)
                    close_old_connections()
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name=f"heartbeat-{key}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
