"""The web process loads the French language model when it starts, not on a doctor's first draft.

A real process imports the WSGI module, as gunicorn and runserver do, and the model is there
without any reply having been checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
from cover.reply_check import model
import saas.wsgi
print("loaded", model._state["nlp"] is not None)
"""


def _run(preload: str) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "saas.settings.test",
        "EGIDE_NLP_PRELOAD": preload,
    }
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", SCRIPT],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_the_wsgi_process_loads_the_model_at_start():
    assert _run("1") == "loaded True"


def test_switched_off_nothing_is_loaded():
    assert _run("0") == "loaded False"
