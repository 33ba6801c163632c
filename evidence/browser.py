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
  runs two worker threads on one Chromium, so that one capture's post-processing (WACZ,
  report, bag, seal, timestamp) runs in its worker thread while the browser works.
- With ``concurrency`` above 1, the browser thread runs that many functions at once, each in
  a greenlet of its own: while one capture waits on Chromium (a page loading, a network-quiet
  wait, a consent wall), the other's work goes on. This is how Playwright's sync API itself
  runs event handlers; a function that blocks the thread outside Playwright calls holds the
  others up, so browser work waits on other threads by letting the event loop run
  (``page.wait_for_timeout``, ``BrowserThread.pump``). Each capture has its own
  browser context, and its request guard keeps to its own requests
  (``evidence.capture.guard``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

import greenlet
from django.conf import settings

from evidence.capture import CHROMIUM_ARGS
from evidence.tls_chain import chromium_trust_args

logger = logging.getLogger(__name__)

T = TypeVar("T")

LAUNCH_TIMEOUT_MS = 30_000
RELAY_POLL_S = 0.2
PUMP_S = 0.02
# Node options of the Playwright driver: a 1 MiB young generation instead of 16 (it passes
# screenshots through as base64 strings, which go to the large-object space anyway). About 25
# MiB less at the evidence worker's peak (bench/bench_capture.py), at the same speed.
DRIVER_NODE_OPTIONS = "--max-semi-space-size=1"

_STOP = object()


@contextlib.contextmanager
def _driver_environment() -> Iterator[None]:
    """``NODE_OPTIONS`` for the driver Playwright starts now (it copies the environment), unless
    the process was given its own."""
    if "NODE_OPTIONS" in os.environ:
        yield
        return
    os.environ["NODE_OPTIONS"] = DRIVER_NODE_OPTIONS
    try:
        yield
    finally:
        os.environ.pop("NODE_OPTIONS", None)


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
        concurrency: int = 1,
    ) -> None:
        self.chromium_path = chromium_path or settings.CHROMIUM_PATH
        if args is None:
            # The capture's own arguments, plus the trust of EGIDE_CAPTURE_EXTRA_CA_FILE (tests).
            extra_ca = (
                getattr(settings, "EGIDE_CAPTURE_EXTRA_CA_FILE", "") if settings.configured else ""
            )
            args = CHROMIUM_ARGS + chromium_trust_args(extra_ca)
        self.args = tuple(args)
        self.concurrency = max(1, concurrency)
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._playwright: Any = None
        self._manager: Any = None
        self._browser: Any = None
        self._launching = False
        # The functions running now, each in its greenlet, and the event that wakes the
        # thread's main greenlet when one ends or a new one is handed in.
        self._running: set[greenlet.greenlet] = set()
        self._wake: asyncio.Event | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    # --- inside the browser thread -------------------------------------------------------

    def browser(self):
        """The Chromium of this thread, (re)launched as needed. Only from the browser thread."""
        if threading.current_thread() is not self._thread:
            raise RuntimeError("BrowserThread.browser() is only for work running in it")
        while self._launching:  # another function of this thread is launching it
            self.pump(PUMP_S)
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        self._launching = True
        try:
            self._browser_close()
            self._browser = self._playwright.chromium.launch(
                executable_path=self.chromium_path, args=list(self.args), timeout=LAUNCH_TIMEOUT_MS
            )
        finally:
            self._launching = False
        return self._browser

    def pump(self, seconds: float) -> None:
        """Let the browser work of the other running functions go on for ``seconds``."""
        self._loop_wait(asyncio.sleep(seconds))

    def _loop_wait(self, awaitable: Awaitable[Any]) -> Any:
        """Wait, in this greenlet, for a coroutine run on Playwright's event loop.

        This is what every sync API call does (``playwright._impl._greenlets.wait_for_future``,
        on the loop and dispatcher fiber of the sync ``Playwright`` object): the other
        greenlets of the thread go on meanwhile.
        """
        from playwright._impl._greenlets import wait_for_future  # lazy: only a worker has it

        playwright = self._playwright
        task = playwright._loop.create_task(awaitable)
        wait_for_future(playwright._loop, playwright._dispatcher_fiber, task)
        return task.result()

    def _playwright_ready(self) -> None:
        """Playwright started, in this thread's main greenlet (its dispatcher's parent); started
        again if its driver went away (killed) while nothing ran."""
        if self._playwright is not None and self._playwright._dispatcher_fiber.dead:
            self._playwright_stop()
        if self._playwright is None:
            from playwright.sync_api import sync_playwright  # lazy: only a worker launches Chromium

            self._manager = sync_playwright()
            with _driver_environment():
                self._playwright = self._manager.start()
            self._wake = asyncio.Event()

    def _browser_close(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            with contextlib.suppress(Exception):
                browser.close()

    def _playwright_stop(self) -> None:
        self._browser_close()
        playwright, self._playwright, self._manager = self._playwright, None, None
        self._wake = None
        if playwright is not None:
            with contextlib.suppress(Exception):
                playwright.stop()

    def _serve(self) -> None:
        stopping = False
        while not (stopping and not self._running):
            job = self._job_next(accept=not stopping)
            if job is _STOP:
                stopping = True
            elif job is not None:
                self._job_start(job)
        self._playwright_stop()

    def _job_next(self, *, accept: bool) -> Any:
        """The next job to start, or None after waiting for a running one to move on."""
        if accept and not self._running:
            return self._jobs.get()  # nothing runs: the thread may sleep
        if accept and len(self._running) < self.concurrency:
            try:
                return self._jobs.get_nowait()
            except queue.Empty:
                pass
        self._idle()
        return None

    def _idle(self) -> None:
        """Run the event loop (the running functions' browser work) until one of them ends or
        a job is handed in."""
        wake = self._wake
        assert wake is not None  # noqa: S101 - set with Playwright, before any job runs
        try:
            self._loop_wait(wake.wait())
        except Exception:  # noqa: BLE001 - the driver went away: the jobs must hear of it
            # The jobs wait in the dispatcher fiber's loop, which is gone: resume each, so that
            # its Playwright call raises (connection closed) instead of waiting forever.
            for job in list(self._running):
                job.switch()
        wake.clear()

    def _wake_up(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _job_start(self, job: tuple) -> None:
        fn, args, kwargs, future = job
        if not future.set_running_or_notify_cancel():
            return
        try:
            self._playwright_ready()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller; the thread goes on
            future.set_exception(exc)
            return

        def run() -> None:
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller; the thread goes on
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                self._running.discard(runner)
                self._wake_up()

        # The function starts from the event loop, as Playwright's own event handlers do: its
        # greenlet's parent is the dispatcher fiber, so that it hands back to the loop when it
        # waits on the browser or ends, while this main greenlet waits in ``_idle``.
        playwright = self._playwright
        runner = greenlet.greenlet(run, parent=playwright._dispatcher_fiber)
        self._running.add(runner)
        playwright._loop.call_soon(runner.switch)

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
        self._wake_threadsafe()
        return future

    def _wake_threadsafe(self) -> None:
        """Wake the browser thread if it is running functions (else it sleeps on the queue)."""
        playwright = self._playwright
        if playwright is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                playwright._loop.call_soon_threadsafe(self._wake_up)

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
        self._wake_threadsafe()
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
