"""The capture's browser-wide SSRF guard and raw-body tap (``RequestGuard``)."""

from __future__ import annotations

import base64
import contextlib
import time
from urllib.parse import urlsplit

from playwright.sync_api import Browser, CDPSession, Page
from playwright.sync_api import Error as PlaywrightError

from common.address_guard import (
    ADDRESS_CLASS_FR,
    DEFAULT_PORTS,
    Resolver,
    address_allowed,
    address_classify,
    allow_networks,
)
from evidence.prechecks import iso_utc, utc_now

BODY_LIMIT_BYTES = 50 * 1024 * 1024
# How long a guard waits for a running capture to claim a frame it cannot place.
FRAME_CLAIM_WAIT_S = 0.25


def url_host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return host, parts.port or DEFAULT_PORTS.get(parts.scheme, 0)


def error_first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class RequestGuard:
    """Browser-wide SSRF guard and raw-body tap, on one DevTools ``Fetch`` interception.

    Request stage: every request is paused until its host's addresses pass. Attached through a
    browser-level session, it sees redirect hops, out-of-process iframes and workers, which a
    page-level ``route`` would miss. Any error while deciding refuses the request (fail closed).

    Response stage: the body is read as the network delivered it (``Fetch.getResponseBody``)
    before the page gets it. Playwright's ``Response.body()`` returns text documents re-encoded
    in UTF-8 — a windows-1252 page would be archived with bytes the server never sent.

    Two captures may run at once in one browser (``evidence.browser``), each with its guard:
    every browser-level interception sees every request, one after the other. Once ``own``
    has named the capture's page, a guard keeps to the requests of its browser context — a
    frame is its own when it is a target (page, frame in another process, worker) of its
    context, or in its page's frame tree — and lets the others' pass untouched, neither judged,
    recorded nor read: theirs are judged by their own guard. A frame that no running capture
    claims within ``FRAME_CLAIM_WAIT_S`` (a frame nested in another process's frame) is judged
    and recorded by every guard: nothing goes out unjudged.
    """

    def __init__(self, *, allow: set[str], resolver: Resolver) -> None:
        self.allow = sorted(allow)
        self.networks = allow_networks(allow)
        self.resolver = resolver
        self.hosts: dict[tuple[str, int], dict] = {}
        self.blocked: list[dict] = []
        self.bodies: dict[str, list[bytes]] = {}
        self.session: CDPSession | None = None
        self.browser: Browser | None = None
        # Whose requests this guard keeps to: set by ``own``.
        self.context_id: str | None = None
        self.page: Page | None = None
        self._frames: dict[str, bool] = {}

    def body_take(self, url: str) -> bytes | None:
        """The raw body of the oldest unclaimed response for ``url``, if it was read."""
        queue = self.bodies.get(url)
        return queue.pop(0) if queue else None

    def host_verdict(self, host: str, port: int) -> dict:
        """Resolve a host once per capture and decide; the result is kept for network.json."""
        key = (host, port)
        if key not in self.hosts:
            entry: dict = {"host": host, "port": port, "resolved_at": iso_utc(utc_now())}
            try:
                addresses = self.resolver(host, port)
            except OSError as exc:
                entry.update(addresses=[], allowed=False, reason=f"DNS : {exc}")
            else:
                refused = [ip for ip in addresses if not address_allowed(ip, self.networks)]
                entry["addresses"] = addresses
                entry["allowed"] = bool(addresses) and not refused
                if not addresses:
                    entry["reason"] = "DNS : aucune adresse"
                elif refused:
                    entry["reason"] = "adresse non publique : " + ", ".join(
                        f"{ip} ({ADDRESS_CLASS_FR.get(address_classify(ip), '?')})"
                        for ip in refused
                    )
            self.hosts[key] = entry
        return self.hosts[key]

    def url_verdict(self, url: str) -> tuple[bool, str, dict | None]:
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("data", "blob", "about"):
            return True, "", None
        if scheme not in ("http", "https", "ws", "wss"):
            return False, f"schéma « {scheme} » refusé", None
        host, port = url_host_port(url)
        if not host:
            return False, "hôte absent", None
        verdict = self.host_verdict(host.strip("[]"), port)
        return verdict["allowed"], verdict.get("reason", ""), verdict

    def own(self, page: Page, page_session: CDPSession) -> None:
        """Keep, from now on, to the requests of the browser context of this page's session.

        The page's frames are learnt as they attach (``Page.frameAttached``, sent by the page's
        renderer before the frame's first request), without asking the renderer, which may
        be busy in a page's script.
        """
        info = page_session.send("Target.getTargetInfo")["targetInfo"]
        self.context_id = info.get("browserContextId")
        self.page = page
        self._frames[info["targetId"]] = True  # a page's target is its main frame
        page_session.on("Page.frameAttached", self._frame_attached)
        page_session.send("Page.enable")

    def _frame_attached(self, event: dict) -> None:
        self._frames[event["frameId"]] = True

    def _mine(self, frame_id: str) -> bool:
        """Whether a request of ``frame_id`` is this capture's to judge and record."""
        if self.context_id is None or not frame_id:
            return True
        if frame_id not in self._frames:
            owned = self._frame_owned(frame_id)
            if owned is not None:
                self._frames[frame_id] = owned
            return owned is not False
        return self._frames[frame_id]

    def _frame_owned(self, frame_id: str) -> bool | None:
        """True or False when known; None for a frame no running capture claims (judged)."""
        assert self.session is not None  # noqa: S101 — attached before any request
        try:
            # A page, a frame in another process or a worker: a target, with its context.
            info = self.session.send("Target.getTargetInfo", {"targetId": frame_id})
        except PlaywrightError:
            pass
        else:
            return info["targetInfo"].get("browserContextId") == self.context_id
        # A frame in its page's process: its page's guard learns it as it attaches; its
        # first request may overtake that news by a little.
        deadline = time.monotonic() + FRAME_CLAIM_WAIT_S
        while True:
            if self._frames.get(frame_id):
                return True
            others = [guard for guard in _guards.get(id(self.browser), ()) if guard is not self]
            if any(guard._frames.get(frame_id) for guard in others):
                return False
            if time.monotonic() >= deadline or self.page is None:
                return None
            with contextlib.suppress(PlaywrightError):
                self.page.wait_for_timeout(10)

    def _record_block(self, url: str, reason: str, verdict: dict | None, kind: str) -> None:
        self.blocked.append(
            {
                "at": iso_utc(utc_now()),
                "url": url,
                "resource_type": kind,
                "addresses": (verdict or {}).get("addresses", []),
                "reason": reason,
            }
        )

    def _paused(self, event: dict) -> None:
        if not self._mine(event.get("frameId", "")):
            # Another capture's request, in the same browser: its own guard judges it.
            with contextlib.suppress(PlaywrightError):
                assert self.session is not None  # noqa: S101 — set before Fetch.enable
                self.session.send("Fetch.continueRequest", {"requestId": event.get("requestId")})
            return
        if "responseStatusCode" in event or "responseErrorReason" in event:
            self._response_paused(event)
            return
        request_id = event.get("requestId")
        url = event.get("request", {}).get("url", "")
        try:
            allowed, reason, verdict = self.url_verdict(url)
        except Exception as exc:  # noqa: BLE001 — any failure refuses the request
            allowed, reason, verdict = False, f"erreur du contrôle : {exc}", None
        assert self.session is not None  # noqa: S101 — set before Fetch.enable
        try:
            if allowed:
                self.session.send("Fetch.continueRequest", {"requestId": request_id})
            else:
                self._record_block(url, reason, verdict, event.get("resourceType", ""))
                self.session.send(
                    "Fetch.failRequest",
                    {"requestId": request_id, "errorReason": "BlockedByClient"},
                )
        except PlaywrightError:
            # The request was cancelled meanwhile (page closed, navigation replaced it).
            pass

    def _response_paused(self, event: dict) -> None:
        assert self.session is not None  # noqa: S101 — set before Fetch.enable
        request_id = event.get("requestId")
        status = event.get("responseStatusCode") or 0
        headers = {h["name"].lower(): h["value"] for h in event.get("responseHeaders") or []}
        declared = headers.get("content-length", "")
        too_big = declared.isdigit() and int(declared) > BODY_LIMIT_BYTES
        is_redirect = 300 <= status < 400 and "location" in headers
        with contextlib.suppress(PlaywrightError):
            if status and not is_redirect and not too_big:
                answer = self.session.send("Fetch.getResponseBody", {"requestId": request_id})
                raw = answer.get("body", "")
                body = base64.b64decode(raw) if answer.get("base64Encoded") else raw.encode()
                self.bodies.setdefault(event["request"]["url"], []).append(body)
        with contextlib.suppress(PlaywrightError):
            self.session.send("Fetch.continueRequest", {"requestId": request_id})

    def attach(self, browser: Browser, *, bodies: bool = True) -> None:
        """Guard every request of ``browser``; with ``bodies``, also keep the raw bodies."""
        patterns = [{"urlPattern": "*", "requestStage": "Request"}]
        if bodies:
            patterns.append({"urlPattern": "*", "requestStage": "Response"})
        self.browser = browser
        _guards.setdefault(id(browser), set()).add(self)
        self.session = browser.new_browser_cdp_session()
        self.session.on("Fetch.requestPaused", self._paused)
        self.session.send("Fetch.enable", {"patterns": patterns})

    def detach(self) -> None:
        if self.browser is not None:
            running = _guards.get(id(self.browser), set())
            running.discard(self)
            if not running:
                _guards.pop(id(self.browser), None)
        if self.session is None:
            return
        with contextlib.suppress(PlaywrightError):
            self.session.send("Fetch.disable")
            self.session.detach()
        self.session = None


# The guards attached to each browser (by ``id``), all used in that browser's thread: a guard
# asks the others whether a frame it cannot place is theirs.
_guards: dict[int, set[RequestGuard]] = {}
