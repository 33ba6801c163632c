"""Memory of long-lived worker processes (glibc's allocator)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

# mallopt(3) parameter: the most arenas malloc creates in the process.
M_ARENA_MAX = -8
WORKER_ARENAS = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, found once: ``find_library`` runs ``ldconfig`` in a subprocess."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def malloc_arenas_limit(arenas: int = WORKER_ARENAS) -> bool:
    """At most ``arenas`` malloc arenas in this process; True when glibc took the setting.

    glibc gives each thread that allocates at once an arena of its own, up to eight per core,
    and memory freed in one arena is not reused by another thread's: a worker whose threads
    take turns building PDFs and images keeps the peak of each. In the evidence worker
    (``bench/bench_capture.py``) the Python process's peak fell from about 296 to 221 MiB.
    Call it before the process starts its threads. An explicit ``MALLOC_ARENA_MAX`` in the
    environment wins; on another C library nothing changes.
    """
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))


def malloc_trim() -> bool:
    """Give the heap's free memory back to the system (after a large job); True if some was."""
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None)
    return bool(trim(0)) if trim is not None else False
