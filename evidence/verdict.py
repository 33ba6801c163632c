"""What the bundle verifier and the renewal-chain verifier share: a verdict, the tools' time
limit and the safe reading of a ZIP's member names (``evidence.verify``,
``evidence.verify_renewals``)."""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

TOOL_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class CheckVerdict:
    name: str
    ok: bool
    detail: str  # French


def zip_roots_safe(archive: zipfile.ZipFile) -> set[str]:
    """The archive's top-level names; refuses absolute paths, ``..``, backslashes and links."""
    roots = set()
    for info in archive.infolist():
        parts = PurePosixPath(info.filename).parts
        if info.filename.startswith("/") or ".." in parts or "\\" in info.filename:
            raise ValueError(f"chemin dangereux dans l'archive : {info.filename!r}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ValueError(f"lien symbolique dans l'archive : {info.filename!r}")
        roots.add(parts[0])
    return roots
