"""Scrolling so lazy content loads: our own pass, then Webrecorder's browsertrix-behaviors."""

from __future__ import annotations

import contextlib
import hashlib
import time
from functools import cache
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from evidence.behaviors.page import ActionLog, _frames, _grew, _Network, _settle, _signatures
from evidence.behaviors.scripts import _RUN_BEHAVIORS_JS, _SCROLL_DOWN_JS, _SCROLL_STEP_JS

BEHAVIORS_JS_PATH = (
    Path(__file__).parent.parent / "static_js" / "browsertrix-behaviors" / "behaviors.js"
)
BEHAVIORS_NAME = "browsertrix-behaviors"
BEHAVIORS_VERSION = "0.8.4"
_SCROLL_FIRST_MS = 100
_SCROLL_QUIET_MS = 250
_SCROLL_MAX_MS = 8000
_SCROLL_STEPS_PER_ROUND = 400
_MAX_SCROLL_ROUNDS = 200


@cache
def behaviors_js() -> str:
    return BEHAVIORS_JS_PATH.read_text(encoding="utf-8")


@cache
def behaviors_js_sha256() -> str:
    return hashlib.sha256(BEHAVIORS_JS_PATH.read_bytes()).hexdigest()


def _scroll_until_stable(*, page: Page, net: _Network, log: ActionLog, deadline: float) -> bool:
    """Scroll every frame and scrollable box to the bottom until the page stops growing."""
    started = time.monotonic()
    rounds = 0
    grew = False
    steps = 0
    while time.monotonic() < deadline and rounds < _MAX_SCROLL_ROUNDS:
        rounds += 1
        since, before = time.monotonic(), _signatures(page)
        moved = False
        for frame in _frames(page):
            try:
                done = frame.evaluate(_SCROLL_DOWN_JS, _SCROLL_STEPS_PER_ROUND)
            except PlaywrightError:
                continue
            steps += done["steps"]
            moved = moved or done["moved"]
        if not moved and not net.busy_since(since):
            break  # nothing new came into view: nothing to wait for
        after = _settle(
            page=page,
            net=net,
            since=since,
            before=before,
            first_ms=_SCROLL_FIRST_MS,
            quiet_ms=_SCROLL_QUIET_MS,
            max_ms=min(_SCROLL_MAX_MS, max(0.0, deadline - time.monotonic()) * 1000),
        )
        if not _grew(before, after):
            break
        grew = True
    log.record(
        "scroll-stable",
        rounds=rounds,
        steps=steps,
        grew=grew,
        duration_s=round(time.monotonic() - started, 3),
    )
    return grew


SCROLL_ENGINE_OWN = "egide-scroll"


def autoscroll_run(*, page: Page, log: ActionLog, timeout_s: float = 30.0) -> str:
    """Scroll the page so lazy content loads; return the engine that did it."""
    started = time.monotonic()
    log.record(
        "scroll-start",
        engine=f"{BEHAVIORS_NAME} {BEHAVIORS_VERSION}",
        script_sha256=behaviors_js_sha256(),
        timeout_s=timeout_s,
    )
    # Our own pass first: scroll every frame by whole screens and wait only while the page
    # loads, until it stops growing. The engine's pass then finds the content already there
    # instead of crawling down 30 px every 75 ms.
    net = _Network(page)
    try:
        grew = _scroll_until_stable(page=page, net=net, log=log, deadline=started + timeout_s)
    finally:
        net.close()
    if not grew:
        # Every frame was scrolled to the bottom and nothing came: the engine would only
        # repeat that check after a fixed half-second wait.
        height = page.evaluate(
            "(document.scrollingElement || document.documentElement).scrollHeight"
        )
        log.record(
            "scroll-done",
            engine=SCROLL_ENGINE_OWN,
            duration_s=round(time.monotonic() - started, 3),
            page_height_px=height,
            messages=[
                {"msg": f"{BEHAVIORS_NAME} non lancé : la page ne s'allonge pas au défilement"}
            ],
        )
        return SCROLL_ENGINE_OWN
    # From the top, the engine checks at once that the page no longer grows (from the
    # bottom it would crawl back up).
    with contextlib.suppress(PlaywrightError):
        page.evaluate("window.scrollTo(0, 0)")
    try:
        page.evaluate(behaviors_js())
        messages = page.evaluate(
            _RUN_BEHAVIORS_JS,
            {
                "autoscroll": True,
                "autoplay": False,
                "autofetch": False,
                "autoclick": False,
                "siteSpecific": False,
                "timeout": int(timeout_s * 1000),
            },
        )
    except PlaywrightError as exc:
        log.record(
            "scroll-engine-failed",
            engine=BEHAVIORS_NAME,
            error=str(exc).splitlines()[0],
        )
        fallback_scroll(page=page, log=log, timeout_s=timeout_s)
        return "fallback"
    height = page.evaluate("(document.scrollingElement || document.documentElement).scrollHeight")
    log.record(
        "scroll-done",
        engine=BEHAVIORS_NAME,
        duration_s=round(time.monotonic() - started, 3),
        page_height_px=height,
        messages=messages,
    )
    return BEHAVIORS_NAME


def fallback_scroll(
    *, page: Page, log: ActionLog, timeout_s: float = 30.0, step_wait_ms: int = 250
) -> None:
    """Scroll by 80 % of the viewport until the bottom stays put twice or time runs out."""
    deadline = time.monotonic() + timeout_s
    steps = 0
    still = 0
    while time.monotonic() < deadline and still < 2:
        state = page.evaluate(_SCROLL_STEP_JS)
        steps += 1
        page.wait_for_timeout(step_wait_ms)
        still = still + 1 if state["after"] == state["before"] else 0
    log.record("scroll-done", engine="fallback", steps=steps)


def scroll_to_top(*, page: Page, log: ActionLog) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    log.record("scroll-top")
