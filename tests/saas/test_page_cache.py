"""Anonymous visitors get an insurer's public pages from the cache (saas/page_cache.py), fresh as
soon as a page is published, never another insurer's page, and never a member's page. Committed
rows: the cache is never used inside a transaction, which is where ``db`` tests run."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from cover.models import HomePage
from saas.page_cache import public_pages_invalidate
from tests.cover.factories import DoctorFactory


def _visit(domain: str, path: str = "/", client: Client | None = None):
    client = client or Client(HTTP_HOST=domain)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response, len(queries.captured_queries)


@pytest.fixture
def fresh(tenant_a, tenant_b, committed_db):
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant.insurer):
            public_pages_invalidate()


def test_the_second_anonymous_visit_is_served_from_the_cache(tenant_a, fresh):
    first, first_queries = _visit(tenant_a.domain)
    second, second_queries = _visit(tenant_a.domain)

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert first_queries >= 8
    assert second_queries <= 3  # the tenant's domain, nothing of Wagtail
    # Headers of the page are the page's own: security headers are set again on the way out.
    assert second["Content-Type"] == first["Content-Type"]
    assert second["X-Frame-Options"] == first["X-Frame-Options"]
    assert "Content-Security-Policy" in second


def test_a_publication_shows_at_once(tenant_a, fresh):
    with tenant_context(tenant_a.insurer):
        home = HomePage.objects.live().first()
        headline = home.headline
    _visit(tenant_a.domain)
    try:
        with tenant_context(tenant_a.insurer):
            home.headline = "Accroche publiée à l'instant"
            home.save_revision().publish()
        response, queries = _visit(tenant_a.domain)
        assert response.status_code == 200
        assert queries >= 8  # rendered anew, not the copy from before the publication
        _again, queries = _visit(tenant_a.domain)
        assert queries <= 3
    finally:
        with tenant_context(tenant_a.insurer):
            home.headline = headline
            home.save_revision().publish()


def test_each_insurer_gets_its_own_page(tenant_a, tenant_b, fresh):
    with tenant_context(tenant_a.insurer):
        name_a = HomePage.objects.live().first().title
    with tenant_context(tenant_b.insurer):
        name_b = HomePage.objects.live().first().title
    assert name_a != name_b
    for _ in range(2):
        page_a, _queries = _visit(tenant_a.domain)
        page_b, _queries = _visit(tenant_b.domain)
        assert name_a in page_a.content.decode() and name_a not in page_b.content.decode()
        assert name_b in page_b.content.decode() and name_b not in page_a.content.decode()


def test_a_signed_in_member_is_never_served_from_the_cache(tenant_a, fresh, unique):
    with tenant_context(tenant_a.insurer):
        doctor = DoctorFactory(user__last_name=f"Membre{unique}")
        member = Client(HTTP_HOST=tenant_a.domain)
        member.force_login(doctor.user)
    try:
        _visit(tenant_a.domain)  # an anonymous visit fills the cache
        response, queries = _visit(tenant_a.domain, client=member)
        assert response.status_code == 200
        assert queries >= 8
        anonymous, _queries = _visit(tenant_a.domain)
        assert f"Membre{unique}" not in anonymous.content.decode()
    finally:
        with tenant_context(tenant_a.insurer):
            user = doctor.user
            doctor.delete()
            user.delete()


def test_a_query_string_or_a_post_is_not_cached(tenant_a, fresh):
    _visit(tenant_a.domain)
    with_query, queries = _visit(tenant_a.domain, "/?utm_source=lettre")
    assert with_query.status_code == 200
    assert queries >= 8


def test_the_nonce_of_a_cached_page_is_the_new_requests_own(tenant_a, fresh, rf):
    """A page whose scripts carry the CSP nonce: the cached copy gets each request's nonce."""
    from saas.page_cache import _NONCE_MARK, AnonymousPageCacheMiddleware

    request = rf.get("/")
    request._csp_nonce = "ancien-nonce-123"
    from django.http import HttpResponse

    page = HttpResponse('<script nonce="ancien-nonce-123">1</script>')
    page["X-Frame-Options"] = "DENY"
    with tenant_context(tenant_a.insurer):
        AnonymousPageCacheMiddleware._store(request, page, "public-page:test-nonce")
        from django.core.cache import cache

        body, headers, _charset = cache.get("public-page:test-nonce")
    assert "ancien-nonce-123" not in body and _NONCE_MARK in body

    again = rf.get("/")
    again.csp_nonce = "nouveau-nonce-456"
    replay = AnonymousPageCacheMiddleware._replay(again, (body, headers, "utf-8"))
    assert re.search(r'nonce="nouveau-nonce-456"', replay.content.decode())
    assert replay["X-Frame-Options"] == "DENY"
