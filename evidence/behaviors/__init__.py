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

from evidence.behaviors.consent import CONSENT_SCREENSHOT, GENERIC_BANNER, consent_click
from evidence.behaviors.expand import (
    DEFAULT_EXPAND_MAX_CLICKS,
    DEFAULT_INTERACT_BUDGET_S,
    content_expand,
    interaction_limits,
)
from evidence.behaviors.page import (
    ActionLog,
    NetworkWatch,
    future_wait,
    network_quiet,
    shadow_root_texts,
)
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
    ConsentManager,
)
from evidence.behaviors.scroll import (
    BEHAVIORS_JS_PATH,
    BEHAVIORS_NAME,
    BEHAVIORS_VERSION,
    SCROLL_ENGINE_OWN,
    autoscroll_run,
    behaviors_js,
    behaviors_js_sha256,
    fallback_scroll,
    scroll_to_top,
)

__all__ = [
    "ActionLog",
    "BEHAVIORS_JS_PATH",
    "BEHAVIORS_NAME",
    "BEHAVIORS_VERSION",
    "CONSENT_BUTTON_PHRASES",
    "CONSENT_CONTAINER_HINTS",
    "CONSENT_MANAGERS",
    "CONSENT_PREFERENCE",
    "CONSENT_SCREENSHOT",
    "CONSENT_TEXT_PATTERN",
    "ConsentManager",
    "DEFAULT_EXPAND_MAX_CLICKS",
    "DEFAULT_INTERACT_BUDGET_S",
    "EXPAND_PATTERNS",
    "EXPAND_PHRASES",
    "GENERIC_BANNER",
    "LOAD_MORE_PHRASES",
    "NetworkWatch",
    "REPEATABLE_EXPAND_PHRASES",
    "REVIEW_TAB_PATTERNS",
    "SCROLL_ENGINE_OWN",
    "autoscroll_run",
    "behaviors_js",
    "behaviors_js_sha256",
    "consent_click",
    "content_expand",
    "fallback_scroll",
    "future_wait",
    "interaction_limits",
    "network_quiet",
    "scroll_to_top",
    "shadow_root_texts",
]
