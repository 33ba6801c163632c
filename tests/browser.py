"""Browser tests drive Chromium the way the product does: from a thread of its own.

The product never runs Playwright in a thread that uses the database (``evidence.browser``).
Browser tests also read and write the database, so their ``page`` and ``browser`` are
stand-ins: every call on them is run in a ``BrowserThread`` and its result handed back, wrapped
again when it is itself a Playwright object (a locator, a response, a download). A test reads
as ordinary Playwright code; only ``expect`` must come from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect as playwright_expect

from evidence.browser import BrowserThread


def _is_playwright(value: Any) -> bool:
    return type(value).__module__.startswith("playwright.")


class Remote:
    """A Playwright object that lives in a browser thread; calls are run there."""

    __slots__ = ("_target", "_thread")

    def __init__(self, target: Any, thread: BrowserThread) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_thread", thread)

    def _wrap(self, value: Any) -> Any:
        if _is_playwright(value):
            return Remote(value, self._thread)
        if isinstance(value, list):
            return [self._wrap(item) for item in value]
        return value

    def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self._wrap(self._thread.call(fn, *map(unwrap, args), **_unwrap_kw(kwargs)))

    def __getattr__(self, name: str) -> Any:
        target = self._target
        value = self._thread.call(getattr, target, name)
        if callable(value) and not _is_playwright(value):
            return lambda *args, **kwargs: self._run(value, *args, **kwargs)
        return self._wrap(value)

    def __setattr__(self, name: str, value: Any) -> None:
        self._thread.call(setattr, self._target, name, unwrap(value))

    def __enter__(self) -> Any:
        return self._run(type(self._target).__enter__, self._target)

    def __exit__(self, *exc: Any) -> Any:
        return self._run(type(self._target).__exit__, self._target, *exc)

    def __repr__(self) -> str:
        return f"Remote({self._target!r})"


def unwrap(value: Any) -> Any:
    return object.__getattribute__(value, "_target") if isinstance(value, Remote) else value


def _unwrap_kw(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {key: unwrap(value) for key, value in kwargs.items()}


def expect(actual: Any, message: str | None = None) -> Any:
    """Playwright's ``expect``, for a stand-in page, locator or response."""
    if not isinstance(actual, Remote):
        return playwright_expect(actual, message)
    thread = object.__getattribute__(actual, "_thread")
    return Remote(thread.call(playwright_expect, unwrap(actual), message), thread)


def remote_browser(thread: BrowserThread) -> Remote:
    """The thread's Chromium as a stand-in (launched there if needed)."""
    return Remote(thread.call(thread.browser), thread)
