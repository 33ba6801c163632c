"""The handlers' dashboard is kept a minute in the insurer's cache (it heads the queue and the
admin home) and is rebuilt as soon as a claim is written, once the write is committed. Committed
rows: the cache is never used inside a transaction, which is where ``db`` tests run."""

from __future__ import annotations

import contextlib
import datetime

from django.db import connection, transaction
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from cover.claims import selectors, services
from cover.claims.models import Claim
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
            first = selectors.handler_dashboard(user=handler, today=today)
            with CaptureQueriesContext(connection) as again:
                cached = selectors.handler_dashboard(user=handler, today=today)
            assert len(again.captured_queries) == 0
            assert cached == first
            assert first.mine_count == 0

            services.claim_assign(claim=claim, handler=handler, by=handler)

            after = selectors.handler_dashboard(user=handler, today=today)
            assert after.mine_count == 1
            assert after.unassigned_count == first.unassigned_count - 1
            # Another day is another dashboard (deadlines of its week).
            with CaptureQueriesContext(connection) as next_day:
                selectors.handler_dashboard(user=handler, today=today + datetime.timedelta(7))
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
            before = selectors.handler_dashboard(user=handler, today=today)
            with transaction.atomic():
                services.claim_assign(claim=claim, handler=handler, by=handler)
                inside = selectors.handler_dashboard(user=handler, today=today)
                assert inside.mine_count == 1
                transaction.set_rollback(True)
            after = selectors.handler_dashboard(user=handler, today=today)
            assert after.mine_count == 0
            assert after.unassigned_count == before.unassigned_count
        finally:
            _cleanup(claim, handler)
