"""Facts about where a capture ran, for ``environment.json``: software versions, operating
system and container; and the JSON writer of the provenance files."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
from pathlib import Path
from typing import Any


def json_write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", "utf-8")


def software_versions() -> dict[str, str]:
    names = ("playwright", "warcio", "pillow", "weasyprint", "httpx")
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def os_release_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def container_info() -> dict:
    return {
        "in_container": Path("/.dockerenv").exists() or Path("/run/.containerenv").exists(),
        "image": os.environ.get("EGIDE_CONTAINER_IMAGE") or None,
    }
