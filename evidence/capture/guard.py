"""The capture's browser-wide SSRF guard and raw-body tap (``RequestGuard``)."""

from __future__ import annotations

import base64
import contextlib
from urllib.parse import urlsplit

from playwright.sync_api import Browser, CDPSession
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
    """

    def __init__(self, *, allow: set[str], resolver: Resolver) -> None:
        self.allow = sorted(allow)
        self.networks = allow_networks(allow)
        self.resolver = resolver
        self.hosts: dict[tuple[str, int], dict] = {}
        self.blocked: list[dict] = []
        self.bodies: dict[str, list[bytes]] = {}
        self.session: CDPSession | None = None

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
        self.session = browser.new_browser_cdp_session()
        self.session.on("Fetch.requestPaused", self._paused)
        self.session.send("Fetch.enable", {"patterns": patterns})

    def detach(self) -> None:
        if self.session is None:
            return
        with contextlib.suppress(PlaywrightError):
            self.session.send("Fetch.disable")
            self.session.detach()
        self.session = None
