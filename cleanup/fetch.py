"""Fetch watched pages for monitoring scans.

Why: a scan downloads pages whose URLs were typed by doctors or staff. Every fetch therefore has
explicit timeouts and a size cap (a hostile or broken site must not stall or exhaust a worker),
refuses non-public addresses on the first URL and on every redirect (server-side request forgery;
tests allow-list loopback explicitly) through the outbound guard (``common.net_guard``), which
resolves each host once and connects to the very address it checked (no DNS rebinding), decodes whatever charset the page uses (many French sites
still serve ISO-8859-1 / windows-1252), and turns each failure into one clear exception that the
caller can show or retry. A headless browser (``cleanup.render``) is used only when the page is a
JavaScript shell, because it costs two orders of magnitude more than a plain GET.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from w3lib.encoding import html_to_unicode

from common.address_guard import address_allowed as netguard_allowed
from common.net_guard import (
    GUARD_EXTENSION,
    OutboundGuard,
    OutboundRefused,
    guarded_client,
    peer_address,
)

USER_AGENT = "EgideVeille/1.0 (+veille e-reputation; contact via l'assureur)"
HTML_CONTENT_TYPES: frozenset[str] = frozenset({"text/html", "application/xhtml+xml"})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Budgets for one page. `total_s` bounds the whole download, the others are httpx's
    per-phase timeouts (a slow-drip server would otherwise reset the read timeout forever)."""

    connect_s: float = 5.0
    read_s: float = 15.0
    write_s: float = 5.0
    pool_s: float = 5.0
    total_s: float = 30.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_s, read=self.read_s, write=self.write_s, pool=self.pool_s
        )


DEFAULT_LIMITS = FetchLimits()


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str
    final_url: str
    status_code: int
    content_type: str
    encoding: str
    html: str
    size: int
    elapsed_s: float
    rendered: bool = False
    # Pages read for this listing (« page suivante » links followed) and « Voir plus » clicks.
    pages_read: int = 1
    load_more_clicks: int = 0


class FetchError(Exception):
    """Base of every fetch failure. `code` is stable for callers; `retryable` says whether a
    later attempt can succeed without anyone changing the URL."""

    code = "fetch_error"
    retryable = False

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class MalformedUrlError(FetchError):
    code = "malformed_url"


class BlockedAddressError(FetchError):
    code = "blocked_address"


class UnreachableError(FetchError):
    code = "unreachable"
    retryable = True


class HttpStatusError(FetchError):
    code = "http_status"

    def __init__(self, message: str, *, url: str, status_code: int) -> None:
        super().__init__(message, url=url)
        self.status_code = status_code
        self.retryable = status_code >= 500 or status_code == 429


class NotHtmlError(FetchError):
    code = "not_html"

    def __init__(self, message: str, *, url: str, content_type: str) -> None:
        super().__init__(message, url=url)
        self.content_type = content_type


class TooLargeError(FetchError):
    code = "too_large"


class TooManyRedirectsError(FetchError):
    code = "too_many_redirects"


# --------------------------------------------------------------------------- address guard


def address_allowed(*, address: str, allowed_networks: Sequence[Network] = ()) -> bool:
    """True for a public unicast address, or one inside an allow-listed network.

    The classification is evidence's (``common.address_guard``), so monitoring and captures refuse
    exactly the same ranges: loopback, private, link-local and cloud metadata, CGNAT, multicast,
    reserved, and IPv4 hidden in IPv6 (mapped, 6to4, Teredo)."""
    return netguard_allowed(address, tuple(allowed_networks))


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _url_parse(url: str) -> httpx.URL:
    """Shape only (http(s), a host); addresses are the guard's business."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise MalformedUrlError(f"URL invalide : {exc}", url=url) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise MalformedUrlError(
            "URL invalide : seules les adresses http(s) sont acceptées", url=url
        )
    return parsed


def _refusal_error(exc: OutboundRefused, *, url: str) -> FetchError:
    if exc.reason == "address":
        return BlockedAddressError(exc.message_fr, url=url)
    if exc.reason == "dns":
        return UnreachableError(exc.message_fr, url=url)
    return MalformedUrlError(exc.message_fr, url=url)


def fetch_guard(
    *, allowed_networks: Sequence[Network] = (), resolver: Resolver = system_resolver
) -> OutboundGuard:
    """The outbound guard (``common.net_guard``) for these rules."""
    return OutboundGuard(allowed_networks=tuple(allowed_networks), resolver=resolver)


def url_check(
    *,
    url: str,
    allowed_networks: Sequence[Network] = (),
    resolver: Resolver = system_resolver,
) -> httpx.URL:
    """Validate a URL (form checks, settings): http(s), a host, and only allowed addresses
    behind it. Every address the name resolves to must pass, so that a name with one public and
    one private record cannot be used to reach the private one. This is advice for the user:
    the fetch itself is checked again, and pinned, by the guarded transport."""
    parsed = _url_parse(url)
    guard = fetch_guard(allowed_networks=allowed_networks, resolver=resolver)
    try:
        guard.check(parsed)
    except OutboundRefused as exc:
        raise _refusal_error(exc, url=url) from None
    return parsed


# --------------------------------------------------------------------------- decoding


def _utf8_or_cp1252(body: bytes) -> str:
    # Undeclared pages: valid UTF-8 is almost never accidental; otherwise the legacy French web
    # is windows-1252 (a superset of the printable ISO-8859-1 range).
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def html_decode(*, body: bytes, content_type: str | None) -> tuple[str, str]:
    """Decode an HTML body: HTTP charset, then BOM, then <meta charset>, then a UTF-8 check with
    a windows-1252 fallback. Returns (encoding, text)."""
    encoding, text = html_to_unicode(
        content_type, body, default_encoding="utf-8", auto_detect_fun=_utf8_or_cp1252
    )
    return encoding, text


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _sniff_html(body: bytes) -> bool:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


# --------------------------------------------------------------------------- plain HTTP fetch


def http_client_build(
    *,
    limits: FetchLimits = DEFAULT_LIMITS,
    user_agent: str = USER_AGENT,
    trust_env: bool = False,
    guard: OutboundGuard | None = None,
    verify: Any = True,
) -> httpx.Client:
    """One client per worker: connection reuse matters when a scan hits the same platform for
    many doctors. Its transport is the outbound guard's (``common.net_guard``): each request is
    resolved once, checked and connected to the checked address. Environment proxies are never
    used (``trust_env`` is accepted for old callers and ignored): a proxy would resolve the name
    itself, out of the guard's sight."""
    del trust_env
    return guarded_client(
        guard=guard or fetch_guard(),
        verify=verify,
        timeout=limits.timeout(),
        headers={"User-Agent": user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9"},
        follow_redirects=False,
    )


def _read_capped(
    response: httpx.Response, *, url: str, limits: FetchLimits, started: float
) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
        raise TooLargeError(
            f"Page trop volumineuse : {int(declared)} octets annoncés (limite {limits.max_bytes})",
            url=url,
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limits.max_bytes:
            raise TooLargeError(
                f"Page trop volumineuse : plus de {limits.max_bytes} octets", url=url
            )
        if time.monotonic() - started > limits.total_s:
            raise UnreachableError(
                f"Délai total dépassé ({limits.total_s:g} s) pendant le téléchargement", url=url
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _hop_send(
    *,
    http: httpx.Client,
    guard: OutboundGuard,
    target: httpx.URL,
    url: str,
    current: str,
    limits: FetchLimits,
) -> httpx.Response:
    """Send one hop's GET (the body is streamed); transport failures become fetch errors."""
    try:
        # The guarded transport resolves the host once, checks every address and
        # connects to a checked one (DNS rebinding); this request's rules travel with it.
        request = http.build_request(
            "GET", target, timeout=limits.timeout(), extensions={GUARD_EXTENSION: guard}
        )
        return http.send(request, stream=True, follow_redirects=False)
    except OutboundRefused as exc:
        raise _refusal_error(exc, url=current) from None
    except httpx.TimeoutException:
        raise UnreachableError(f"Délai dépassé en contactant {target.host}", url=url) from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise MalformedUrlError(f"URL invalide : {exc}", url=url) from None
    except httpx.TransportError as exc:
        raise UnreachableError(
            f"Site injoignable ({target.host}) : {exc or type(exc).__name__}", url=url
        ) from None


def _response_page(
    response: httpx.Response, *, url: str, limits: FetchLimits, started: float
) -> FetchedPage:
    """The page of a final (not redirecting) response: an HTML body within the limits, decoded."""
    if response.status_code >= 400:
        raise HttpStatusError(
            f"Le site a répondu HTTP {response.status_code}",
            url=url,
            status_code=response.status_code,
        )
    content_type = response.headers.get("content-type", "")
    media = _media_type(content_type)
    if media and media not in HTML_CONTENT_TYPES:
        raise NotHtmlError(
            f"Ce n'est pas une page HTML (type {media})",
            url=url,
            content_type=media,
        )
    try:
        body = _read_capped(response, url=url, limits=limits, started=started)
    except httpx.TimeoutException:
        raise UnreachableError("Délai dépassé pendant le téléchargement", url=url) from None
    except httpx.TransportError as exc:
        raise UnreachableError(f"Téléchargement interrompu : {exc}", url=url) from None
    if not media and not _sniff_html(body):
        raise NotHtmlError(
            "Ce n'est pas une page HTML (type absent, contenu non HTML)",
            url=url,
            content_type="",
        )
    encoding, text = html_decode(body=body, content_type=content_type or None)
    return FetchedPage(
        url=url,
        final_url=str(response.url),
        status_code=response.status_code,
        content_type=media or "text/html",
        encoding=encoding,
        html=text,
        size=len(body),
        elapsed_s=time.monotonic() - started,
    )


def page_fetch(
    *,
    url: str,
    client: httpx.Client | None = None,
    limits: FetchLimits = DEFAULT_LIMITS,
    allowed_networks: Sequence[Network] = (),
    resolver: Resolver = system_resolver,
) -> FetchedPage:
    """GET one HTML page, following redirects by hand so that each hop passes `url_check`."""
    guard = fetch_guard(allowed_networks=allowed_networks, resolver=resolver)
    own_client = client is None
    http = client or http_client_build(limits=limits, guard=guard)
    started = time.monotonic()
    current = url
    try:
        for _hop in range(limits.max_redirects + 1):
            target = _url_parse(current)
            response = _hop_send(
                http=http, guard=guard, target=target, url=url, current=current, limits=limits
            )
            try:
                peer = peer_address(response)
                if peer and not guard.address_allowed(peer):
                    # Only reachable with a caller's client that is not guarded.
                    raise BlockedAddressError(
                        f"Adresse non publique refusée pour {target.host} : {peer}", url=current
                    )
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    current = str(response.url.join(location))
                    continue
                return _response_page(response, url=url, limits=limits, started=started)
            finally:
                response.close()
        raise TooManyRedirectsError(
            f"Trop de redirections (plus de {limits.max_redirects})", url=url
        )
    finally:
        if own_client:
            http.close()
