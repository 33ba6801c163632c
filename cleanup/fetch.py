"""Fetch watched pages for monitoring scans.

Why: a scan downloads pages whose URLs were typed by doctors or staff. Every fetch therefore has
explicit timeouts and a size cap (a hostile or broken site must not stall or exhaust a worker),
refuses non-public addresses on the first URL and on every redirect (server-side request forgery;
tests allow-list loopback explicitly) through the outbound guard (``common.net_guard``), which
resolves each host once and connects to the very address it checked (no DNS rebinding), decodes whatever charset the page uses (many French sites
still serve ISO-8859-1 / windows-1252), and turns each failure into one clear exception that the
caller can show or retry. A headless browser is used only when the page is a JavaScript shell,
because it costs two orders of magnitude more than a plain GET.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx
from w3lib.encoding import html_to_unicode

from cleanup.extract import (
    PageExtract,
    extracts_merge,
    page_next_url,
    profile_resolve,
    reviews_extract,
)
from cleanup.platforms import LoadMore
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
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

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


def _system_resolver(host: str, port: int) -> list[str]:
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
    *, allowed_networks: Sequence[Network] = (), resolver: Resolver = _system_resolver
) -> OutboundGuard:
    """The outbound guard (``common.net_guard``) for these rules."""
    return OutboundGuard(allowed_networks=tuple(allowed_networks), resolver=resolver)


def url_check(
    *,
    url: str,
    allowed_networks: Sequence[Network] = (),
    resolver: Resolver = _system_resolver,
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


def page_fetch(
    *,
    url: str,
    client: httpx.Client | None = None,
    limits: FetchLimits = DEFAULT_LIMITS,
    allowed_networks: Sequence[Network] = (),
    resolver: Resolver = _system_resolver,
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
            try:
                # The guarded transport resolves the host once, checks every address and
                # connects to a checked one (DNS rebinding); this request's rules travel with it.
                request = http.build_request(
                    "GET", target, timeout=limits.timeout(), extensions={GUARD_EXTENSION: guard}
                )
                response = http.send(request, stream=True, follow_redirects=False)
            except OutboundRefused as exc:
                raise _refusal_error(exc, url=current) from None
            except httpx.TimeoutException:
                raise UnreachableError(
                    f"Délai dépassé en contactant {target.host}", url=url
                ) from None
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise MalformedUrlError(f"URL invalide : {exc}", url=url) from None
            except httpx.TransportError as exc:
                raise UnreachableError(
                    f"Site injoignable ({target.host}) : {exc or type(exc).__name__}", url=url
                ) from None
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
                    raise UnreachableError(
                        "Délai dépassé pendant le téléchargement", url=url
                    ) from None
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
            finally:
                response.close()
        raise TooManyRedirectsError(
            f"Trop de redirections (plus de {limits.max_redirects})", url=url
        )
    finally:
        if own_client:
            http.close()


# --------------------------------------------------------------------------- browser rendering


def page_render(
    *,
    url: str,
    limits: FetchLimits = DEFAULT_LIMITS,
    allowed_networks: Sequence[Network] = (),
    resolver: Resolver = _system_resolver,
    browser_path: str = CHROMIUM_PATH,
    settle_ms: int = 500,
    platform: str | None = None,
) -> FetchedPage:
    """Render a JavaScript page in headless Chromium and return the resulting DOM.

    Every request the browser makes — the page, its redirects, sub-resources, frames, workers
    and WebSockets — passes the evidence capture's address guard (``RequestGuard``, a
    browser-level DevTools ``Fetch`` interception: Playwright's ``route`` does not see redirect
    hops). Refused ones are failed, not followed. After loading, the address each response
    actually came from is checked again (DNS rebinding): one outside the allowed addresses
    discards the whole rendering. One browser per call: this path is rare (only for JavaScript
    shells) and a fresh browser leaves no state behind. The browser runs in a thread of its own
    (``evidence.browser``), so the caller's thread can go on using the database.

    When the page's platform profile (`platform`, else found from the URL) has a « Voir plus »
    control, it is clicked until no new review appears, at most the profile's `max_clicks`
    times and within the page's time budget; whatever it loads passes the same guard.
    """
    from playwright.sync_api import Error as PlaywrightError

    from evidence.browser import BrowserThread, browser_thread
    from evidence.capture import RequestGuard

    url_check(url=url, allowed_networks=allowed_networks, resolver=resolver)
    started = time.monotonic()
    guard = RequestGuard(
        allow={str(network) for network in allowed_networks},
        resolver=lambda host, port: list(resolver(host, port)),
    )
    timeout_ms = int(limits.total_s * 1000)
    profile = profile_resolve(platform=platform, url=url)
    load_more = profile.load_more if profile is not None else None
    review_css = profile.review if profile is not None else ""

    def websocket_guard(ws_route) -> None:  # type: ignore[no-untyped-def]
        allowed, reason, verdict = guard.url_verdict(ws_route.url)
        if allowed:
            ws_route.connect_to_server()
        else:
            guard._record_block(ws_route.url, reason, verdict, "WebSocket")
            ws_route.close(code=1008, reason="blocked")

    def render(thread: BrowserThread) -> tuple[str, int, str, list[tuple[str, str]], int]:
        # Runs in the browser thread: no database work here.
        browser = thread.browser()
        guard.attach(browser, bodies=False)
        context = browser.new_context(user_agent=USER_AGENT, service_workers="block")
        try:
            context.route_web_socket("**/*", websocket_guard)
            page = context.new_page()
            responses: list = []
            page.on("response", lambda response: responses.append(response))
            response = page.goto(url, timeout=timeout_ms, wait_until="load")
            page.wait_for_timeout(settle_ms)
            clicks = (
                _load_more_click(page, load_more=load_more, review_css=review_css,
                                 deadline=started + limits.total_s, settle_ms=settle_ms)
                if load_more is not None
                else 0
            )  # fmt: skip
            html = page.content()
            servers = [(r.url, (r.server_addr() or {}).get("ipAddress", "")) for r in responses]
            status = response.status if response is not None else 0
            return html, status, page.url, servers, clicks
        finally:
            context.close()
            guard.detach()

    try:
        with browser_thread(chromium_path=browser_path, args=tuple(CHROMIUM_ARGS)) as thread:
            html, status, final_url, servers, clicks = thread.call(render, thread)
    except PlaywrightError as exc:
        raise UnreachableError(f"Rendu navigateur impossible : {exc.message}", url=url) from None
    for served_url, address in servers:
        if address and not netguard_allowed(address.strip("[]"), guard.networks):
            raise BlockedAddressError(
                f"Le site a répondu depuis une adresse non autorisée ({address}) : rendu écarté",
                url=served_url,
            )
    if status >= 400:
        raise HttpStatusError(f"Le site a répondu HTTP {status}", url=url, status_code=status)
    size = len(html.encode("utf-8"))
    if size > limits.max_bytes:
        raise TooLargeError(f"Page trop volumineuse : {size} octets après rendu", url=url)
    return FetchedPage(
        url=url,
        final_url=final_url,
        status_code=status,
        content_type="text/html",
        encoding="utf-8",
        html=html,
        size=size,
        elapsed_s=time.monotonic() - started,
        rendered=True,
        load_more_clicks=clicks,
    )


def _load_more_click(
    page: Any, *, load_more: LoadMore, review_css: str, deadline: float, settle_ms: int
) -> int:
    """Click the « Voir plus » control while it is shown and each click brings more reviews;
    return the number of clicks that did. Runs in the browser thread."""
    from playwright.sync_api import Error as PlaywrightError

    control = page.locator(load_more.css)
    if load_more.text:
        control = control.filter(has_text=load_more.text)
    clicks = 0
    for _ in range(load_more.max_clicks):
        remaining_ms = int((deadline - time.monotonic()) * 1000)
        if remaining_ms <= 0:
            break
        button = control.first
        try:
            if control.count() == 0 or not button.is_visible():
                break
            before = page.locator(review_css).count()
            button.click(timeout=min(remaining_ms, 5000))
            page.wait_for_function(
                "([css, n]) => document.querySelectorAll(css).length > n",
                arg=[review_css, before],
                timeout=max(min(remaining_ms, 5000), 1),
            )
        except PlaywrightError:
            break  # no control any more, or the click brought nothing: what is shown is kept
        clicks += 1
        page.wait_for_timeout(min(settle_ms, 250))
    return clicks


def page_scan(
    *,
    url: str,
    platform: str | None,
    client: httpx.Client | None = None,
    limits: FetchLimits = DEFAULT_LIMITS,
    allowed_networks: Sequence[Network] = (),
    resolver: Resolver = _system_resolver,
    render: bool = True,
) -> tuple[FetchedPage, PageExtract]:
    """Fetch and extract one watched page. A platform known to need scripts goes straight to a
    browser (which clicks its « Voir plus » control); otherwise the plain HTML is read and a
    browser is used only when it is a JavaScript shell, if `render` is allowed. On a paginated
    platform, the « page suivante » links are followed (same host, through the same guarded
    fetch, at most the profile's `max_pages`) and the reviews of every page are merged; a later
    page that fails fails the scan of this page, rather than report its reviews as removed."""
    profile = profile_resolve(platform=platform, url=url)
    if render and profile is not None and profile.requires_javascript:
        page = page_render(
            url=url, limits=limits, allowed_networks=allowed_networks, resolver=resolver,
            platform=platform,
        )  # fmt: skip
        return page, reviews_extract(html=page.html, url=page.final_url, platform=platform)
    page = page_fetch(
        url=url, client=client, limits=limits, allowed_networks=allowed_networks, resolver=resolver
    )
    extract = reviews_extract(html=page.html, url=page.final_url, platform=platform)
    if extract.needs_javascript and render:
        page = page_render(
            url=page.final_url, limits=limits, allowed_networks=allowed_networks,
            resolver=resolver, platform=platform,
        )  # fmt: skip
        return page, reviews_extract(html=page.html, url=page.final_url, platform=platform)
    profile = profile or profile_resolve(platform=None, url=page.final_url)
    if profile is None or profile.pagination is None or not extract.reviews:
        return page, extract  # a first page without reviews is not a listing to walk
    later: list[PageExtract] = []
    seen = {page.final_url.split("#", 1)[0]}
    current = page
    while len(seen) < profile.pagination.max_pages:
        next_url = page_next_url(html=current.html, url=current.final_url, profile=profile)
        if next_url is None or next_url in seen:
            break
        seen.add(next_url)
        current = page_fetch(
            url=next_url, client=client, limits=limits, allowed_networks=allowed_networks,
            resolver=resolver,
        )  # fmt: skip
        later.append(reviews_extract(html=current.html, url=current.final_url, platform=platform))
        if not later[-1].reviews:
            break
    if not later:
        return page, extract
    merged = extracts_merge(first=extract, later=later)
    return replace(page, pages_read=1 + len(later)), merged
