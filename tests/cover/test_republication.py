"""A republication opens a new press-law period for the republished content, from its own date,
with the same rules as the first publication's; the queue keeps the earliest open deadline."""

from __future__ import annotations

import datetime
import html

import pytest
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from cover.claims.models import ClaimEvent
from cover.claims.selectors.engine import claim_deadlines
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.events import claim_event_record, claim_republication_record
from cover.rules import ClaimEventKind
from tests.conftest import staff_login
from tests.cover.claims_factories import claim_qualified, handler_create

pytestmark = pytest.mark.django_db
D = datetime.date


def _claim(**kwargs):
    claim = claim_qualified(
        publication_date=D(2025, 1, 15), seen_date=D(2025, 1, 20), today=D(2025, 1, 20), **kwargs
    )
    handler = handler_create()
    # the declaration and the lawyer are done: the press clocks are the open hard deadlines
    for kind in (ClaimEventKind.INSURER_NOTIFIED, ClaimEventKind.LAWYER_ENGAGED):
        claim_event_record(
            claim=claim, kind=kind, date=D(2025, 1, 21), by=handler, today=D(2025, 1, 21)
        )
    claim.refresh_from_db()
    return claim, handler


def _clocks(claim, clock_id: str, today: D):
    return [
        (d.ref, d.start_date, d.due_date, d.republished_on, d.alert_dates)
        for d in claim_deadlines(claim=claim, today=today)
        if d.clock_id == clock_id
    ]


def test_republication_opens_a_new_press_clock_with_the_same_rules(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim, handler = _claim()
        assert claim.next_deadline_date == D(2025, 4, 14)
        # when the content is republished on 1 Mar 2025
        claim_republication_record(
            claim=claim,
            date=D(2025, 3, 1),
            url="http://127.0.0.1:9/medecin/martin/avis-42-bis",
            note="Avis recopié sur un forum",
            by=handler,
            today=D(2025, 3, 2),
        )
        # then two press-law periods run: the first publication's and the republished one's,
        # each 3 months - 1 day with alerts at +45 and +60 days
        assert _clocks(claim, "PRESS_3M", D(2025, 3, 2)) == [
            ("", D(2025, 1, 15), D(2025, 4, 14), None, (D(2025, 3, 1), D(2025, 3, 16))),
            (
                "republication-1",
                D(2025, 3, 1),
                D(2025, 5, 31),
                D(2025, 3, 1),
                (D(2025, 4, 15), D(2025, 4, 30)),
            ),
        ]
        event = claim.events.get(kind="CONTENT_REPUBLISHED")
        assert (event.date, event.ref, event.note) == (
            D(2025, 3, 1),
            "republication-1",
            "http://127.0.0.1:9/medecin/martin/avis-42-bis — Avis recopié sur un forum",
        )
        # and the queue keeps the earliest open deadline, the first publication's
        claim.refresh_from_db()
        assert claim.next_deadline_date == D(2025, 4, 14)


def test_republication_period_is_interrupted_like_the_first(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim, handler = _claim()
        claim_republication_record(claim=claim, date=D(2025, 3, 1), by=handler, today=D(2025, 3, 2))
        claim_event_record(
            claim=claim,
            kind=ClaimEventKind.PROSECUTION_OR_INSTRUCTION_ACT,
            date=D(2025, 4, 1),
            by=handler,
            today=D(2025, 4, 2),
        )
        # both running periods restart from the interrupting act: 1 Apr + 3 months
        assert [
            (ref, due)
            for ref, _start, due, _rep, _alerts in _clocks(claim, "PRESS_3M", D(2025, 4, 2))
        ] == [("", D(2025, 6, 30)), ("republication-1", D(2025, 6, 30))]


def test_a_second_republication_and_the_one_year_clock(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim, handler = _claim(categories=("DISCRIMINATORY_SPEECH",))
        for day in (D(2025, 2, 10), D(2025, 3, 31)):
            claim_republication_record(claim=claim, date=day, by=handler, today=D(2025, 4, 1))
        assert [
            (ref, due) for ref, _s, due, _r, _a in _clocks(claim, "PRESS_DISCRIM_1Y", D(2025, 4, 1))
        ] == [
            ("", D(2026, 1, 14)),
            ("republication-1", D(2026, 2, 9)),
            ("republication-2", D(2026, 3, 30)),
        ]
        assert _clocks(claim, "PRESS_3M", D(2025, 4, 1)) == []


def test_republication_dates_are_checked_and_nothing_is_recorded_on_refusal(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim, handler = _claim()
        events = ClaimEvent.objects.filter(claim=claim).count()
        for day, url, reason in (
            (D(2025, 1, 10), "", "Un événement ne peut pas précéder la publication du contenu."),
            (D(2025, 3, 5), "", "Un événement ne peut pas être daté dans le futur."),
            (D(2025, 3, 1), "pas une adresse", "Adresse invalide : pas une adresse"),
        ):
            with pytest.raises(ClaimActionRefused) as refused:
                claim_republication_record(
                    claim=claim, date=day, url=url, by=handler, today=D(2025, 3, 2)
                )
            assert refused.value.reasons == [reason]
        assert ClaimEvent.objects.filter(claim=claim).count() == events


def test_handler_records_a_republication_on_the_claim_page(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim, handler = _claim()
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(client, handler)
    page = client.get(reverse("claims_admin:detail", args=[claim.pk])).content.decode()
    assert 'id="republication-form"' in page
    response = client.post(
        reverse("claims_admin:republication", args=[claim.pk]),
        {"date": "2025-03-01", "url": "", "note": "Nouvelle mise en ligne"},
    )
    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        assert claim.events.filter(kind="CONTENT_REPUBLISHED", date=D(2025, 3, 1)).count() == 1
    page = html.unescape(
        client.get(reverse("claims_admin:detail", args=[claim.pk])).content.decode()
    )
    assert "Contenu republié le 01/03/2025" in page


def test_another_insurers_handler_cannot_record_a_republication(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        claim, _handler = _claim()
        events = ClaimEvent.objects.filter(claim=claim).count()
    with tenant_context(tenant_b.insurer):
        handler_b = handler_create(email="gestion-republication@tenant-b.example")
    client = Client(HTTP_HOST=tenant_b.domain)
    with tenant_context(tenant_b.insurer):
        staff_login(client, handler_b)
    response = client.post(
        reverse("claims_admin:republication", args=[claim.pk]), {"date": "2025-03-01"}
    )
    assert response.status_code == 404
    with tenant_context(tenant_a.insurer):
        assert ClaimEvent.objects.filter(claim=claim).count() == events
