"""Interactions that reveal a page's content before it is fixed as evidence.

Review pages hide what matters: reviews load only when scrolled to, long reviews are cut behind
"lire la suite", and consent banners cover everything until a choice is made. A constat
describes each step the officer took; so does this module: every scroll, click and wait is
written to ``provenance/actions.jsonl`` with its UTC time.

- Scrolling uses Webrecorder's ``browsertrix-behaviors`` (vendored unmodified under
  ``static_js/``, AGPL-3.0) — the autoscroll that Browsertrix and ArchiveWeb.page use. If it
  cannot run, a bounded scroll loop of our own takes over, and the log says so.
- Consent banners are *clicked* (refusal preferred, then acceptance), never hidden with CSS:
  hiding would alter the page being recorded.
- Expanders are clicked only when they cannot navigate away (buttons, ``role=button``,
  ``summary``, links to ``#``), so the page being captured stays the page asked for.

The phrase lists are data: extend them, not the code.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, Page

from evidence.prechecks import iso_utc, utc_now

BEHAVIORS_JS_PATH = Path(__file__).parent / "static_js" / "browsertrix-behaviors" / "behaviors.js"
BEHAVIORS_NAME = "browsertrix-behaviors"
BEHAVIORS_VERSION = "0.8.4"

# Button labels of consent banners, by choice; CONSENT_PREFERENCE says which choice to try first.
CONSENT_BUTTON_PHRASES: dict[str, tuple[str, ...]] = {
    "refuse": (
        "tout refuser",
        "refuser tout",
        "refuser",
        "je refuse",
        "refuser et fermer",
        "continuer sans accepter",
        "reject all",
        "refuse all",
        "decline",
        "reject",
    ),
    "accept": (
        "tout accepter",
        "accepter tout",
        "accepter",
        "j'accepte",
        "accepter et fermer",
        "accepter et continuer",
        "accept all",
        "accept",
        "i agree",
        "agree",
        "j'ai compris",
        "ok",
    ),
}
CONSENT_PREFERENCE: tuple[str, ...] = ("refuse", "accept")

# A consent button counts only inside something that looks like a consent banner.
CONSENT_CONTAINER_HINTS: tuple[str, ...] = (
    "cookie",
    "consent",
    "gdpr",
    "rgpd",
    "didomi",
    "onetrust",
    "axeptio",
    "tarteaucitron",
    "usercentrics",
    "sp_message",
    "qc-cmp",
    "cmp",
    "traceurs",
)

EXPAND_PHRASES: tuple[str, ...] = (
    "lire la suite",
    "lire plus",
    "en lire plus",
    "voir plus",
    "voir la suite",
    "afficher plus",
    "afficher la suite",
    "voir l'avis complet",
    "afficher l'avis complet",
    "plus de détails",
    "read more",
    "show more",
    "see more",
)

# Finds candidate elements in one frame. Labels are compared after lower-casing, unifying
# apostrophes and trimming punctuation/arrows/ellipses at both ends.
_FIND_JS = """
([mode, phrases, hints, seenKey]) => {
  const seen = (self[Symbol.for(seenKey)] ||= new WeakSet());
  const norm = (s) => (s || '').toLowerCase().replace(/[\\u2019\\u02bc]/g, "'")
      .replace(/\\s+/g, ' ').replace(/^[^\\p{L}\\p{N}]+|[^\\p{L}\\p{N}]+$/gu, '');
  const label = (el) => norm(el.tagName === 'INPUT' ? el.value : (el.innerText || el.textContent));
  const visible = (el) => {
    if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true})) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const consentContainer = (el) => {
    let node = el;
    for (let depth = 0; node && depth < 10; depth++, node = node.parentElement) {
      const names = [node.id, typeof node.className === 'string' ? node.className : '',
                     node.getAttribute && node.getAttribute('aria-label')].join(' ').toLowerCase();
      if (hints.some((h) => names.includes(h))) return true;
      const role = node.getAttribute && node.getAttribute('role');
      if ((role === 'dialog' || role === 'alertdialog') &&
          /cookie|consent|traceur/i.test(node.textContent || '')) return true;
    }
    return false;
  };
  const navigates = (el) => {
    if (el.tagName !== 'A') return false;
    const href = (el.getAttribute('href') || '').trim();
    return !(href === '' || href.startsWith('#') || href.toLowerCase().startsWith('javascript:'));
  };
  const selector = mode === 'consent'
    ? 'button, [role=button], a, input[type=button], input[type=submit]'
    : 'button, [role=button], a, summary, input[type=button]';
  const found = [];
  for (const el of document.querySelectorAll(selector)) {
    if (seen.has(el) || el.disabled || !visible(el)) continue;
    if (!phrases.includes(label(el))) continue;
    if (mode === 'consent') {
      if (!consentContainer(el)) continue;
    } else {
      if (navigates(el) || el.getAttribute('aria-expanded') === 'true') continue;
      if (el.tagName === 'SUMMARY' && el.parentElement && el.parentElement.open) continue;
    }
    found.push(el);
  }
  return found;
}
"""

_MARK_SEEN_JS = "(el, seenKey) => { (self[Symbol.for(seenKey)] ||= new WeakSet()).add(el); }"

_DESCRIBE_JS = """
(el) => {
  const path = [];
  for (let node = el; node && node.nodeType === 1 && path.length < 6; node = node.parentElement) {
    let part = node.tagName.toLowerCase();
    if (node.id) { path.unshift(part + '#' + node.id); break; }
    const parent = node.parentElement;
    if (parent) {
      const same = [...parent.children].filter((c) => c.tagName === node.tagName);
      if (same.length > 1) part += ':nth-of-type(' + (same.indexOf(node) + 1) + ')';
    }
    path.unshift(part);
  }
  const text = (el.tagName === 'INPUT' ? el.value : (el.innerText || el.textContent)) || '';
  return {selector: path.join(' > '), text: text.trim().replace(/\\s+/g, ' ').slice(0, 120)};
}
"""

_SEEN_KEY = "egide.behaviors.seen"


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


@cache
def behaviors_js() -> str:
    return BEHAVIORS_JS_PATH.read_text(encoding="utf-8")


@cache
def behaviors_js_sha256() -> str:
    return hashlib.sha256(BEHAVIORS_JS_PATH.read_bytes()).hexdigest()


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def _click_candidates(
    *,
    page: Page,
    frame: Frame,
    mode: str,
    phrases: tuple[str, ...],
    log: ActionLog,
    purpose: str,
    limit: int,
    click_timeout_s: float,
) -> int:
    """Click every matching element of one frame (at most ``limit``); return how many."""
    handles = frame.evaluate_handle(
        _FIND_JS, [mode, list(phrases), list(CONSENT_CONTAINER_HINTS), _SEEN_KEY]
    )
    elements = [
        prop.as_element()
        for _name, prop in sorted(handles.get_properties().items(), key=lambda kv: int(kv[0]))
    ]
    handles.dispose()
    clicked = 0
    for element in elements:
        if element is None or clicked >= limit:
            continue
        element.evaluate(_MARK_SEEN_JS, _SEEN_KEY)
        described = element.evaluate(_DESCRIBE_JS)
        url_before = _without_fragment(page.url)
        try:
            element.click(timeout=click_timeout_s * 1000)
        except PlaywrightError as exc:
            log.record(
                "click-failed",
                purpose=purpose,
                frame=frame.url,
                error=str(exc).splitlines()[0],
                **described,
            )
            continue
        clicked += 1
        log.record("click", purpose=purpose, frame=frame.url, **described)
        if _without_fragment(page.url) != url_before:
            log.record("navigation-after-click", from_url=url_before, to_url=page.url)
    return clicked


def consent_click(*, page: Page, log: ActionLog, click_timeout_s: float = 3.0) -> str | None:
    """Click one button of a consent banner, preferring refusal; return the choice made."""
    for choice in CONSENT_PREFERENCE:
        phrases = CONSENT_BUTTON_PHRASES[choice]
        for frame in page.frames:
            try:
                clicked = _click_candidates(
                    page=page,
                    frame=frame,
                    mode="consent",
                    phrases=phrases,
                    log=log,
                    purpose=f"consent-{choice}",
                    limit=1,
                    click_timeout_s=click_timeout_s,
                )
            except PlaywrightError as exc:
                log.record("consent-search-failed", frame=frame.url, error=str(exc).splitlines()[0])
                continue
            if clicked:
                page.wait_for_timeout(300)
                return choice
    log.record("consent-none", detail="aucun bandeau de consentement reconnu")
    return None


def content_expand(
    *,
    page: Page,
    log: ActionLog,
    max_clicks: int = 100,
    rounds: int = 3,
    click_timeout_s: float = 3.0,
) -> int:
    """Click "lire la suite"/"voir plus" expanders in every frame, a few rounds; return count."""
    total = 0
    for _round in range(rounds):
        clicked_this_round = 0
        for frame in page.frames:
            try:
                clicked_this_round += _click_candidates(
                    page=page,
                    frame=frame,
                    mode="expand",
                    phrases=EXPAND_PHRASES,
                    log=log,
                    purpose="expand",
                    limit=max_clicks - total - clicked_this_round,
                    click_timeout_s=click_timeout_s,
                )
            except PlaywrightError as exc:
                log.record("expand-search-failed", frame=frame.url, error=str(exc).splitlines()[0])
        total += clicked_this_round
        if not clicked_this_round or total >= max_clicks:
            break
        page.wait_for_timeout(250)
    log.record("expand-done", clicks=total)
    return total


_RUN_BEHAVIORS_JS = """
async (opts) => {
  const messages = [];
  self.__egide_bx_log = (entry) => {
    const data = entry && entry.data !== undefined ? entry.data : entry;
    const msg = typeof data === 'string' ? data : (data && data.msg) || JSON.stringify(data);
    const last = messages[messages.length - 1];
    if (last && last.msg === msg) { last.count += 1; return; }
    if (messages.length < 200) messages.push({at: new Date().toISOString(), msg, count: 1});
  };
  self.__bx_behaviors.init({...opts, log: '__egide_bx_log'});
  await self.__bx_behaviors.run();
  return messages;
}
"""

_SCROLL_STEP_JS = """
() => {
  const el = document.scrollingElement || document.documentElement;
  const before = el.scrollTop;
  window.scrollBy(0, Math.max(100, Math.floor(window.innerHeight * 0.8)));
  return {before, after: el.scrollTop, height: el.scrollHeight};
}
"""


def autoscroll_run(*, page: Page, log: ActionLog, timeout_s: float = 30.0) -> str:
    """Scroll the page so lazy content loads; return the engine that did it."""
    started = time.monotonic()
    log.record(
        "scroll-start",
        engine=f"{BEHAVIORS_NAME} {BEHAVIORS_VERSION}",
        script_sha256=behaviors_js_sha256(),
        timeout_s=timeout_s,
    )
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
