"""The handlers' queue is served one page at a time, in deadline order, without gaps."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from cover.claims.admin_views import QUEUE_PAGE_SIZE
from cover.claims.models import Claim
from cover.ladder import LadderState
from tests.conftest import staff_login
from tests.cover.claims_factories import claim_create, handler_create

pytestmark = pytest.mark.django_db

OPEN_CLAIMS = QUEUE_PAGE_SIZE * 2 + 7


def _references(html: str) -> list[str]:
    return re.findall(r'<tr data-reference="([^"]+)">', html)


def _seed_open_claims() -> list[str]:
    """OPEN_CLAIMS open claims (several sharing a deadline) and one closed; the expected order."""
    first = claim_create()
    doctor, user = first.doctor, first.doctor.user
    base = datetime.date(2025, 4, 1)
    Claim.objects.bulk_create(
        Claim(
            reference=f"PAGE-{i:04d}",
            doctor=doctor,
            opened_by=user,
            urls=["https://192.0.2.10/avis"],
            source_text="Avis",
            publication_date=datetime.date(2025, 3, 1),
            seen_date=datetime.date(2025, 3, 2),
            next_deadline_date=None if i % 10 == 0 else base + datetime.timedelta(days=i % 7),
        )
        for i in range(OPEN_CLAIMS - 1)
    )
    Claim.objects.create(
        reference="PAGE-CLOS",
        doctor=doctor,
        opened_by=user,
        source_text="Avis",
        publication_date=datetime.date(2025, 3, 1),
        seen_date=datetime.date(2025, 3, 2),
        state=LadderState.CLOSED.value,
        next_deadline_date=base,
    )
    open_claims = Claim.objects.exclude(state=LadderState.CLOSED.value)
    return [
        c.reference
        for c in sorted(
            open_claims,
            key=lambda c: (c.next_deadline_date is None, c.next_deadline_date, c.created_at, c.pk),
        )
    ]


def test_the_queue_pages_cover_every_open_claim_once_in_deadline_order(tenant_a):
    # given
    with tenant_context(tenant_a.insurer):
        expected = _seed_open_claims()
        handler = handler_create()
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, handler)
    # when
    pages = [client.get("/admin/sinistres/", {"page": n}) for n in (1, 2, 3)]
    # then
    assert [p.status_code for p in pages] == [200, 200, 200]
    seen = [_references(p.content.decode()) for p in pages]
    assert [len(s) for s in seen] == [QUEUE_PAGE_SIZE, QUEUE_PAGE_SIZE, 7]
    assert [ref for s in seen for ref in s] == expected
    assert "PAGE-CLOS" not in "".join(p.content.decode() for p in pages)
    assert f"Page 1 sur 3 — {OPEN_CLAIMS} dossiers" in pages[0].content.decode()


def test_the_page_links_keep_the_filters(tenant_a):
    # given
    with tenant_context(tenant_a.insurer):
        _seed_open_claims()
        handler = handler_create()
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, handler)
    # when
    html = client.get("/admin/sinistres/", {"cover": "pending", "page": 2}).content.decode()
    # then
    assert 'href="?cover=pending&amp;page=1"' in html
    assert 'href="?cover=pending&amp;page=3"' in html


def test_a_page_number_out_of_range_shows_the_last_page(tenant_a):
    with tenant_context(tenant_a.insurer):
        expected = _seed_open_claims()
        handler = handler_create()
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, handler)
    html = client.get("/admin/sinistres/", {"page": "999"}).content.decode()
    assert _references(html) == expected[-7:]


def test_another_insurers_handler_sees_none_of_the_pages(tenant_a, tenant_b):
    # given: many claims at insurer A
    with tenant_context(tenant_a.insurer):
        expected = _seed_open_claims()
    with tenant_context(tenant_b.insurer):
        handler_b = handler_create(email="gestion@tenant-b.example")
        client = Client(HTTP_HOST=tenant_b.domain)
        staff_login(client, handler_b)
    # when
    pages = [client.get("/admin/sinistres/", {"page": n}).content.decode() for n in (1, 2)]
    # then
    assert all(_references(html) == [] for html in pages)
    assert not any(ref in html for ref in expected for html in pages)
    with tenant_context(tenant_a.insurer):
        assert Claim.objects.count() == OPEN_CLAIMS + 1
