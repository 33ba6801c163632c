"""Anonymous visitors of an insurer's public pages get them from the cache.

Why: an insurer's home page and plans page are the same for every anonymous visitor, yet each
view costs 15 queries (tenant, Wagtail site, routing, view restrictions, settings, plans) and
~15 ms of CPU (``bench/bench_load.py``). Kept here, a page costs one cache read.

What is cached, and only that: a ``GET`` answered ``200`` by Wagtail's page view, for a visitor
without a session or pending messages, without a query string, that set no cookie and did not
ask not to be cached. Keys carry the insurer's schema (the cache's key function), the host, the
path and the language. The page's CSP nonce is swapped for the new request's own on the way out.

Freshness: a publication, an unpublication, a page deletion or a save of the insurer's site
settings, plans and offer bumps the insurer's version after commit, so the next visitor gets the
new page; anything else within ``PUBLIC_PAGE_CACHE_S``. A cache that is down means no cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django_tenants.utils import get_public_schema_name
from wagtail.signals import page_published, page_unpublished

PUBLIC_PAGE_CACHE_S = 60
_VERSION_KEY = "public-pages-version"
_NONCE_MARK = "__egide_csp_nonce__"
# App labels whose writes can change what a public page shows (pages, images, documents, site
# settings, the offer and plans, branding, the site's opening).
_APPS_SHOWN = frozenset({"wagtailcore", "wagtailimages", "wagtaildocs", "cover", "mailing"})
_BYPASS_COOKIES = ("messages",)


def _version() -> int | None:
    version = cache.get(_VERSION_KEY)
    if version is None:
        cache.add(_VERSION_KEY, 1, timeout=None)
        version = cache.get(_VERSION_KEY)
    return version


def public_pages_invalidate() -> None:
    """Every cached public page of the current insurer is stale from now on."""
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:  # no version yet: nothing cached under one
        pass


def _invalidate_on_commit(sender, **kwargs) -> None:
    if sender._meta.app_label not in _APPS_SHOWN:
        return
    _page_changed(sender, **kwargs)


def _page_changed(sender, **kwargs) -> None:
    """Any page published or unpublished, whichever app defines it."""
    if getattr(connection, "schema_name", None) in (None, get_public_schema_name()):
        return
    transaction.on_commit(public_pages_invalidate)


def signals_connect() -> None:
    """Called once from the app config."""
    post_save.connect(_invalidate_on_commit, dispatch_uid="egide-public-pages-save")
    post_delete.connect(_invalidate_on_commit, dispatch_uid="egide-public-pages-delete")
    page_published.connect(_page_changed, dispatch_uid="egide-public-pages-pub")
    page_unpublished.connect(_page_changed, dispatch_uid="egide-public-pages-unpub")


def _cacheable_request(request: HttpRequest) -> bool:
    if request.method != "GET" or request.META.get("QUERY_STRING"):
        return False
    if getattr(connection, "schema_name", None) in (None, get_public_schema_name()):
        return False
    # Inside a transaction (tests), what is shown may be rolled back: no cache.
    if connection.in_atomic_block:
        return False
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and not any(
        name in cookies for name in _BYPASS_COOKIES
    )


def _key(request: HttpRequest, version: int) -> str:
    language = getattr(request, "LANGUAGE_CODE", "")
    digest = hashlib.sha256(f"{request.get_host()}|{request.path}|{language}".encode()).hexdigest()[
        :32
    ]
    return f"public-page:{version}:{digest}"


def _cacheable_response(request: HttpRequest, response: HttpResponse) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None or match.url_name != "wagtail_serve" or response.status_code != 200:
        return False
    if response.streaming or response.cookies or getattr(request, "is_preview", False):
        return False
    cache_control = response.get("Cache-Control", "")
    if "private" in cache_control or "no-cache" in cache_control or "no-store" in cache_control:
        return False
    user = getattr(request, "user", None)
    return user is None or not user.is_authenticated


class AnonymousPageCacheMiddleware:
    """After the tenant, CSP, session and language middlewares; before CSRF and auth."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _cacheable_request(request):
            return self.get_response(request)
        version = _version()
        if version is None:  # the cache is down
            return self.get_response(request)
        key = _key(request, version)
        stored = cache.get(key)
        if isinstance(stored, tuple) and len(stored) == 3:
            return self._replay(request, stored)
        response = self.get_response(request)
        if _cacheable_response(request, response):
            self._store(request, response, key)
        return response

    @staticmethod
    def _store(request: HttpRequest, response: HttpResponse, key: str) -> None:
        body = response.content.decode(response.charset or "utf-8")
        nonce = getattr(request, "_csp_nonce", None)
        if isinstance(nonce, str):
            body = body.replace(nonce, _NONCE_MARK)
        # Headers set by the middlewares inside this one (X-Frame-Options, Vary…) are kept; the
        # outer ones (security, CSP with the new nonce) add theirs to the replayed response.
        headers = [
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in ("content-length", "set-cookie")
        ]
        cache.set(key, (body, headers, response.charset), PUBLIC_PAGE_CACHE_S)

    @staticmethod
    def _replay(request: HttpRequest, stored: tuple) -> HttpResponse:
        body, headers, charset = stored
        if _NONCE_MARK in body:
            body = body.replace(_NONCE_MARK, str(request.csp_nonce))  # type: ignore[attr-defined]
        response = HttpResponse(body, charset=charset)
        for name, value in headers:
            response[name] = value
        return response
