"""The French spaCy pipeline, loaded once per process, lazily and thread-safely.

``fr_core_news_md`` 3.8.0 (Explosion; licence LGPL-LR, from its UD French Sequoia training data;
WikiNER CC BY 4.0, vectors CC0, lookups MIT — see the package's meta.json) gives lemmas,
morphology (person, tense, mood), named entities and 300-dimension word vectors. spaCy itself
is MIT.
The dependency parser is not needed (sentences are split on punctuation) and is disabled: the
check stays well under 50 ms per draft.
"""

from __future__ import annotations

import threading
import time
from typing import Any

MODEL_NAME = "fr_core_news_md"
DISABLED_PIPES = ("parser", "senter")

_lock = threading.Lock()
_state: dict[str, Any] = {"nlp": None, "error": None, "load_seconds": None}


def nlp_get() -> Any | None:
    """The loaded pipeline, or None when it cannot be loaded (the caller then warns)."""
    if _state["nlp"] is not None or _state["error"] is not None:
        return _state["nlp"]
    with _lock:
        if _state["nlp"] is None and _state["error"] is None:
            started = time.perf_counter()
            try:
                import spacy  # lazy: heavy, optional (model package), loaded on first use

                nlp = spacy.load(MODEL_NAME, exclude=list(DISABLED_PIPES))
            except (ImportError, OSError) as exc:  # model package missing or unreadable
                _state["error"] = exc
            else:
                _state["load_seconds"] = time.perf_counter() - started
                _state["nlp"] = nlp
    return _state["nlp"]


def nlp_preload() -> bool:
    """Load the pipeline now, when the web process starts (gunicorn ``--preload`` loads it once in
    the master and its workers share it), so that a doctor's first draft does not wait for it."""
    return nlp_get() is not None


def nlp_load_seconds() -> float | None:
    """How long the first load took in this process (None before it happened)."""
    return _state["load_seconds"]
