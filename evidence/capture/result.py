"""What a capture gives back (``CaptureResult``) or raises (``CaptureBlocked``), and file hashes."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from evidence.prechecks import iso_utc


class CaptureBlocked(Exception):
    """The URL (or its redirect, or a server address) is not allowed: nothing was kept."""

    def __init__(self, message_fr: str, *, url: str, blocked: list[dict] | None = None) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr
        self.url = url
        self.blocked = blocked or []


@dataclass
class CaptureResult:
    """What a capture produced; the files under ``data_dir`` are the bundle's payload."""

    url: str
    final_url: str
    http_status: int | None
    error: str | None
    title: str
    started_at: datetime
    finished_at: datetime
    out_dir: Path
    data_dir: Path
    warc_paths: list[Path]
    main_response_date: datetime | None
    redirect_chain: list[dict]
    blocked: list[dict]
    files: dict[str, str]
    warc_sha256: dict[str, str]
    environment: dict
    network: dict
    clock: dict
    actions: list[dict]

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("started_at", "finished_at", "main_response_date"):
            if data[key] is not None:
                data[key] = iso_utc(data[key])
        for key in ("out_dir", "data_dir"):
            data[key] = str(data[key])
        data["warc_paths"] = [str(path) for path in self.warc_paths]
        return data


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()
