"""Interactions that reveal a page's content before it is fixed as evidence.

Review pages hide what matters: reviews load only when scrolled to (scroll listeners or
``IntersectionObserver`` sentinels), sit behind an « Avis (7) » tab or a « Voir plus d'avis »
button, are cut behind « lire la suite », live in a widget inside an iframe or a shadow root, and
consent banners cover everything until a choice is made. A constat describes each step the
officer took; so does this module: every scroll, click and wait is written to
``provenance/actions.jsonl`` with its UTC time.

- Scrolling uses Webrecorder's ``browsertrix-behaviors`` (vendored unmodified under
  ``static_js/``, AGPL-3.0) — the autoscroll that Browsertrix and ArchiveWeb.page use. If it
  cannot run, a bounded scroll loop of our own takes over, and the log says so. Browsertrix skips
  pages without scroll listeners, so ``content_expand`` then scrolls every frame (and every
  scrollable box) step by step to the bottom until the page stops growing: that is what fires
  ``IntersectionObserver`` sentinels.
- Consent banners are *clicked*, never hidden with CSS: hiding would alter the page being
  recorded. They are searched in the page, in every frame (same- and cross-origin) and inside
  open shadow roots: first the consent managers common in France (``CONSENT_MANAGERS``: their
  own containers and buttons), then any button, link, ``role=button`` or clickable text whose
  label is a known consent phrase inside something that looks like a banner. **Refusal is
  preferred** (the capture should not consent on anyone's behalf and the content shows either
  way); acceptance is clicked only when no refusal is offered or when the banner is still there
  after refusing (a "cookie wall"). « Continuer sans accepter » is a refusal, never an
  acceptance; « Continuer » alone counts as acceptance. The banner as seen is kept before the
  click (``provenance/consent-banner.png``), and the log names the manager (or « bouton
  générique »), the frame and whether the button sat in a shadow root.
- « Voir plus d'avis » / « Afficher les avis suivants » controls are clicked again while each
  click adds content; review tabs (« Avis (7) ») and expanders (« Lire la suite », « … plus »)
  once. Expanders and tabs are clicked only when they cannot navigate away (buttons,
  ``role=button``, ``summary``, links to ``#``); a "load more" *link* with a real address is
  clicked with the navigation cancelled unless the page's own script handles the click
  (``link-not-followed`` in the log), so the page captured stays the page asked for.
- No fixed pauses: after each action the page is watched (DOM mutations in the page, network
  requests started since the action, ``aria-busy``) until it is quiet, each wait bounded. The
  whole step is bounded by ``EGIDE_CAPTURE_INTERACT_BUDGET_S`` and
  ``EGIDE_CAPTURE_EXPAND_MAX_CLICKS``.

The phrase lists and the consent-manager table are data: extend them, not the code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from playwright.sync_api import ElementHandle, Frame, Page, Request
from playwright.sync_api import Error as PlaywrightError

from evidence.prechecks import iso_utc, utc_now

BEHAVIORS_JS_PATH = Path(__file__).parent / "static_js" / "browsertrix-behaviors" / "behaviors.js"
BEHAVIORS_NAME = "browsertrix-behaviors"
BEHAVIORS_VERSION = "0.8.4"

GENERIC_BANNER = "bouton générique"
CONSENT_SCREENSHOT = "consent-banner.png"

# Defaults when Django settings are not configured (the capture also runs outside Django).
DEFAULT_EXPAND_MAX_CLICKS = 60
DEFAULT_INTERACT_BUDGET_S = 45.0


@dataclass(frozen=True)
class ConsentManager:
    """A consent manager (CMP): where its banner lives and which of its buttons refuse/accept.

    ``containers`` are CSS selectors of its banner (searched in the document and in open shadow
    roots); ``frame_hints`` are substrings of the URL of an iframe that *is* its banner.
    ``refuse``/``accept`` are searched inside the banner only. When none matches, the banner's
    buttons are read by their labels (``CONSENT_BUTTON_PHRASES``).
    """

    name: str
    containers: tuple[str, ...]
    refuse: tuple[str, ...] = ()
    accept: tuple[str, ...] = ()
    frame_hints: tuple[str, ...] = ()


CONSENT_MANAGERS: tuple[ConsentManager, ...] = (
    ConsentManager(
        "Didomi",
        containers=("#didomi-host", "#didomi-notice", "#didomi-popup"),
        refuse=("#didomi-notice-disagree-button", ".didomi-continue-without-agreeing"),
        accept=("#didomi-notice-agree-button",),
    ),
    ConsentManager(
        "OneTrust",
        containers=("#onetrust-banner-sdk", "#onetrust-consent-sdk", "#onetrust-pc-sdk"),
        refuse=("#onetrust-reject-all-handler", ".ot-pc-refuse-all-handler"),
        accept=("#onetrust-accept-btn-handler", "#accept-recommended-btn-handler"),
    ),
    ConsentManager(
        "Axeptio",
        containers=("#axeptio_overlay", ".axeptio_widget", ".axeptio_mount"),
        refuse=("#axeptio_btn_dismiss",),
        accept=("#axeptio_btn_acceptAll",),
    ),
    ConsentManager("Sirdata", containers=("#sd-cmp", "[id^='sd-cmp-']")),
    ConsentManager(
        "Cookiebot",
        containers=("#CybotCookiebotDialog",),
        refuse=("#CybotCookiebotDialogBodyButtonDecline",),
        accept=(
            "#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll",
            "#CybotCookiebotDialogBodyButtonAccept",
        ),
    ),
    ConsentManager(
        "Quantcast Choice",
        containers=("#qc-cmp2-container", ".qc-cmp2-container", "#qc-cmp2-ui"),
        accept=(".qc-cmp2-summary-buttons button[mode='primary']",),
    ),
    ConsentManager(
        "Usercentrics",
        containers=("#usercentrics-root", "#usercentrics-cmp-ui"),
        refuse=("[data-testid='uc-deny-all-button']",),
        accept=("[data-testid='uc-accept-all-button']",),
    ),
    ConsentManager(
        "TrustArc",
        containers=("#truste-consent-track", "#truste-consent-content", ".truste_box_overlay"),
        refuse=("#truste-consent-required",),
        accept=("#truste-consent-button",),
        frame_hints=("consent-pref.trustarc.com", "consent.trustarc.com", "/truste/"),
    ),
    ConsentManager(
        "tarteaucitron",
        containers=("#tarteaucitronRoot", "#tarteaucitronAlertBig"),
        refuse=("#tarteaucitronAllDenied2", ".tarteaucitronDeny"),
        accept=("#tarteaucitronPersonalize2", "#tarteaucitronAllAllowed"),
    ),
    ConsentManager(
        "Sourcepoint",
        containers=("[id^='sp_message_container']",),
        refuse=("button.sp_choice_type_13",),
        accept=("button.sp_choice_type_11",),
        frame_hints=("sp_message_iframe", "/privacy-manager", "message_id="),
    ),
    ConsentManager(
        "consentmanager.net",
        containers=("#cmpbox", "#cmpwrapper"),
        refuse=(".cmpboxbtnno",),
        accept=(".cmpboxbtnyes",),
    ),
    ConsentManager(
        "Commanders Act",
        containers=("#footer_tc_privacy", "#popin_tc_privacy"),
    ),
)

# Button labels of consent banners, by choice; CONSENT_PREFERENCE says which choice to try first.
# Labels are compared whole, after lower-casing, unifying apostrophes and trimming punctuation,
# arrows and ellipses at both ends: « Continuer sans accepter → » is a refusal, « Continuer »
# alone an acceptance.
CONSENT_BUTTON_PHRASES: dict[str, tuple[str, ...]] = {
    "refuse": (
        "tout refuser",
        "refuser tout",
        "refuser",
        "je refuse",
        "refuser et fermer",
        "refuser les cookies",
        "refuser tous les cookies",
        "continuer sans accepter",
        "continuer sans consentir",
        "non merci",
        "reject all",
        "refuse all",
        "decline",
        "decline all",
        "reject",
        "continue without accepting",
        "continue without agreeing",
    ),
    "accept": (
        "tout accepter",
        "accepter tout",
        "accepter",
        "j'accepte",
        "accepter et fermer",
        "accepter et continuer",
        "accepter les cookies",
        "accepter tous les cookies",
        "ok pour moi",
        "c'est ok pour moi",
        "ok, j'accepte",
        "oui, j'accepte",
        "continuer",
        "j'ai compris",
        "accept all",
        "accept",
        "accept cookies",
        "accept all cookies",
        "agree and proceed",
        "agree and close",
        "i agree",
        "agree",
        "allow all",
        "got it",
        "ok",
    ),
}
CONSENT_PREFERENCE: tuple[str, ...] = ("refuse", "accept")

# A generic consent button counts only inside something that looks like a consent banner: an
# ancestor named like one, a dialog or a fixed/sticky box speaking of cookies, or a small frame
# speaking of cookies.
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
CONSENT_TEXT_PATTERN = (
    r"cookie|traceur|consentement|consent|rgpd|gdpr|vie privée|privacy|données personnelles"
    r"|partenaires"
)

# Click once: reveal the rest of a text.
EXPAND_PHRASES: tuple[str, ...] = (
    "lire la suite",
    "lire plus",
    "en lire plus",
    "voir plus",
    "voir la suite",
    "afficher plus",
    "afficher la suite",
    "afficher le texte complet",
    "voir l'avis complet",
    "afficher l'avis complet",
    "lire l'avis complet",
    "plus de détails",
    "read more",
    "show more",
    "see more",
)
# Raw labels (lower-cased, trimmed) that are expanders too: « … plus », « ...plus », « + plus ».
EXPAND_PATTERNS: tuple[str, ...] = (r"^(\.\.\.|…|\+)\s*(plus|more|la suite)$",)

# Click again while each click adds elements: more reviews.
LOAD_MORE_PHRASES: tuple[str, ...] = (
    "voir plus d'avis",
    "afficher plus d'avis",
    "charger plus d'avis",
    "plus d'avis",
    "d'autres avis",
    "voir d'autres avis",
    "afficher d'autres avis",
    "charger plus",
    "charger la suite",
    "voir tous les avis",
    "afficher tous les avis",
    "lire tous les avis",
    "tous les avis",
    "avis suivants",
    "afficher les avis suivants",
    "voir les avis suivants",
    "afficher la suite des avis",
    "voir plus de commentaires",
    "afficher plus de commentaires",
    "plus de commentaires",
    "load more",
    "load more reviews",
    "show more reviews",
    "see more reviews",
    "see all reviews",
    "show all reviews",
    "more reviews",
    "next reviews",
)
# Ambiguous expanders (« Voir plus ») are clicked again too while each click adds elements.
REPEATABLE_EXPAND_PHRASES: tuple[str, ...] = ("voir plus", "afficher plus", "show more", "see more")

# Tabs that hold the reviews: « Avis (7) », « Avis 7 », « 7 avis », « Reviews », « Commentaires ».
REVIEW_TAB_PATTERNS: tuple[str, ...] = (
    r"^(les |tous les )?(avis|avis des patients|avis patients|reviews?|commentaires|évaluations"
    r"|evaluations|témoignages|notes et avis|avis clients|opinions)\s*(\(?\s*\d[\d\s.,k]*\)?)?$",
    r"^\d[\d\s.,]*\s+(avis|reviews?|commentaires|évaluations)$",
)

# Request types that never end by themselves: they do not keep the page "busy".
_LONG_LIVED_TYPES = frozenset({"websocket", "eventsource", "media", "ping", "manifest"})

# Helpers shared by the page scripts: open shadow roots, labels, visibility, clickability.
_JS_PRELUDE = r"""
  const allRoots = (start) => {
    const out = [start];
    for (let i = 0; i < out.length; i++) {
      for (const el of out[i].querySelectorAll('*')) if (el.shadowRoot) out.push(el.shadowRoot);
    }
    return out;
  };
  const deepAll = (start, sel) => {
    const found = [];
    const roots = allRoots(start);
    if (start.shadowRoot) roots.push(...allRoots(start.shadowRoot));
    for (const root of roots) {
      try { found.push(...root.querySelectorAll(sel)); } catch (e) { /* invalid selector */ }
    }
    if (start.matches && start.matches(sel)) found.unshift(start);
    return found;
  };
  const up = (n) => n.parentElement ||
      (n.parentNode && n.parentNode instanceof ShadowRoot ? n.parentNode.host : null);
  const inShadow = (el) => el.getRootNode() instanceof ShadowRoot;
  const norm = (s) => (s || '').toLowerCase().replace(/[\u2019\u02bc]/g, "'")
      .replace(/\s+/g, ' ').replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
  const raw = (s) => (s || '').toLowerCase().replace(/\s+/g, ' ').trim();
  const text = (el) => el.tagName === 'INPUT' ? el.value : (el.innerText || el.textContent);
  const visible = (el) => {
    if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true})) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const CLICKABLE_TAGS = new Set(['BUTTON', 'A', 'SUMMARY']);
  const CLICKABLE_ROLES = new Set(['button', 'link', 'tab', 'menuitem', 'switch']);
  const clickable = (el) => {
    if (CLICKABLE_TAGS.has(el.tagName)) return true;
    if (el.tagName === 'INPUT' && /^(button|submit)$/i.test(el.type)) return true;
    if (CLICKABLE_ROLES.has((el.getAttribute('role') || '').toLowerCase())) return true;
    if (el.hasAttribute('onclick') || el.hasAttribute('tabindex')) return true;
    return getComputedStyle(el).cursor === 'pointer';
  };
  const navigates = (el) => {
    if (el.tagName === 'A') {
      const href = (el.getAttribute('href') || '').trim();
      return !(href === '' || href.startsWith('#') || href.toLowerCase().startsWith('javascript:'));
    }
    const form = el.closest && el.closest('form');
    return Boolean(form) && (el.tagName === 'BUTTON' ? (el.type || 'submit') === 'submit'
                                                      : el.type === 'submit');
  };
  const describe = (el) => {
    const path = [];
    for (let node = el; node && path.length < 8; ) {
      let part = node.tagName.toLowerCase();
      if (node.id) { path.unshift(part + '#' + node.id); }
      else {
        const parent = node.parentElement;
        if (parent) {
          const same = [...parent.children].filter((c) => c.tagName === node.tagName);
          if (same.length > 1) part += ':nth-of-type(' + (same.indexOf(node) + 1) + ')';
        }
        path.unshift(part);
      }
      if (node.parentElement) { if (node.id) break; node = node.parentElement; continue; }
      const root = node.getRootNode();
      if (!(root instanceof ShadowRoot)) break;
      path.unshift('::shadow-root');
      node = root.host;
    }
    // Keep the innermost part after each shadow boundary readable: "host >> ::shadow-root > b".
    const label = (text(el) || el.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ');
    return {selector: path.join(' > ').replace(/ > ::shadow-root > /g, ' >> '),
            text: label.slice(0, 120), shadow_root: inShadow(el)};
  };
"""

# Elements whose label matches, in one frame: consent buttons (managers' own, then generic) and
# content controls (review tabs, "load more", expanders). Returns {els, meta}.
_FIND_JS = (
    r"""
(cfg) => {"""
    + _JS_PRELUDE
    + r"""
  const seen = (self[Symbol.for(cfg.seenKey)] ||= new WeakSet());
  const labelOf = (el) => norm(text(el)) || norm(el.getAttribute('aria-label') || '')
      || norm(el.getAttribute('title') || '');
  const rawLabelOf = (el) => raw(text(el)) || raw(el.getAttribute('aria-label') || '');
  const inFrame = self !== top;
  // Candidate targets: the clickable element around each short visible text, plus labelled ones.
  const targets = new Set();
  const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'svg']);
  for (const root of allRoots(document)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const value = node.nodeValue.trim();
      if (!value || value.length > 60) continue;
      const parent = node.parentElement || (node.parentNode && node.parentNode.host);
      if (!parent || SKIP.has(parent.tagName)) continue;
      let target = null;
      for (let el = parent, d = 0; el && d < 4 && el !== document.body; el = up(el), d++) {
        if (clickable(el)) { target = el; break; }
      }
      if (!target && /^(SPAN|DIV|P|LI|LABEL|B|STRONG|EM|SMALL)$/.test(parent.tagName)) {
        target = parent;
      }
      if (target) targets.add(target);
    }
    for (const el of root.querySelectorAll(
        '[aria-label], [title], input[type=button], input[type=submit]')) {
      if (clickable(el)) targets.add(el);
    }
  }
  const els = [], meta = [];
  const push = (el, info) => {
    if (seen.has(el) || el.disabled || !visible(el)) return;
    if (els.includes(el)) return;
    els.push(el); meta.push({...info, label: labelOf(el)});
  };
  const consentText = new RegExp(cfg.consentText, 'i');
  const consentContext = (el, containers) => {
    if (containers.some((c) => c === el || c.contains(el) ||
        (el.getRootNode() instanceof ShadowRoot && c.contains(el.getRootNode().host)))) return true;
    for (let node = el, d = 0; node && d < 14; node = up(node), d++) {
      const names = [node.id, typeof node.className === 'string' ? node.className : '',
                     node.getAttribute('aria-label') || ''].join(' ').toLowerCase();
      if (cfg.hints.some((h) => names.includes(h))) return true;
      const role = node.getAttribute('role');
      const words = (node.textContent || '').slice(0, 6000);
      if ((role === 'dialog' || role === 'alertdialog') && consentText.test(words)) return true;
      const position = getComputedStyle(node).position;
      if ((position === 'fixed' || position === 'sticky') && consentText.test(words)) return true;
    }
    if (inFrame) {
      const all = (document.body && document.body.innerText || '').slice(0, 4000);
      if (all.length < 4000 && consentText.test(all)) return true;
    }
    return false;
  };

  if (cfg.consent) {
    // 1. Known consent managers: their container, then their own buttons.
    const containers = [];
    for (const cmp of cfg.managers) {
      let boxes = [];
      for (const sel of cmp.containers) boxes.push(...deepAll(document, sel));
      const frameHit = inFrame && cmp.frame_hints.some((h) => location.href.includes(h));
      if (frameHit && document.body) boxes.push(document.body);
      boxes = boxes.filter((b) => b === document.body || visible(b) ||
          (b.shadowRoot && [...b.shadowRoot.querySelectorAll('*')].some(visible)));
      if (!boxes.length) continue;
      containers.push(...boxes);
      for (const choice of cfg.preference) {
        for (const sel of cmp[choice]) {
          for (const box of boxes) {
            for (const el of deepAll(box, sel)) push(el, {kind: 'consent', navigates: navigates(el), choice, cmp: cmp.name,
                                                          via: 'sélecteur ' + sel});
          }
        }
        for (const box of boxes) {
          for (const el of targets) {
            const label = labelOf(el);
            if (!cfg.phrases[choice].includes(label)) continue;
            if (!(box.contains(el) || (box.shadowRoot && box.shadowRoot.contains(el)) ||
                  (inShadow(el) && box.contains(el.getRootNode().host)))) continue;
            push(el, {kind: 'consent', navigates: navigates(el), choice, cmp: cmp.name, via: 'libellé'});
          }
        }
      }
    }
    // 2. Any button whose label is a consent phrase, inside something that looks like a banner.
    for (const choice of cfg.preference) {
      for (const el of targets) {
        if (!cfg.phrases[choice].includes(labelOf(el))) continue;
        if (!consentContext(el, containers)) continue;
        push(el, {kind: 'consent', navigates: navigates(el), choice, cmp: null, via: 'libellé'});
      }
    }
    return {els, meta};
  }

  const tabPatterns = cfg.tabPatterns.map((p) => new RegExp(p, 'u'));
  const expandPatterns = cfg.expandPatterns.map((p) => new RegExp(p, 'u'));
  for (const el of targets) {
    const label = labelOf(el);
    if (!label) continue;
    const rawLabel = rawLabelOf(el);
    const role = (el.getAttribute('role') || '').toLowerCase();
    if (cfg.more.includes(label)) {
      push(el, {kind: 'more', purpose: 'load-more', repeat: true, navigates: navigates(el)});
      continue;
    }
    if (navigates(el)) continue;
    if (el.getAttribute('aria-expanded') === 'true') continue;
    if (el.tagName === 'SUMMARY' && el.parentElement && el.parentElement.open) continue;
    if (cfg.expand.includes(label) || expandPatterns.some((p) => p.test(rawLabel))) {
      push(el, {kind: 'expand', purpose: 'expand', repeat: cfg.repeatable.includes(label)});
      continue;
    }
    if (tabPatterns.some((p) => p.test(label)) && clickable(el) &&
        el.getAttribute('aria-selected') !== 'true' && !/^H[1-6]$/.test(el.tagName)) {
      const tabLike = role === 'tab' || el.closest('[role=tablist]') || el.hasAttribute('aria-controls')
          || ['BUTTON', 'A', 'LI'].includes(el.tagName) || role === 'button' || el.hasAttribute('onclick');
      if (tabLike) push(el, {kind: 'tab', purpose: 'reviews-tab', repeat: false});
    }
  }
  return {els, meta};
}
"""
)

_DESCRIBE_JS = "(el) => {" + _JS_PRELUDE + "\n  return describe(el);\n}"

_MARK_SEEN_JS = "(el, seenKey) => { (self[Symbol.for(seenKey)] ||= new WeakSet()).add(el); }"

_STILL_MATCHES_JS = (
    "(el) => {"
    + _JS_PRELUDE
    + "\n  if (!el.isConnected || el.disabled || !visible(el)) return null;"
    + "\n  return norm(text(el)) || norm(el.getAttribute('aria-label') || '')"
    + " || norm(el.getAttribute('title') || '');\n}"
)

# Cancels the navigation of the next click on ``el`` unless the page's own script handled it.
_NAV_GUARD_JS = r"""
(el) => {
  const key = Symbol.for('egide.navguard');
  self[key] = 'none';
  const listener = (event) => {
    if (!event.composedPath().includes(el)) return;
    window.removeEventListener('click', listener);
    if (event.defaultPrevented) { self[key] = 'handled'; return; }
    event.preventDefault();
    self[key] = 'prevented';
  };
  window.addEventListener('click', listener);
  self[Symbol.for('egide.navguard.listener')] = listener;
}
"""
_NAV_GUARD_READ_JS = r"""
() => {
  const listener = self[Symbol.for('egide.navguard.listener')];
  if (listener) window.removeEventListener('click', listener);
  return self[Symbol.for('egide.navguard')] || 'none';
}
"""

# What "the page grew" means: elements (all open shadow roots included), text length, heights.
_SIGNATURE_JS = (
    r"""
() => {"""
    + _JS_PRELUDE
    + r"""
  let count = 0, chars = 0, shown = 0;
  for (const root of allRoots(document)) {
    count += root.querySelectorAll('*').length;
    chars += ((root === document ? document.documentElement : root).textContent || '').length;
    const top = root === document ? [document.body] : [...root.children];
    for (const el of top) if (el && el.innerText) shown += el.innerText.length;
  }
  const el = document.scrollingElement || document.documentElement;
  const busy = [...document.querySelectorAll('[aria-busy=true]')].some(visible);
  return {count, chars, shown, height: el ? el.scrollHeight : 0, busy};
}
"""
)

# Resolves on the next DOM change of the main document, or after ``ms``: the wait between looks.
_TICK_JS = r"""
(ms) => new Promise((resolve) => {
  const done = () => { observer.disconnect(); clearTimeout(timer); resolve(); };
  const observer = new MutationObserver(done);
  observer.observe(document, {subtree: true, childList: true, characterData: true,
                              attributes: true});
  const timer = setTimeout(done, ms);
})
"""

# One step down in every scrollable thing of the frame: the window, then each scrollable box,
# then the last element brought into view. Each step waits one frame so that
# IntersectionObserver callbacks run. Returns whether anything could still scroll.
_SCROLL_DOWN_JS = (
    r"""
async (maxSteps) => {"""
    + _JS_PRELUDE
    + r"""
  // After the next rendering update, when IntersectionObserver has looked at this position.
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const page = document.scrollingElement || document.documentElement;
  // The first pass starts at the top; later ones just above the highest content added since,
  // where a sentinel that moved below the viewport now sits.
  const key = Symbol.for('egide.scroll');
  let state = self[key];
  let start = 0;
  if (!state) {
    state = self[key] = {minTop: Infinity};
    new MutationObserver((records) => {
      let seen = 0;
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (node.nodeType !== 1 || seen++ > 20) continue;
          state.minTop = Math.min(state.minTop, node.getBoundingClientRect().top + scrollY);
        }
      }
    }).observe(document, {subtree: true, childList: true});
  } else {
    start = Number.isFinite(state.minTop) ? Math.max(0, state.minTop - innerHeight) : scrollY;
    start = Math.min(start, scrollY);
  }
  state.minTop = Infinity;
  const y0 = scrollY;
  window.scrollTo(0, start);
  let steps = 0;
  while (steps < maxSteps && page && page.scrollTop + innerHeight < page.scrollHeight - 2) {
    window.scrollBy(0, Math.max(200, Math.floor(innerHeight * 0.9)));
    steps++;
    await frame();
  }
  const boxes = [];
  for (const root of allRoots(document)) {
    for (const el of root.querySelectorAll('*')) {
      if (el.scrollHeight <= el.clientHeight + 4 || el.clientHeight < 20) continue;
      const overflow = getComputedStyle(el).overflowY;
      if (overflow === 'auto' || overflow === 'scroll') boxes.push(el);
    }
  }
  for (const box of boxes) {
    let inner = 0;
    while (inner < maxSteps && box.scrollTop + box.clientHeight < box.scrollHeight - 2) {
      box.scrollTop += Math.max(100, Math.floor(box.clientHeight * 0.9));
      inner++; steps++;
      await frame();
    }
  }
  let last = document.body;
  while (last && last.lastElementChild) last = last.lastElementChild;
  if (last && last !== document.body && last.scrollIntoView) {
    last.scrollIntoView({block: 'end'});
    await frame();
  }
  return {steps, boxes: boxes.length, height: page ? page.scrollHeight : 0,
          moved: steps > 0 || scrollY !== y0 || Math.round(start) !== Math.round(y0)};
}
"""
)

_SEEN_KEY = "egide.behaviors.seen"

# Bounded waits after an action (milliseconds): until the first change, then until quiet.
_TICK_MS = 50
_SCROLL_FIRST_MS = 100
_SCROLL_QUIET_MS = 250
_SCROLL_MAX_MS = 8000
_SCROLL_STEPS_PER_ROUND = 400
_CLICK_FIRST_MS = 1500
_CLICK_QUIET_MS = 200
# Content often arrives on a timer after the answer (450 ms seen on CMP-gated widgets): the
# banner vanishing is a change, so the quiet window after it must outlast such timers.
_CONSENT_QUIET_MS = 800
_CLICK_MAX_MS = 6000
_EXPAND_FIRST_MS = 300
_CONSENT_FIRST_MS = 800
_CONSENT_MAX_MS = 3000
_CONSENT_GONE_MS = 1500
_MAX_SCROLL_ROUNDS = 200
_SLOW_FACTOR = 8
_KIND_ORDER = {"tab": 0, "more": 1, "expand": 2}


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


def interaction_limits() -> tuple[int, float]:
    """(maximum clicks, time budget in seconds) of ``content_expand``, from the settings."""
    if settings.configured:
        return (
            int(getattr(settings, "EGIDE_CAPTURE_EXPAND_MAX_CLICKS", DEFAULT_EXPAND_MAX_CLICKS)),
            float(getattr(settings, "EGIDE_CAPTURE_INTERACT_BUDGET_S", DEFAULT_INTERACT_BUDGET_S)),
        )
    return DEFAULT_EXPAND_MAX_CLICKS, DEFAULT_INTERACT_BUDGET_S


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
            picked = None
            for frame in _frames(page):
                try:
                    elements, infos = _find(frame, consent=True)
                except PlaywrightError as exc:
                    log.record("consent-search-failed", frame=frame.url, error=_first_line(exc))
                    continue
                ranked = sorted(
                    range(len(elements)),
                    key=lambda i: (
                        CONSENT_PREFERENCE.index(infos[i]["choice"]),
                        infos[i]["cmp"] is None,
                        i,
                    ),
                )
                if ranked:
                    best = ranked[0]
                    picked = (frame, elements[best], infos[best], elements)
                    break
                for element in elements:
                    element.dispose()
            if picked is None:
                break
            frame, element, info, candidates = picked
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
            for candidate in candidates:
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
            if verdict is not None:
                choice_made = info["choice"]
            _settle(
                page=page,
                net=net,
                since=since,
                before=before,
                first_ms=_CONSENT_FIRST_MS,
                quiet_ms=_CONSENT_QUIET_MS,
                max_ms=_CONSENT_MAX_MS,
            )
            deadline = time.monotonic() + _CONSENT_GONE_MS / 1000
            while _still_shown(element) and time.monotonic() < deadline:
                _tick(page, _TICK_MS)
            if _still_shown(element):
                # The banner stayed (a wall): its other buttons may be tried in the next round.
                for candidate in candidates:
                    if candidate != element:
                        try:
                            candidate.evaluate(
                                "(el, key) => self[Symbol.for(key)].delete(el)", _SEEN_KEY
                            )
                        except PlaywrightError:
                            continue
                log.record("consent-banner-still-shown", frame=frame.url)
            for candidate in candidates:
                candidate.dispose()
    finally:
        net.close()
    if choice_made is None:
        log.record("consent-none", detail="aucun bandeau de consentement reconnu")
    return choice_made


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
                try:
                    elements, infos = _find(frame, consent=False)
                except PlaywrightError as exc:
                    log.record("expand-search-failed", frame=frame.url, error=_first_line(exc))
                    continue
                order = sorted(
                    range(len(elements)), key=lambda i: (_KIND_ORDER[infos[i]["kind"]], i)
                )
                since, before = time.monotonic(), _signatures(page)
                expanded = 0
                for i in order:
                    if total + clicked >= max_clicks or time.monotonic() >= deadline:
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
                            clicks_left=max_clicks - total - clicked,
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


_SHADOW_TEXT_JS = (
    r"""
() => {"""
    + _JS_PRELUDE
    + r"""
  const out = [];
  for (const root of allRoots(document).slice(1)) {
    const parts = [];
    for (const child of root.children) {
      if (child.tagName === 'STYLE' || child.tagName === 'SCRIPT') continue;
      const value = (child.innerText || '').trim();
      if (value) parts.push(value);
    }
    if (parts.length) out.push({host: describe(root.host).selector, text: parts.join('\n')});
  }
  return out;
}
"""
)


def shadow_root_texts(frame: Frame) -> list[tuple[str, str]]:
    """Visible text held in the open shadow roots of a frame (``innerText`` skips them)."""
    try:
        found = frame.evaluate(_SHADOW_TEXT_JS)
    except PlaywrightError:
        return []
    return [(item["host"], item["text"]) for item in found]
