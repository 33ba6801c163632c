"""The insurer's custody log: one hash chain over every custody event of the insurer.

Each capture keeps its own chain (``CustodyEvent``, in the bundle's ``custody.jsonl``); this log
chains all of them, in the order they happened, across the whole insurer: who requested,
viewed, downloaded, shared, opened, renewed which bundle, and when. Entry ``n`` holds the hash of
entry ``n - 1``; entry 1 holds a genesis value derived from the schema name, so a log copied
into another insurer does not verify there. Each entry also holds the hash of the capture's own
event, tying the two chains together.

- Appends are serialized per insurer: the table (one per schema) is locked in EXCLUSIVE mode
  until the end of the transaction, so two appends never get the same number or predecessor
  (reads are not blocked). Lock order: a capture's row first (``custody_record``), then the log.
- A database trigger refuses UPDATE, DELETE and TRUNCATE on the table (migration 0005).
- ``custody_log_verify`` recomputes every hash of the log and of every capture's chain and
  reports the first broken link; ``manage.py evidence_custody_verify`` prints it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evidence.custody_chain import custody_hash, custody_payload
from evidence.models import Capture, CustodyEvent, CustodyLogEntry
from tenants.db import connection

GENESIS_PREFIX = "egide:journal-de-possession:origine:"
SYSTEM_ACTOR = "Égide"
# How many capture problems a verification keeps (with their total count).
CAPTURE_PROBLEMS_KEPT = 20


def custody_log_genesis(*, schema_name: str) -> str:
    """The ``prev_hash`` of an insurer's first entry."""
    return hashlib.sha256((GENESIS_PREFIX + schema_name).encode("utf-8")).hexdigest()


def custody_log_payload(entry: Any) -> dict[str, Any]:
    """What an entry's hash covers (everything but the hash itself)."""
    return {
        "seq": entry.seq,
        "at": entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "kind": entry.kind,
        "capture": entry.capture_id,
        "capture_seq": entry.capture_seq,
        "event_hash": entry.event_hash or None,
        "actor_id": entry.actor_id,
        "actor": entry.actor_label,
        "detail": entry.detail,
        "prev": entry.prev_hash,
    }


def custody_log_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _lock() -> None:
    table = connection.ops.quote_name(CustodyLogEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")


def custody_log_append(
    *,
    kind: str,
    capture_id: int | None = None,
    capture_seq: int | None = None,
    event_hash: str = "",
    actor: User | None = None,
    actor_label: str = "",
    detail: dict[str, Any] | None = None,
) -> CustodyLogEntry:
    """Append one entry to the current insurer's log, in the caller's transaction.

    The log stays locked until that transaction ends: the entry exists exactly when what it
    records was committed, and the numbering has no gap and no fork.
    """
    with transaction.atomic():
        _lock()
        last = CustodyLogEntry.objects.order_by("-seq").only("seq", "hash").first()
        label = actor_label or (actor.email if actor is not None else SYSTEM_ACTOR)
        entry = CustodyLogEntry(
            seq=(last.seq + 1) if last else 1,
            at=timezone.now().astimezone(dt.UTC),
            kind=str(kind),
            capture_id=capture_id,
            capture_seq=capture_seq,
            event_hash=event_hash,
            actor_id=actor.pk if actor is not None else None,
            actor_label=label[:254],
            detail=json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str)),
            prev_hash=last.hash
            if last
            else custody_log_genesis(schema_name=connection.schema_name),
        )
        entry.hash = custody_log_hash(custody_log_payload(entry))
        entry.save(force_insert=True)
    return entry


# --- Reads -----------------------------------------------------------------------------------


def custody_log_entries():
    """The current insurer's log, newest first."""
    return CustodyLogEntry.objects.order_by("-seq")


def custody_kind_label(kind: str) -> str:
    """The French label of an event kind (the log keeps kinds the capture chain may add)."""
    try:
        return str(CustodyEvent.Kind(kind).label)
    except ValueError:
        return {"renewed": _("Renouvelée")}.get(kind, kind)


# --- Verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LogBreak:
    """The first broken link of the log: its number, what differs (``gap``, ``hash``,
    ``prev_hash``) and a French sentence saying so."""

    seq: int
    problem: str
    message: str


@dataclass(frozen=True)
class CustodyLogVerification:
    schema: str
    entries: int
    log_break: LogBreak | None
    captures: int
    capture_problems: tuple[str, ...] = field(default=())
    capture_problems_count: int = 0

    @property
    def ok(self) -> bool:
        return self.log_break is None and not self.capture_problems_count

    def lines(self) -> list[str]:
        """The verdict in French, first line the log's, then one per capture problem."""
        if self.log_break is None:
            head = _("chaîne intacte (%(n)d maillons)") % {"n": self.entries}
        else:
            head = _("chaîne rompue au maillon n° %(seq)d : %(why)s") % {
                "seq": self.log_break.seq,
                "why": self.log_break.message,
            }
        lines = [head]
        if self.capture_problems_count:
            lines.extend(self.capture_problems)
            hidden = self.capture_problems_count - len(self.capture_problems)
            if hidden > 0:
                lines.append(_("… et %(n)d autres anomalies de captures") % {"n": hidden})
        else:
            lines.append(_("chaînes des captures intactes (%(n)d captures)") % {"n": self.captures})
        return lines


def _short(value: str) -> str:
    return (value[:16] + "…") if value else "∅"


def _log_check(
    entries: Iterable[CustodyLogEntry], genesis: str, logged: dict[tuple[int, int], str]
) -> tuple[int, LogBreak | None]:
    """Walk the log in order; fill ``logged`` with each entry's capture event hash."""
    previous = genesis
    expected = 1
    count = 0
    found: LogBreak | None = None
    for entry in entries:
        count += 1
        if entry.capture_id is not None and entry.capture_seq is not None:
            logged[(entry.capture_id, entry.capture_seq)] = entry.event_hash
        if found is not None:
            continue
        if entry.seq != expected:
            if expected == 1:
                why = _("le journal commence au maillon n° %(seq)d") % {"seq": entry.seq}
            else:
                why = _("maillon absent (le n° %(before)d est suivi du n° %(seq)d)") % {
                    "before": expected - 1,
                    "seq": entry.seq,
                }
            found = LogBreak(expected, "gap", why)
            continue
        actual = custody_log_hash(custody_log_payload(entry))
        if actual != entry.hash:
            found = LogBreak(
                entry.seq,
                "hash",
                _(
                    "empreinte recalculée %(actual)s différente de l'empreinte enregistrée %(stored)s"
                )
                % {"actual": _short(actual), "stored": _short(entry.hash)},
            )
        elif entry.prev_hash != previous:
            found = LogBreak(
                entry.seq,
                "prev_hash",
                (
                    _("empreinte précédente %(prev)s différente de l'origine du journal %(exp)s")
                    if entry.seq == 1
                    else _(
                        "empreinte précédente %(prev)s différente de celle du maillon "
                        "n° %(before)d (%(exp)s)"
                    )
                )
                % {
                    "prev": _short(entry.prev_hash),
                    "exp": _short(previous),
                    "before": entry.seq - 1,
                },
            )
        previous = entry.hash
        expected += 1
    return count, found


def _captures_check(logged: dict[tuple[int, int], str]) -> tuple[int, list[str]]:
    """Every capture's own chain, and its agreement with the log, in one ordered pass."""
    problems: list[str] = []
    chains: set[int] = set()
    broken: set[int] = set()
    current: int | None = None
    previous, expected = "", 1
    for event in CustodyEvent.objects.order_by("capture_id", "seq").iterator(chunk_size=2000):
        if event.capture_id != current:
            current, previous, expected = event.capture_id, "", 1
            chains.add(event.capture_id)
        key = (event.capture_id, event.seq)
        logged_hash = logged.pop(key, None)
        if event.capture_id in broken:
            continue
        message = None
        if event.seq != expected:
            message = _("capture n° %(c)d : événement n° %(seq)d absent de sa chaîne") % {
                "c": event.capture_id,
                "seq": expected,
            }
        elif event.prev_hash != previous or custody_hash(custody_payload(event)) != event.hash:
            message = _("capture n° %(c)d : chaîne rompue à l'événement n° %(seq)d") % {
                "c": event.capture_id,
                "seq": event.seq,
            }
        elif logged_hash is None:
            message = _("capture n° %(c)d : événement n° %(seq)d absent du journal") % {
                "c": event.capture_id,
                "seq": event.seq,
            }
        elif logged_hash != event.hash:
            message = _(
                "capture n° %(c)d : l'événement n° %(seq)d diffère de celui inscrit au journal"
            ) % {"c": event.capture_id, "seq": event.seq}
        if message is not None:
            broken.add(event.capture_id)
            problems.append(message)
        previous, expected = event.hash, expected + 1
    # Events the log names that the capture's chain lost (its last ones, or all of them while
    # the capture itself is still there).
    remaining = {key for key in logged if key[0] not in broken}
    if remaining:
        present = set(
            Capture.objects.filter(pk__in={c for c, _s in remaining}).values_list("pk", flat=True)
        )
        for capture_id, seq in sorted(remaining):
            if capture_id in present and capture_id not in broken:
                broken.add(capture_id)
                problems.append(
                    _(
                        "capture n° %(c)d : l'événement n° %(seq)d inscrit au journal manque "
                        "à sa chaîne"
                    )
                    % {"c": capture_id, "seq": seq}
                )
    return len(chains), problems


def custody_log_verify() -> CustodyLogVerification:
    """Recompute the current insurer's log and every capture's chain; see ``LogBreak``."""
    schema = connection.schema_name
    logged: dict[tuple[int, int], str] = {}
    entries = CustodyLogEntry.objects.order_by("seq").iterator(chunk_size=2000)
    counted, log_break = _log_check(entries, custody_log_genesis(schema_name=schema), logged)
    captures, problems = _captures_check(logged)
    return CustodyLogVerification(
        schema=schema,
        entries=counted,
        log_break=log_break,
        captures=captures,
        capture_problems=tuple(problems[:CAPTURE_PROBLEMS_KEPT]),
        capture_problems_count=len(problems),
    )
