"""Revealing hidden content: review tabs, "load more" controls and expanders, in every frame."""

from __future__ import annotations

import time

from django.conf import settings
from playwright.sync_api import ElementHandle, Frame, Page
from playwright.sync_api import Error as PlaywrightError

from evidence.behaviors.page import (
    _SEEN_KEY,
    ActionLog,
    _click,
    _find,
    _first_line,
    _frames,
    _Network,
    _settle,
    _signatures,
)
from evidence.behaviors.scripts import _MARK_SEEN_JS, _STILL_MATCHES_JS
from evidence.behaviors.scroll import _scroll_until_stable

# Defaults when Django settings are not configured (the capture also runs outside Django).
DEFAULT_EXPAND_MAX_CLICKS = 60
DEFAULT_INTERACT_BUDGET_S = 45.0
_CLICK_FIRST_MS = 1500
_CLICK_QUIET_MS = 200
_CLICK_MAX_MS = 6000
_EXPAND_FIRST_MS = 300
_KIND_ORDER = {"tab": 0, "more": 1, "expand": 2}


def interaction_limits() -> tuple[int, float]:
    """(maximum clicks, time budget in seconds) of ``content_expand``, from the settings."""
    if settings.configured:
        return (
            int(getattr(settings, "EGIDE_CAPTURE_EXPAND_MAX_CLICKS", DEFAULT_EXPAND_MAX_CLICKS)),
            float(getattr(settings, "EGIDE_CAPTURE_INTERACT_BUDGET_S", DEFAULT_INTERACT_BUDGET_S)),
        )
    return DEFAULT_EXPAND_MAX_CLICKS, DEFAULT_INTERACT_BUDGET_S


def _activate(
    *,
    page: Page,
    frame: Frame,
    element: ElementHandle,
    info: dict,
    net: _Network,
    log: ActionLog,
    click_timeout_s: float,
    clicks_left: int,
    deadline: float,
) -> int:
    """Click a content control; a repeatable one again while each click adds content."""
    clicks = 0
    while clicks < clicks_left and time.monotonic() < deadline:
        if not info.get("repeat"):
            element.evaluate(_MARK_SEEN_JS, _SEEN_KEY)
        since, before = time.monotonic(), _signatures(page)
        verdict = _click(
            page=page,
            frame=frame,
            element=element,
            info=info,
            log=log,
            purpose=info["purpose"],
            click_timeout_s=click_timeout_s,
        )
        if verdict is None:
            element.evaluate(_MARK_SEEN_JS, _SEEN_KEY)
            return clicks
        clicks += 1
        if info["kind"] == "expand" and not info.get("repeat"):
            return clicks  # settled once for all the expanders of the frame
        after = _settle(
            page=page,
            net=net,
            since=since,
            before=before,
            first_ms=_CLICK_FIRST_MS,
            quiet_ms=_CLICK_QUIET_MS,
            max_ms=min(_CLICK_MAX_MS, max(0.0, deadline - time.monotonic()) * 1000),
        )
        again = (
            info.get("repeat")
            and verdict == "ok"
            and any(
                after[key]["count"] > old["count"] for key, old in before.items() if key in after
            )
        )
        try:
            label_now = element.evaluate(_STILL_MATCHES_JS)
        except PlaywrightError:
            label_now = None
        if not again or label_now != info["label"]:
            if label_now is not None:
                element.evaluate(_MARK_SEEN_JS, _SEEN_KEY)
            return clicks
    return clicks


def _frame_expand(
    *,
    page: Page,
    frame: Frame,
    net: _Network,
    log: ActionLog,
    click_timeout_s: float,
    clicks_left: int,
    deadline: float,
) -> int:
    """Click one frame's content controls (tabs, "load more", expanders); return the clicks."""
    try:
        elements, infos = _find(frame, consent=False)
    except PlaywrightError as exc:
        log.record("expand-search-failed", frame=frame.url, error=_first_line(exc))
        return 0
    order = sorted(range(len(elements)), key=lambda i: (_KIND_ORDER[infos[i]["kind"]], i))
    since, before = time.monotonic(), _signatures(page)
    clicked = 0
    expanded = 0
    for i in order:
        if clicked >= clicks_left or time.monotonic() >= deadline:
            break
        try:
            done = _activate(
                page=page,
                frame=frame,
                element=elements[i],
                info=infos[i],
                net=net,
                log=log,
                click_timeout_s=click_timeout_s,
                clicks_left=clicks_left - clicked,
                deadline=deadline,
            )
        except PlaywrightError as exc:
            log.record("click-failed", frame=frame.url, error=_first_line(exc))
            continue
        clicked += done
        if infos[i]["kind"] == "expand" and not infos[i].get("repeat"):
            expanded += done
    if expanded:
        _settle(
            page=page,
            net=net,
            since=since,
            before=before,
            first_ms=_EXPAND_FIRST_MS,
            quiet_ms=_CLICK_QUIET_MS,
            max_ms=min(_CLICK_MAX_MS, max(0.0, deadline - time.monotonic()) * 1000),
        )
    for element in elements:
        element.dispose()
    return clicked


def content_expand(
    *,
    page: Page,
    log: ActionLog,
    max_clicks: int | None = None,
    budget_s: float | None = None,
    click_timeout_s: float = 3.0,
) -> int:
    """Reveal what review pages hide, in every frame; return the number of clicks.

    Rounds of: review tabs, "load more" controls (again while they add content) and expanders;
    then scrolling every frame to the bottom until the page stops growing. Stops when a round
    changes nothing, after ``max_clicks`` clicks or when ``budget_s`` is spent (defaults from
    ``EGIDE_CAPTURE_EXPAND_MAX_CLICKS`` / ``EGIDE_CAPTURE_INTERACT_BUDGET_S``).
    """
    default_clicks, default_budget = interaction_limits()
    max_clicks = default_clicks if max_clicks is None else max_clicks
    budget_s = default_budget if budget_s is None else budget_s
    started = time.monotonic()
    deadline = started + budget_s
    net = _Network(page)
    total = 0
    stopped = "page stable"
    try:
        while True:
            if time.monotonic() >= deadline:
                stopped = "budget de temps atteint"
                break
            if total >= max_clicks:
                stopped = "nombre maximal de clics atteint"
                break
            clicked = 0
            for frame in _frames(page):
                clicked += _frame_expand(
                    page=page,
                    frame=frame,
                    net=net,
                    log=log,
                    click_timeout_s=click_timeout_s,
                    clicks_left=max_clicks - total - clicked,
                    deadline=deadline,
                )
            total += clicked
            grew = _scroll_until_stable(page=page, net=net, log=log, deadline=deadline)
            if not clicked and not grew:
                break
    finally:
        net.close()
    log.record(
        "expand-done",
        clicks=total,
        duration_s=round(time.monotonic() - started, 3),
        stopped=stopped,
        max_clicks=max_clicks,
        budget_s=budget_s,
    )
    return total
