"""The worker's allocator settings (``common.memory``), checked in fresh interpreters: an
arena limit only holds if set before the process's threads start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import json
from common.memory import malloc_arenas_limit, malloc_trim
print(json.dumps({"limit": malloc_arenas_limit(), "trim": malloc_trim() in (True, False)}))
"""


def _run(env_extra: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env_extra
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", SCRIPT],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_arena_limit_is_taken_by_glibc_and_yields_to_an_explicit_environment():
    assert _run({}) == '{"limit": true, "trim": true}'
    # MALLOC_ARENA_MAX given to the process wins: nothing is changed
    assert _run({"MALLOC_ARENA_MAX": "4"}) == '{"limit": false, "trim": true}'


def test_the_evidence_worker_limits_its_arenas_before_its_threads_start():
    source = (REPO / "saas" / "worker.py").read_text("utf-8")
    limit_at = source.index("malloc_arenas_limit()")
    # before Django (whose setup may start threads) and before any actor module is imported
    assert limit_at < source.index("django.setup()")
    assert limit_at < source.index("importlib.import_module(")
