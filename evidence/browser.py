"""A Chromium that lives in a thread of its own, so that browser work never shares a thread
with database work.

Playwright's sync API runs an asyncio event loop in the thread that starts it. Django refuses
ORM calls from a thread where an event loop is running (``SynchronousOnlyOperation``), and it is
right to: a connection used from there would not be the thread's own. So the evidence worker,
the ``evidence_capture`` command, the monitoring renderer and the tests all hand browser work to
a ``BrowserThread``: one thread that owns Playwright and one Chromium, runs one function at a
time and returns its result (or raises its exception) in the caller's thread. The caller keeps
the database; the browser thread never touches it.

- The browser is launched on the first call and relaunched when it has died (crash, killed
  process); a call that fails leaves the thread ready for the next one.
- Progress reported by the browser work (``on_progress(label, percent)``) is relayed to the
  caller's thread, where it may be written to the database.
- Several caller threads may share one browser thread (``SharedBrowser``): the evidence worker
  runs two worker threads on one Chromium, so that while one capture is in the browser the
  other capture's post-processing (WACZ, report, bag, seal, timestamp) runs in its own worker
  thread. Browser work stays serialized, one capture at a time, in the browser thread.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from django.conf import settings

from evidence.capture import CHROMIUM_ARGS
from evidence.tls_chain import chromium_trust_args

logger = logging.getLogger(__name__)

T = TypeVar("T")

LAUNCH_TIMEOUT_MS = 30_000
RELAY_POLL_S = 0.2

_STOP = object()


class BrowserThreadClosed(RuntimeError):
    """Work was handed to a browser thread that has been closed."""


class BrowserThread:
    """One thread owning Playwright (sync API) and one Chromium; see the module docstring."""

    def __init__(
        self,
        *,
        chromium_path: str | None = None,
        args: tuple[str, ...] | None = None,
        name: str = "egide-browser",
    ) -> None:
        self.chromium_path = chromium_path or settings.CHROMIUM_PATH
        if args is None:
            # The capture's own arguments, plus the trust of EGIDE_CAPTURE_EXTRA_CA_FILE (tests).
            extra_ca = (
                getattr(settings, "EGIDE_CAPTURE_EXTRA_CA_FILE", "") if settings.configured else ""
            )
            args = CHROMIUM_ARGS + chromium_trust_args(extra_ca)
        self.args = tuple(args)
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._playwright: Any = None
        self._manager: Any = None
        self._browser: Any = None
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    # --- inside the browser thread -------------------------------------------------------

    def browser(self):
        """The Chromium of this thread, (re)launched as needed. Only from the browser thread."""
        if threading.current_thread() is not self._thread:
            raise RuntimeError("BrowserThread.browser() is only for work running in it")
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        self._browser_close()
        try:
            self._browser = self._launch()
        except Exception:  # noqa: BLE001 - any launch failure: restart the driver once
            # The Playwright driver itself may be gone (killed): start it again, once.
            self._playwright_stop()
            self._browser = self._launch()
        return self._browser

    def _launch(self):
        if self._playwright is None:
            from playwright.sync_api import sync_playwright  # lazy: only a worker launches Chromium

            self._manager = sync_playwright()
            self._playwright = self._manager.start()
        return self._playwright.chromium.launch(
            executable_path=self.chromium_path, args=list(self.args), timeout=LAUNCH_TIMEOUT_MS
        )

    def _browser_close(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            with contextlib.suppress(Exception):
                browser.close()

    def _playwright_stop(self) -> None:
        self._browser_close()
        playwright, self._playwright, self._manager = self._playwright, None, None
        if playwright is not None:
            with contextlib.suppress(Exception):
                playwright.stop()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                self._playwright_stop()
                return
            fn, args, kwargs, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller; the thread goes on
                future.set_exception(exc)
            else:
                future.set_result(result)

    # --- from any other thread -----------------------------------------------------------

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive() and not self._closed

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` in the browser thread; its future."""
        if self._closed:
            raise BrowserThreadClosed("this browser thread is closed")
        future: Future[T] = Future()
        self._jobs.put((fn, args, kwargs, future))
        return future

    def call(
        self,
        fn: Callable[..., T],
        /,
        *args: Any,
        on_progress: Callable[..., None] | None = None,
        **kwargs: Any,
    ) -> T:
        """Run ``fn`` in the browser thread and wait for it; raise what it raised.

        With ``on_progress``, ``fn`` receives an ``on_progress`` of its own whose calls are
        relayed to this thread, in order, while ``fn`` runs (so that they may use the ORM).
        """
        if threading.current_thread() is self._thread:
            raise RuntimeError("BrowserThread.call() from the browser thread would deadlock")
        events: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        if on_progress is not None:
            kwargs["on_progress"] = lambda *event: events.put(event)
        future = self.submit(fn, *args, **kwargs)

        def relay() -> None:
            while on_progress is not None:
                try:
                    event = events.get_nowait()
                except queue.Empty:
                    return
                on_progress(*event)

        while True:
            try:
                result = future.result(timeout=RELAY_POLL_S)
            except FutureTimeout:
                relay()
                continue
            except BaseException:
                relay()
                raise
            relay()
            return result

    def close(self, *, timeout_s: float = 30.0) -> None:
        """Stop the thread after the work already handed to it; close Chromium and Playwright."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(_STOP)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)


class SharedBrowser:
    """One ``BrowserThread`` per process, shared by the threads that take it.

    ``take()`` hands the caller the shared browser thread (started, or restarted after it
    died, on demand) and counts the caller; ``release()`` uncounts it and closes the browser
    thread when the last caller has released it (a worker thread shutting down).
    """

    def __init__(self, *, name: str, **kwargs: Any) -> None:
        self.name = name
        self._kwargs = kwargs
        self._lock = threading.Lock()
        self._thread: BrowserThread | None = None
        self._users: set[int] = set()

    def take(self) -> BrowserThread:
        with self._lock:
            if self._thread is None or not self._thread.is_alive:
                self._thread = BrowserThread(name=self.name, **self._kwargs)
            self._users.add(threading.get_ident())
            return self._thread

    def release(self) -> None:
        with self._lock:
            self._users.discard(threading.get_ident())
            if self._users or self._thread is None:
                return
            thread, self._thread = self._thread, None
        thread.close()

    @property
    def users(self) -> int:
        return len(self._users)


@contextlib.contextmanager
def browser_thread(**kwargs: Any) -> Iterator[BrowserThread]:
    """A browser thread for the duration of a block (a command, one rendering, a test)."""
    thread = BrowserThread(**kwargs)
    try:
        yield thread
    finally:
        thread.close()
