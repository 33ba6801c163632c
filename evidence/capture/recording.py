"""What a capture records of the network: every exchange for the WARC (with bodies and server
addresses), the TLS details and certificate chains of the HTTPS origins, the redirect chain."""

from __future__ import annotations

import contextlib
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import CDPSession
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Request as PlaywrightRequest

from common.address_guard import address_allowed
from evidence.capture.guard import BODY_LIMIT_BYTES, RequestGuard, error_first_line
from evidence.prechecks import iso_utc, utc_now
from evidence.warc import HttpExchange


def url_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class NetworkRecorder:
    """Collects every exchange from Playwright's network events, with bodies and server IPs."""

    exchanges: dict[int, HttpExchange] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    tls_by_host: dict[str, dict] = field(default_factory=dict)
    violations: list[dict] = field(default_factory=list)
    networks: tuple = ()
    guard: RequestGuard | None = None

    def _exchange(self, request: PlaywrightRequest) -> HttpExchange:
        key = id(request)
        if key not in self.exchanges:
            self.exchanges[key] = HttpExchange(
                url=request.url,
                method=request.method,
                request_headers=[],
                started_at=utc_now(),
                resource_type=request.resource_type,
            )
            self.order.append(key)
        return self.exchanges[key]

    def on_request(self, request: PlaywrightRequest) -> None:
        self._exchange(request)

    def _complete(self, request: PlaywrightRequest, failure: str | None) -> None:
        exchange = self._exchange(request)
        with contextlib.suppress(PlaywrightError):
            start_ms = request.timing.get("startTime", -1)
            if start_ms and start_ms > 0:
                exchange.started_at = datetime.fromtimestamp(start_ms / 1000, tz=UTC)
        try:
            exchange.request_headers = [(h["name"], h["value"]) for h in request.headers_array()]
        except PlaywrightError:
            exchange.request_headers = list(request.headers.items())
        exchange.request_body = request.post_data_buffer
        response = None
        with contextlib.suppress(PlaywrightError):
            response = request.response()
        entry: dict = {
            "url": request.url,
            "method": request.method,
            "resource_type": request.resource_type,
            "started_at": iso_utc(exchange.started_at),
        }
        if failure:
            entry["failure"] = failure
        if response is not None:
            exchange.status = response.status
            exchange.status_text = response.status_text
            with contextlib.suppress(PlaywrightError):
                exchange.response_headers = [
                    (h["name"], h["value"]) for h in response.headers_array()
                ]
            server = None
            with contextlib.suppress(PlaywrightError):
                server = response.server_addr()
            if server:
                exchange.server_ip = server["ipAddress"].strip("[]")
                entry["server_ip"] = exchange.server_ip
                entry["server_port"] = server["port"]
                if not address_allowed(exchange.server_ip, self.networks):
                    self.violations.append(
                        {
                            "url": request.url,
                            "server_ip": exchange.server_ip,
                            "at": iso_utc(utc_now()),
                        }
                    )
            if 300 <= response.status < 400 and response.header_value("location") is not None:
                exchange.body_unavailable = "redirection : le navigateur ne conserve pas le corps"
            else:
                body = self.guard.body_take(request.url) if self.guard else None
                if body is None:
                    # Not read at the network level (too big, cancelled): ask the browser.
                    try:
                        body = response.body()
                    except PlaywrightError as exc:
                        exchange.body_unavailable = error_first_line(exc)
                        exchange.truncated = "unspecified"
                    else:
                        entry["body_source"] = "Response.body() (navigateur)"
                if body is not None:
                    if len(body) > BODY_LIMIT_BYTES:
                        body = body[:BODY_LIMIT_BYTES]
                        exchange.truncated = "length"
                    exchange.body = body
            if failure and exchange.body is None:
                exchange.truncated = "disconnect"
            entry["status"] = response.status
            if exchange.body_unavailable:
                entry["body"] = exchange.body_unavailable
            if urlsplit(request.url).scheme == "https":
                details = None
                with contextlib.suppress(PlaywrightError):
                    details = response.security_details()
                if details:
                    entry["tls_protocol"] = details.get("protocol")
                    host = urlsplit(request.url).netloc
                    self.tls_by_host.setdefault(host, {}).update(
                        {k: v for k, v in details.items() if v is not None}
                    )
        self.requests.append(entry)
        if failure and response is None:
            self.failed.append(entry)

    def on_finished(self, request: PlaywrightRequest) -> None:
        self._complete(request, None)

    def on_failed(self, request: PlaywrightRequest) -> None:
        self._complete(request, request.failure or "échec")

    def warc_exchanges(self) -> list[HttpExchange]:
        """Exchanges that reached a server, oldest first (refused or failed ones did not)."""
        done = [self.exchanges[key] for key in self.order if self.exchanges[key].status is not None]
        return sorted(done, key=lambda exchange: exchange.started_at)


def tls_details(response: dict) -> dict | None:
    """The TLS details of a CDP ``Network.responseReceived`` response, if it has some."""
    details = response.get("securityDetails")
    if not details:
        return None
    return {
        "protocol": details.get("protocol"),
        "key_exchange": details.get("keyExchange") or details.get("keyExchangeGroup"),
        "cipher": details.get("cipher"),
        "subject": details.get("subjectName"),
        "issuer": details.get("issuer"),
        "san": details.get("sanList"),
        "valid_from": details.get("validFrom"),
        "valid_to": details.get("validTo"),
        "certificate_transparency": details.get("certificateTransparencyCompliance"),
    }


def certificates_fetch(
    *, cdp: CDPSession, origins: list[str], tls_dir: Path, tls_by_host: dict[str, dict]
) -> dict[str, str]:
    """Certificate chains as served in this session (Network.getCertificate), PEM per host."""
    written: dict[str, str] = {}
    for origin in origins:
        netloc = urlsplit(origin).netloc
        try:
            chain = cdp.send("Network.getCertificate", {"origin": origin}).get("tableNames", [])
        except PlaywrightError as exc:
            tls_by_host.setdefault(netloc, {})["chain"] = "unknown: " + error_first_line(exc)
            continue
        if not chain:
            tls_by_host.setdefault(netloc, {})["chain"] = "unknown: aucun certificat renvoyé"
            continue
        pem = "".join(
            "-----BEGIN CERTIFICATE-----\n"
            + "\n".join(textwrap.wrap(der_b64, 64))
            + "\n-----END CERTIFICATE-----\n"
            for der_b64 in chain
        )
        name = netloc.replace(":", "_").replace("[", "").replace("]", "") + ".pem"
        tls_dir.mkdir(parents=True, exist_ok=True)
        (tls_dir / name).write_text(pem, encoding="ascii")
        tls_by_host.setdefault(netloc, {})["chain_file"] = f"provenance/tls/{name}"
        tls_by_host[netloc]["chain_length"] = len(chain)
        written[netloc] = name
    return written


def redirect_chain_read(response: Any) -> list[dict]:
    """Each hop of the main document: URL, status, Location, server address."""
    if response is None:
        return []
    hops: list[PlaywrightRequest] = []
    request = response.request
    while request is not None:
        hops.insert(0, request)
        request = request.redirected_from
    chain: list[dict] = []
    for hop in hops:
        hop_response = None
        with contextlib.suppress(PlaywrightError):
            hop_response = hop.response()
        entry: dict = {"url": hop.url, "status": hop_response.status if hop_response else None}
        if hop_response is not None:
            location = hop_response.header_value("location")
            if location:
                entry["location"] = location
            with contextlib.suppress(PlaywrightError):
                server = hop_response.server_addr()
                if server:
                    entry["server_ip"] = server["ipAddress"]
        chain.append(entry)
    return chain
