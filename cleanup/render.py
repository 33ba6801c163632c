"""Read a watched page in a browser when plain HTTP is not enough, and scan a page.

Why: some platforms only show their reviews once scripts ran, and some load the later ones
behind a « Voir plus » control or « page suivante » links. ``page_render`` loads such a page in
headless Chromium behind the evidence capture's address guard; ``page_scan`` decides, per page,
between the plain guarded GET of ``cleanup.fetch`` (the usual, cheap path) and the browser (two
orders of magnitude dearer), and walks paginated listings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx
from django.conf import settings

from cleanup.extract import (
    PageExtract,
    extracts_merge,
    page_next_url,
    profile_resolve,
    reviews_extract,
)
from cleanup.fetch import (
    DEFAULT_LIMITS,
    USER_AGENT,
    BlockedAddressError,
    FetchedPage,
    FetchLimits,
    HttpStatusError,
    Network,
    Resolver,
    TooLargeError,
    UnreachableError,
    page_fetch,
    system_resolver,
    url_check,
)
from cleanup.platforms import LoadMore
from common.address_guard import address_allowed as netguard_allowed

if TYPE_CHECKING:
    from evidence.browser import BrowserThread
    from evidence.capture.guard import RequestGuard

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


def _websocket_guard(guard: RequestGuard) -> Callable[[Any], None]:
    """The browser's WebSocket handler: a socket to a refused address is closed (1008)."""

    def websocket_guard(ws_route) -> None:
        allowed, reason, verdict = guard.url_verdict(ws_route.url)
        if allowed:
            ws_route.connect_to_server()
        else:
            guard._record_block(ws_route.url, reason, verdict, "WebSocket")
            ws_route.close(code=1008, reason="blocked")

    return websocket_guard


def _dom_render(
    thread: BrowserThread,
    *,
    url: str,
    guard: RequestGuard,
    timeout_ms: int,
    settle_ms: int,
    load_more: LoadMore | None,
    review_css: str,
    deadline: float,
) -> tuple[str, int, str, list[tuple[str, str]], int]:
    """Load the page in a fresh context behind the guard, click « Voir plus » if any, and return
    (DOM, status, final URL, (URL, server address) of each response, clicks).

    Runs in the browser thread: no database work here."""
    browser = thread.browser()
    guard.attach(browser, bodies=False)
    context = browser.new_context(user_agent=USER_AGENT, service_workers="block")
    try:
        context.route_web_socket("**/*", _websocket_guard(guard))
        page = context.new_page()
        responses: list = []
        page.on("response", lambda response: responses.append(response))
        response = page.goto(url, timeout=timeout_ms, wait_until="load")
        page.wait_for_timeout(settle_ms)
        clicks = (
            _load_more_click(page, load_more=load_more, review_css=review_css,
                             deadline=deadline, settle_ms=settle_ms)
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


def _rendering_check(
    *,
    url: str,
    html: str,
    status: int,
    servers: list[tuple[str, str]],
    guard: RequestGuard,
    limits: FetchLimits,
) -> int:
    """Refuse a rendering served from a refused address (DNS rebinding), an HTTP error or a DOM
    over the size limit; return its size in bytes."""
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
    return size


def page_render(
    *,
    url: str,
    limits: FetchLimits = DEFAULT_LIMITS,
    allowed_networks: Sequence[Network] = (),
    resolver: Resolver = system_resolver,
    browser_path: str | None = None,
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
    from playwright.sync_api import Error as PlaywrightError  # lazy: worker-only Playwright

    from evidence.browser import browser_thread  # lazy: imports Playwright (worker-only)
    from evidence.capture.guard import RequestGuard  # lazy: imports Playwright (worker-only)

    url_check(url=url, allowed_networks=allowed_networks, resolver=resolver)
    started = time.monotonic()
    guard = RequestGuard(
        allow={str(network) for network in allowed_networks},
        resolver=lambda host, port: list(resolver(host, port)),
    )
    profile = profile_resolve(platform=platform, url=url)
    try:
        with browser_thread(
            chromium_path=browser_path or settings.CHROMIUM_PATH, args=tuple(CHROMIUM_ARGS)
        ) as thread:
            html, status, final_url, servers, clicks = thread.call(
                _dom_render,
                thread,
                url=url,
                guard=guard,
                timeout_ms=int(limits.total_s * 1000),
                settle_ms=settle_ms,
                load_more=profile.load_more if profile is not None else None,
                review_css=profile.review if profile is not None else "",
                deadline=started + limits.total_s,
            )
    except PlaywrightError as exc:
        raise UnreachableError(f"Rendu navigateur impossible : {exc.message}", url=url) from None
    size = _rendering_check(
        url=url, html=html, status=status, servers=servers, guard=guard, limits=limits
    )
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
    from playwright.sync_api import Error as PlaywrightError  # lazy: worker-only Playwright

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
    resolver: Resolver = system_resolver,
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
