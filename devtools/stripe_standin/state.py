"""The stand-in's persistent state."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


class State:
    """All objects, as JSON under the data directory; one re-entrant lock guards everything."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        if path.exists():
            self.data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        else:
            self.data = {"version": 1, "namespaces": {}, "outbox": []}

    def collection(self, namespace: str, kind: str) -> dict[str, dict[str, Any]]:
        spaces = self.data["namespaces"]
        return spaces.setdefault(namespace, {}).setdefault(kind, {})

    def namespaces(self) -> list[str]:
        return list(self.data["namespaces"])

    @property
    def outbox(self) -> list[list[str]]:
        return self.data["outbox"]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, ensure_ascii=False), "utf-8")
        os.replace(tmp, self.path)
