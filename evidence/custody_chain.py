"""One capture's chain of custody: what each event's hash covers, and the hash.

Pure functions, shared by the writes (``evidence.services.custody.custody_record``) and the
reads that verify a chain (``evidence.selectors.custody_chain_check``, ``evidence.custody_log``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from evidence.models import CustodyEvent


def custody_payload(event: CustodyEvent) -> dict[str, Any]:
    """What an event's hash covers (also its line in the bundle's custody.jsonl)."""
    return {
        "capture": event.capture_id,
        "seq": event.seq,
        "kind": event.kind,
        "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_label,
        "detail": event.detail,
        "prev": event.prev_hash or None,
    }


def custody_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
