"""Answering consent banners by a click, refusal preferred (see the package docstring)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from playwright.sync_api import ElementHandle, Frame, Page
from playwright.sync_api import Error as PlaywrightError

from evidence.behaviors.page import (
    _SEEN_KEY,
    _TICK_MS,
    ActionLog,
    _click,
    _find,
    _first_line,
    _frame_kind,
    _frames,
    _Network,
    _settle,
    _signatures,
    _tick,
)
from evidence.behaviors.rules import CONSENT_PREFERENCE
from evidence.behaviors.scripts import _DESCRIBE_JS, _MARK_SEEN_JS, _STILL_MATCHES_JS

GENERIC_BANNER = "bouton générique"
CONSENT_SCREENSHOT = "consent-banner.png"
# Content often arrives on a timer after the answer (450 ms seen on CMP-gated widgets): the
# banner vanishing is a change, so the quiet window after it must outlast such timers.
_CONSENT_QUIET_MS = 800
_CONSENT_FIRST_MS = 800
_CONSENT_MAX_MS = 3000
_CONSENT_GONE_MS = 1500


def _banner_screenshot(*, page: Page, log: ActionLog, index: int) -> str | None:
    name = CONSENT_SCREENSHOT if index == 1 else f"consent-banner-{index}.png"
    path = log.path.parent / name
    try:
        path.write_bytes(page.screenshot(full_page=False, timeout=10_000))
    except PlaywrightError as exc:
        log.record("consent-screenshot-failed", error=_first_line(exc))
        return None
    return f"{log.path.parent.name}/{name}"


def _still_shown(element: ElementHandle) -> bool:
    try:
        return element.evaluate(_STILL_MATCHES_JS) is not None
    except PlaywrightError:
        return False


@dataclass(frozen=True)
class _Banner:
    frame: Frame
    element: ElementHandle  # the button chosen
    info: dict  # what the page script found out about it (choice, manager, how)
    candidates: list[ElementHandle]  # every button the banner offers


def _banner_find(*, page: Page, log: ActionLog) -> _Banner | None:
    """The preferred button of the first frame showing a consent banner (refusal first)."""
    for frame in _frames(page):
        try:
            elements, infos = _find(frame, consent=True)
        except PlaywrightError as exc:
            log.record("consent-search-failed", frame=frame.url, error=_first_line(exc))
            continue
        ranked = sorted(
            range(len(elements)),
            key=lambda i: (
                CONSENT_PREFERENCE.index(infos[i]["choice"]),  # noqa: B023 - used at once
                infos[i]["cmp"] is None,  # noqa: B023 - used at once
                i,
            ),
        )
        if ranked:
            best = ranked[0]
            return _Banner(
                frame=frame, element=elements[best], info=infos[best], candidates=elements
            )
        for element in elements:
            element.dispose()
    return None


def _banner_answer(
    *,
    page: Page,
    net: _Network,
    log: ActionLog,
    banner: _Banner,
    index: int,
    click_timeout_s: float,
) -> str | None:
    """Keep the banner as seen, click its button and wait until the page is quiet."""
    frame, element, info = banner.frame, banner.element, banner.info
    screenshot = _banner_screenshot(page=page, log=log, index=index)
    shadow = bool(element.evaluate(_DESCRIBE_JS).get("shadow_root"))
    log.record(
        "consent-banner",
        cmp=info["cmp"] or GENERIC_BANNER,
        choice=info["choice"],
        found_by=info["via"],
        frame=frame.url,
        frame_kind=_frame_kind(page, frame),
        shadow_root=shadow,
        screenshot=screenshot,
    )
    # Everything offered by this banner is "seen": a fading banner is not answered twice.
    for candidate in banner.candidates:
        try:
            candidate.evaluate(_MARK_SEEN_JS, _SEEN_KEY)
        except PlaywrightError:
            continue
    since, before = time.monotonic(), _signatures(page)
    verdict = _click(
        page=page,
        frame=frame,
        element=element,
        info=info,
        log=log,
        purpose=f"consent-{info['choice']}",
        click_timeout_s=click_timeout_s,
        extra={"cmp": info["cmp"] or GENERIC_BANNER},
    )
    _settle(
        page=page,
        net=net,
        since=since,
        before=before,
        first_ms=_CONSENT_FIRST_MS,
        quiet_ms=_CONSENT_QUIET_MS,
        max_ms=_CONSENT_MAX_MS,
    )
    return verdict


def _banner_wait_gone(*, page: Page, log: ActionLog, banner: _Banner) -> None:
    """Give the banner time to go; one that stays (a wall) offers its other buttons again."""
    deadline = time.monotonic() + _CONSENT_GONE_MS / 1000
    while _still_shown(banner.element) and time.monotonic() < deadline:
        _tick(page, _TICK_MS)
    if _still_shown(banner.element):
        # The banner stayed (a wall): its other buttons may be tried in the next round.
        for candidate in banner.candidates:
            if candidate != banner.element:
                try:
                    candidate.evaluate("(el, key) => self[Symbol.for(key)].delete(el)", _SEEN_KEY)
                except PlaywrightError:
                    continue
        log.record("consent-banner-still-shown", frame=banner.frame.url)


def consent_click(
    *, page: Page, log: ActionLog, click_timeout_s: float = 3.0, max_banners: int = 3
) -> str | None:
    """Answer the consent banner(s), preferring refusal; return the last choice made.

    Searches every frame and open shadow root. Before each click the viewport is kept as
    ``provenance/consent-banner.png`` and a ``consent-banner`` entry names the manager (or
    « bouton générique »), the frame and the choice. A banner still there after a refusal (a
    cookie wall) is answered again, up to ``max_banners`` times.
    """
    net = _Network(page)
    choice_made: str | None = None
    try:
        for index in range(1, max_banners + 1):
            banner = _banner_find(page=page, log=log)
            if banner is None:
                break
            verdict = _banner_answer(
                page=page,
                net=net,
                log=log,
                banner=banner,
                index=index,
                click_timeout_s=click_timeout_s,
            )
            if verdict is not None:
                choice_made = banner.info["choice"]
            _banner_wait_gone(page=page, log=log, banner=banner)
            for candidate in banner.candidates:
                candidate.dispose()
    finally:
        net.close()
    if choice_made is None:
        log.record("consent-none", detail="aucun bandeau de consentement reconnu")
    return choice_made
