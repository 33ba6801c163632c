"""The handlers' dashboard is kept a minute in the insurer's cache (it heads the queue and the
admin home) and is rebuilt as soon as a claim is written, once the write is committed. Committed
rows: the cache is never used inside a transaction, which is where ``db`` tests run."""

from __future__ import annotations

import contextlib
import datetime
import re

from django.db import connection, transaction
from django.db.models import ProtectedError
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from cover.claims.models import Claim
from cover.claims.selectors.claims import dashboards_invalidate, handler_dashboard
from cover.claims.services.handling import claim_assign
from tests.conftest import staff_login
from tests.cover.claims_factories import claim_create, handler_create


def _cleanup(claim: Claim, handler) -> None:
    with contextlib.suppress(ProtectedError):
        doctor = claim.doctor
        Claim.objects.filter(pk=claim.pk).delete()
        doctor.delete()
        doctor.user.delete()
        handler.delete()


def test_dashboard_cached_until_a_claim_is_written(tenant_a, committed_db, unique, settings):
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]
    today = timezone.localdate()
    with tenant_context(tenant_a.insurer):
        handler = handler_create(email=f"tableau-{unique}@exemple.fr")
        claim = claim_create(today=today, seen_date=today, publication_date=today)
        try:
            first = handler_dashboard(user=handler, today=today)
            with CaptureQueriesContext(connection) as again:
                cached = handler_dashboard(user=handler, today=today)
            assert len(again.captured_queries) == 0
            assert cached == first
            assert first.mine_count == 0

            claim_assign(claim=claim, handler=handler, by=handler)

            after = handler_dashboard(user=handler, today=today)
            assert after.mine_count == 1
            assert after.unassigned_count == first.unassigned_count - 1
            # Another day is another dashboard (deadlines of its week).
            with CaptureQueriesContext(connection) as next_day:
                handler_dashboard(user=handler, today=today + datetime.timedelta(7))
            assert len(next_day.captured_queries) > 0
        finally:
            _cleanup(claim, handler)


def test_dashboard_not_cached_inside_a_transaction(tenant_a, committed_db, unique, settings):
    """Uncommitted writes could be rolled back: what a transaction sees is never kept."""
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]
    today = timezone.localdate()
    with tenant_context(tenant_a.insurer):
        handler = handler_create(email=f"tableau-tx-{unique}@exemple.fr")
        claim = claim_create(today=today, seen_date=today, publication_date=today)
        try:
            before = handler_dashboard(user=handler, today=today)
            with transaction.atomic():
                claim_assign(claim=claim, handler=handler, by=handler)
                inside = handler_dashboard(user=handler, today=today)
                assert inside.mine_count == 1
                transaction.set_rollback(True)
            after = handler_dashboard(user=handler, today=today)
            assert after.mine_count == 0
            assert after.unassigned_count == before.unassigned_count
        finally:
            _cleanup(claim, handler)


def test_queue_page_cached_until_a_claim_is_written(tenant_a, committed_db, unique, settings):
    """The queue's body is kept under the claims version: a second view runs no claims query,
    an assignment shows at once, and the cached body carries no CSRF token (the rows' buttons
    submit the page's own form, whose token is fresh)."""
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]
    today = timezone.localdate()
    with tenant_context(tenant_a.insurer):
        handler = handler_create(email=f"file-{unique}@exemple.fr")
        claim = claim_create(today=today, seen_date=today, publication_date=today)
        dashboards_invalidate()
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, handler)
    try:
        first = client.get("/admin/sinistres/", {"assignment": "unassigned"}).content.decode()
        assert f'data-reference="{claim.reference}"' in first
        with CaptureQueriesContext(connection) as again:
            second = client.get("/admin/sinistres/", {"assignment": "unassigned"})
        claim_queries = [q for q in again.captured_queries if "claims_claim" in q["sql"]]
        assert claim_queries == []
        html = second.content.decode()
        assert f'data-reference="{claim.reference}"' in html
        assert html.count("csrfmiddlewaretoken") == 1  # the page's form only
        assert 'form="claims-assign"' in html

        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
        action = re.search(rf'formaction="(/admin/sinistres/{claim.pk}/[^"]+)"', html)[1]
        assigned = client.post(action, {"csrfmiddlewaretoken": token, "next": "queue"})
        assert assigned.status_code == 302

        after = client.get("/admin/sinistres/", {"assignment": "unassigned"}).content.decode()
        assert f'data-reference="{claim.reference}"' not in after
        with tenant_context(tenant_a.insurer):
            claim.refresh_from_db()
            assert claim.assigned_to_id == handler.pk
    finally:
        with tenant_context(tenant_a.insurer):
            _cleanup(claim, handler)
