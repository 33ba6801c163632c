"""Watching and acting on a page: the action log, pending requests, waiting until the page is
quiet after an action, finding controls and clicking one (logged)."""

from __future__ import annotations

import concurrent.futures
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from playwright.sync_api import ElementHandle, Frame, Page, Request
from playwright.sync_api import Error as PlaywrightError

from evidence.behaviors.rules import (
    CONSENT_BUTTON_PHRASES,
    CONSENT_CONTAINER_HINTS,
    CONSENT_MANAGERS,
    CONSENT_PREFERENCE,
    CONSENT_TEXT_PATTERN,
    EXPAND_PATTERNS,
    EXPAND_PHRASES,
    LOAD_MORE_PHRASES,
    REPEATABLE_EXPAND_PHRASES,
    REVIEW_TAB_PATTERNS,
)
from evidence.behaviors.scripts import (
    _DESCRIBE_JS,
    _FIND_JS,
    _NAV_GUARD_JS,
    _NAV_GUARD_READ_JS,
    _SHADOW_TEXT_JS,
    _SIGNATURE_JS,
    _TICK_JS,
)
from evidence.prechecks import iso_utc, utc_now

T = TypeVar("T")

# Request types that never end by themselves: they do not keep the page "busy".
_LONG_LIVED_TYPES = frozenset({"websocket", "eventsource", "media", "ping", "manifest"})

_SEEN_KEY = "egide.behaviors.seen"

# Bounded waits after an action (milliseconds): until the first change, then until quiet.
_TICK_MS = 50
_SLOW_FACTOR = 8


@dataclass
class ActionLog:
    """Append-only log of what was done to the page, one JSON object per line, UTC-stamped."""

    path: Path
    entries: list[dict] = field(default_factory=list)

    def record(self, action: str, **detail: Any) -> dict:
        entry = {"at": iso_utc(utc_now()), "action": action, **detail}
        self.entries.append(entry)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        return entry


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _frames(page: Page) -> list[Frame]:
    return [frame for frame in page.frames if not frame.is_detached()]


def _frame_kind(page: Page, frame: Frame) -> str:
    return "page principale" if frame == page.main_frame else "cadre (iframe)"


class _Network:
    """Requests of the page still waiting for an answer, with the time each started."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.pending: dict[Request, float] = {}
        self.last_change = time.monotonic()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: Request) -> None:
        if request.resource_type not in _LONG_LIVED_TYPES:
            self.pending[request] = self.last_change = time.monotonic()

    def _ended(self, request: Request) -> None:
        if self.pending.pop(request, None) is not None:
            self.last_change = time.monotonic()

    def busy_since(self, since: float) -> bool:
        return any(started >= since for started in self.pending.values())

    def close(self) -> None:
        self.page.remove_listener("request", self._started)
        self.page.remove_listener("requestfinished", self._ended)
        self.page.remove_listener("requestfailed", self._ended)


class NetworkWatch(_Network):
    """Requests of a page still pending, for ``network_quiet`` (a public ``_Network``)."""


def network_quiet(
    *, page: Page, net: _Network, quiet_ms: int = 150, timeout_s: float = 10.0
) -> bool:
    """Wait until no request of the page has been pending for ``quiet_ms``; False on timeout.

    Playwright's ``networkidle`` always waits a fixed 500 ms after the last request; this waits
    only as long as the page is actually loading something (long-lived requests aside).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        now = time.monotonic()
        if not net.pending and (now - net.last_change) * 1000 >= quiet_ms:
            return True
        if now >= deadline:
            return False
        # Lets Playwright dispatch the request events of the page while waiting.
        page.wait_for_timeout(25)


def future_wait(page: Page, future: concurrent.futures.Future[T]) -> T:
    """The result of work running in another thread, Playwright's events going on meanwhile.

    ``future.result()`` would hold the browser thread, and with it the other capture running
    there (``evidence.browser``): its requests would wait for the guard.
    """
    while not future.done():
        try:
            page.wait_for_timeout(10)
        except PlaywrightError:  # the page is gone (crashed, closed): wait here
            break
    return future.result()


def _signatures(page: Page) -> dict[str, dict]:
    """Size of every frame (elements, text, height) and whether one shows ``aria-busy``."""
    found: dict[str, dict] = {}
    for index, frame in enumerate(_frames(page)):
        try:
            found[f"{index}:{frame.url}"] = frame.evaluate(_SIGNATURE_JS)
        except PlaywrightError:
            continue
    return found


def _grew(before: dict[str, dict], after: dict[str, dict]) -> bool:
    """More elements, text or height somewhere (a frame that appeared counts)."""
    for key, now in after.items():
        old = before.get(key)
        if old is None:
            return True
        if any(now[measure] > old[measure] for measure in ("count", "chars", "shown", "height")):
            return True
    return False


def _shape(signatures: dict[str, dict]) -> list[tuple]:
    return sorted(
        (key, s["count"], s["chars"], s["shown"], s["height"]) for key, s in signatures.items()
    )


def _tick(page: Page, ms: int) -> None:
    """Wait for the next DOM change of the page, at most ``ms``."""
    try:
        page.main_frame.evaluate(_TICK_JS, ms)
    except PlaywrightError:
        page.wait_for_timeout(ms)


def _settle(
    *,
    page: Page,
    net: _Network,
    since: float,
    before: dict[str, dict],
    first_ms: int,
    quiet_ms: int,
    max_ms: float,
) -> dict[str, dict]:
    """Watch the page after an action until it is quiet; return the last signatures.

    Quiet: nothing changed for ``quiet_ms`` after a change, or nothing at all within
    ``first_ms``; never while a request started since the action is pending or something shows
    ``aria-busy``; never longer than ``max_ms``.
    """
    started = time.monotonic()
    last = _shape(before)
    current = before
    changed_at: float | None = None
    while True:
        _tick(page, _TICK_MS)
        looked_at = time.monotonic()
        current = _signatures(page)
        now = time.monotonic()
        # A loaded machine answers slowly: the first wait grows with the time a look takes.
        first_ms = max(first_ms, int(_SLOW_FACTOR * (now - looked_at) * 1000))
        shape = _shape(current)
        if shape != last:
            last, changed_at = shape, now
        elapsed_ms = (now - started) * 1000
        if elapsed_ms >= max_ms:
            return current
        if net.busy_since(since) or any(s.get("busy") for s in current.values()):
            continue
        if changed_at is None:
            if elapsed_ms >= first_ms:
                return current
        elif (now - changed_at) * 1000 >= quiet_ms:
            return current


def _find(frame: Frame, *, consent: bool) -> tuple[list[ElementHandle], list[dict]]:
    config = {
        "consent": consent,
        "seenKey": _SEEN_KEY,
        "hints": list(CONSENT_CONTAINER_HINTS),
        "consentText": CONSENT_TEXT_PATTERN,
        "managers": [
            {
                "name": cmp.name,
                "containers": list(cmp.containers),
                "refuse": list(cmp.refuse),
                "accept": list(cmp.accept),
                "frame_hints": list(cmp.frame_hints),
            }
            for cmp in CONSENT_MANAGERS
        ],
        "preference": list(CONSENT_PREFERENCE),
        "phrases": {choice: list(phrases) for choice, phrases in CONSENT_BUTTON_PHRASES.items()},
        "more": list(LOAD_MORE_PHRASES),
        "expand": list(EXPAND_PHRASES),
        "expandPatterns": list(EXPAND_PATTERNS),
        "repeatable": list(REPEATABLE_EXPAND_PHRASES),
        "tabPatterns": list(REVIEW_TAB_PATTERNS),
    }
    handle = frame.evaluate_handle(_FIND_JS, config)
    try:
        meta = handle.get_property("meta").json_value()
        els_handle = handle.get_property("els")
        properties = els_handle.get_properties()
        elements = [
            prop.as_element()
            for _name, prop in sorted(properties.items(), key=lambda kv: int(kv[0]))
        ]
        els_handle.dispose()
    finally:
        handle.dispose()
    pairs = [(el, info) for el, info in zip(elements, meta, strict=False) if el is not None]
    return [el for el, _ in pairs], [info for _, info in pairs]


def _click(
    *,
    page: Page,
    frame: Frame,
    element: ElementHandle,
    info: dict,
    log: ActionLog,
    purpose: str,
    click_timeout_s: float,
    extra: dict | None = None,
) -> str | None:
    """Click one element and log it; return "ok", "not-followed" (navigation cancelled) or None."""
    described = element.evaluate(_DESCRIBE_JS)
    url_before = _without_fragment(page.url)
    guarded = bool(info.get("navigates"))
    if guarded:
        element.evaluate(_NAV_GUARD_JS)
    method = "souris"
    try:
        element.click(timeout=click_timeout_s * 1000)
    except PlaywrightError as exc:
        # Covered by another layer or never "stable": the DOM click the page's script receives.
        try:
            element.evaluate("(el) => el.click()")
        except PlaywrightError:
            log.record(
                "click-failed",
                purpose=purpose,
                frame=frame.url,
                error=_first_line(exc),
                **{k: v for k, v in described.items() if k != "shadow_root"},
            )
            return None
        method = "click() DOM"
    detail = {k: v for k, v in described.items() if k != "shadow_root"}
    if described.get("shadow_root"):
        detail["shadow_root"] = True
    if frame != page.main_frame:
        detail["frame_kind"] = _frame_kind(page, frame)
    if method != "souris":
        detail["method"] = method
    log.record("click", purpose=purpose, frame=frame.url, **detail, **(extra or {}))
    verdict = "ok"
    if guarded:
        try:
            if frame.evaluate(_NAV_GUARD_READ_JS) == "prevented":
                verdict = "not-followed"
                log.record(
                    "link-not-followed",
                    frame=frame.url,
                    selector=described["selector"],
                    reason="lien vers une autre adresse, non géré par le script de la page",
                )
        except PlaywrightError:
            pass
    if _without_fragment(page.url) != url_before:
        log.record("navigation-after-click", from_url=url_before, to_url=page.url)
    return verdict


def shadow_root_texts(frame: Frame) -> list[tuple[str, str]]:
    """Visible text held in the open shadow roots of a frame (``innerText`` skips them)."""
    try:
        found = frame.evaluate(_SHADOW_TEXT_JS)
    except PlaywrightError:
        return []
    return [(item["host"], item["text"]) for item in found]
