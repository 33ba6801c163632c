"""The publication date is the earliest plausible one, shown as an estimate when it is one; a
handler corrects it with a reason: deadlines and the queue follow, and the change is audited."""

from __future__ import annotations

import datetime
import html

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from cover.claims.models import Claim, ClaimEvent, PublicationDateChange
from cover.claims.selectors.captures import claim_captures
from cover.claims.selectors.claims import claims_queue
from cover.claims.selectors.engine import claim_deadlines, claim_publication_evidence_before
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.deadlines import claim_deadlines_refresh
from cover.claims.services.events import claim_event_record, claim_publication_date_correct
from cover.rules import ClaimEventKind
from tests.conftest import staff_login
from tests.cover.claims_factories import (
    DEFAMATORY,
    REVIEW,
    REVIEW_URL,
    claim_create,
    claim_qualified,
    doctor_create,
    handler_create,
)

pytestmark = pytest.mark.django_db
D = datetime.date


def _press(claim: Claim, today: D):
    press = [
        d
        for d in claim_deadlines(claim=claim, today=today)
        if d.clock_id == "PRESS_3M" and d.republished_on is None
    ]
    assert len(press) == 1
    return press[0]


def test_blank_publication_date_is_an_estimate_shown_to_doctor_and_handler(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        handler = handler_create()
    seen = timezone.localdate() - datetime.timedelta(days=3)
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        client.force_login(doctor.user)
    # when the doctor reports a page that shows no publication date
    response = client.post(
        reverse("claims:new"),
        {
            "urls": REVIEW_URL,
            "source_text": REVIEW,
            "quotes": DEFAMATORY,
            "seen_date": seen.isoformat(),
            "publication_date": "",
        },
    )
    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        claim = Claim.objects.get(doctor=doctor)
        # then the claim holds the discovery date, as an estimate (last resort)
        assert (
            claim.publication_date,
            claim.publication_date_estimated,
            claim.publication_date_source,
        ) == (seen, True, "discovery")
    page = html.unescape(client.get(reverse("claims:detail", args=[claim.pk])).content.decode())
    assert (
        f'Date de publication : <strong id="publication-date">{seen:%d/%m/%Y}</strong> (date estimée)'
        in page
    )
    staff = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(staff, handler)
    page = html.unescape(
        staff.get(reverse("claims_admin:detail", args=[claim.pk])).content.decode()
    )
    assert "date estimée" in page
    assert "date de découverte, à défaut d'autre preuve" in page


def test_the_doctors_date_is_not_an_estimate(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_create(publication_date=D(2025, 3, 10), seen_date=D(2025, 3, 12))
        assert (claim.publication_date_estimated, claim.publication_date_source) == (
            False,
            "doctor",
        )


def test_an_earlier_archive_date_moves_an_estimated_publication_date(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given a qualified claim whose publication date is estimated at the discovery (20 Jan)
        claim = claim_qualified(
            publication_date=None, seen_date=D(2025, 1, 20), today=D(2025, 1, 20)
        )
        assert (claim.publication_date, claim.publication_date_estimated) == (D(2025, 1, 20), True)
        assert _press(claim, D(2025, 1, 21)).due_date == D(2025, 4, 19)
        # when the handler records a Wayback archive showing the content on 5 Jan
        handler = handler_create()
        claim_event_record(
            claim=claim,
            kind=ClaimEventKind.CONTENT_ARCHIVED,
            date=D(2025, 1, 5),
            ref="https://web.archive.org/web/20250105/avis-42",
            by=handler,
            today=D(2025, 1, 21),
        )
        claim.refresh_from_db()
        # then the estimate moves to the earliest evidence, still an estimate
        assert (
            claim.publication_date,
            claim.publication_date_estimated,
            claim.publication_date_source,
        ) == (D(2025, 1, 5), True, "archive")
        # and the press-law deadline moves with it: 5 Jan + 3 months - 1 day
        assert _press(claim, D(2025, 1, 21)).due_date == D(2025, 4, 4)
        assert (
            claim.events.filter(kind="PUBLICATION_DATE_ESTIMATED", visible_to_doctor=False).count()
            == 1
        )


def test_the_doctors_date_stays_but_an_earlier_archive_is_flagged_to_staff(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(
            publication_date=D(2025, 1, 15), seen_date=D(2025, 1, 20), today=D(2025, 1, 20)
        )
        handler = handler_create()
        claim_event_record(
            claim=claim,
            kind=ClaimEventKind.CONTENT_ARCHIVED,
            date=D(2025, 1, 10),
            by=handler,
            today=D(2025, 1, 21),
        )
        claim.refresh_from_db()
        assert claim.publication_date == D(2025, 1, 15)
        assert claim_publication_evidence_before(claim=claim) == D(2025, 1, 10)
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(client, handler)
    page = html.unescape(
        client.get(reverse("claims_admin:detail", args=[claim.pk])).content.decode()
    )
    assert (
        "Une preuve montre le contenu en ligne dès le 10/01/2025, avant cette date : vérifiez "
        "la date de publication." in page
    )


def test_correction_needs_a_reason_and_a_consistent_date_and_changes_nothing_otherwise(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(
            publication_date=D(2025, 1, 15), seen_date=D(2025, 1, 20), today=D(2025, 1, 20)
        )
        handler = handler_create()
        events = ClaimEvent.objects.filter(claim=claim).count()
        with pytest.raises(ClaimActionRefused) as refused:
            claim_publication_date_correct(
                claim=claim, new_date=D(2025, 1, 25), reason="  ", by=handler, today=D(2025, 2, 1)
            )
        assert refused.value.reasons == [
            "Indiquez le motif de la correction de la date de publication.",
            "La date de publication ne peut pas suivre la date de découverte (20/01/2025).",
        ]
        claim.refresh_from_db()
        assert claim.publication_date == D(2025, 1, 15)
        assert PublicationDateChange.objects.filter(claim=claim).count() == 0
        assert ClaimEvent.objects.filter(claim=claim).count() == events


def test_correcting_the_date_moves_the_press_deadline_and_the_queue_order(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given two unqualified claims: A published 1 Feb (press due 30 Apr), B published
        # 15 Feb (press due 14 May); the queue shows A first
        claim_a = claim_create(
            publication_date=D(2025, 2, 1), seen_date=D(2025, 2, 20), today=D(2025, 2, 20)
        )
        claim_b = claim_create(
            publication_date=D(2025, 2, 15), seen_date=D(2025, 2, 20), today=D(2025, 2, 20)
        )
        assert (claim_a.next_deadline_date, claim_b.next_deadline_date) == (
            D(2025, 4, 30),
            D(2025, 5, 14),
        )
        assert list(claims_queue()) == [claim_a, claim_b]
        handler = handler_create()
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(client, handler)
    # when the handler corrects B to 10 Jan (a dated screenshot the doctor had)
    response = client.post(
        reverse("claims_admin:publication_date", args=[claim_b.pk]),
        {"new_date": "2025-01-10", "reason": "Capture d'écran datée fournie par le médecin."},
    )
    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        claim_b.refresh_from_db()
        # then B's press deadline is 10 Jan + 3 months - 1 day, and B comes first
        assert (
            claim_b.publication_date,
            claim_b.publication_date_estimated,
            claim_b.publication_date_source,
            claim_b.next_deadline_date,
        ) == (D(2025, 1, 10), False, "handler", D(2025, 4, 9))
        assert list(claims_queue()) == [claim_b, claim_a]
        # and the change is audited: who, old, new, reason; a staff-only timeline entry
        change = PublicationDateChange.objects.get(claim=claim_b)
        assert (
            change.changed_by,
            change.old_date,
            change.old_estimated,
            change.new_date,
            change.reason,
        ) == (
            handler,
            D(2025, 2, 15),
            False,
            D(2025, 1, 10),
            "Capture d'écran datée fournie par le médecin.",
        )
        entry = claim_b.events.get(kind="PUBLICATION_DATE_CORRECTED")
        assert (entry.recorded_by, entry.visible_to_doctor, entry.note) == (
            handler,
            False,
            "15/02/2025 → 10/01/2025. Motif : Capture d'écran datée fournie par le médecin.",
        )
    page = html.unescape(
        client.get(reverse("claims_admin:detail", args=[claim_b.pk])).content.decode()
    )
    assert "Capture d'écran datée fournie par le médecin." in page
    assert handler.email in page
    # the doctor does not see the staff audit entry
    doctor = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        doctor.force_login(claim_b.doctor.user)
    page = html.unescape(doctor.get(reverse("claims:detail", args=[claim_b.pk])).content.decode())
    assert "10/01/2025" in page
    assert "Capture d'écran datée" not in page


def test_qualified_claim_press_deadline_follows_the_correction(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(
            publication_date=D(2025, 1, 15), seen_date=D(2025, 1, 20), today=D(2025, 1, 20)
        )
        assert _press(claim, D(2025, 1, 21)).due_date == D(2025, 4, 14)
        claim_publication_date_correct(
            claim=claim,
            new_date=D(2024, 11, 30),
            reason="Date affichée sous l'avis.",
            by=handler_create(),
            today=D(2025, 1, 21),
        )
        claim.refresh_from_db()
        # 30 Nov 2024 + 3 months = 28 Feb 2025 (clamped), - 1 day
        press = _press(claim, D(2025, 1, 21))
        assert press.due_date == D(2025, 2, 27)
        lawyer = [
            d
            for d in claim_deadlines(claim=claim, today=D(2025, 1, 21))
            if d.clock_id == "PRESS_LAWYER_D60"
        ]
        assert [d.due_date for d in lawyer] == [D(2025, 1, 29)]


def test_another_insurers_handler_cannot_correct_the_date(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        claim = claim_create(publication_date=D(2025, 2, 1), seen_date=D(2025, 2, 20))
    with tenant_context(tenant_b.insurer):
        handler_b = handler_create(email="gestion-publication@tenant-b.example")
    client = Client(HTTP_HOST=tenant_b.domain)
    with tenant_context(tenant_b.insurer):
        staff_login(client, handler_b)
    response = client.post(
        reverse("claims_admin:publication_date", args=[claim.pk]),
        {"new_date": "2025-01-10", "reason": "Essai"},
    )
    assert response.status_code == 404
    with tenant_context(tenant_a.insurer):
        claim.refresh_from_db()
        assert claim.publication_date == D(2025, 2, 1)
        assert PublicationDateChange.objects.filter(claim=claim).count() == 0


def test_capture_dates_count_as_evidence_only_when_earliest(tenant_a, settings):
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]
    from evidence.models import Capture

    with tenant_context(tenant_a.insurer):
        # given a claim without a publication date, seen on 20 Jan, whose capture finished on
        # 22 Jan: the discovery is the earlier date the content is known online
        claim = claim_create(publication_date=None, seen_date=D(2025, 1, 20), today=D(2025, 1, 22))
        [capture] = claim_captures(claim=claim)
        finished = datetime.datetime(2025, 1, 22, 10, tzinfo=datetime.UTC)
        Capture.objects.filter(pk=capture.pk).update(
            status=Capture.Status.COMPLETE, finished_at=finished
        )
        claim_deadlines_refresh(claim=claim, today=D(2025, 1, 22))
        claim.refresh_from_db()
        assert (claim.publication_date, claim.publication_date_source) == (
            D(2025, 1, 20),
            "discovery",
        )
        # when the capture turns out to date from 18 Jan (a capture made before the report)
        Capture.objects.filter(pk=capture.pk).update(
            finished_at=datetime.datetime(2025, 1, 18, 10, tzinfo=datetime.UTC)
        )
        claim_deadlines_refresh(claim=claim, today=D(2025, 1, 22))
        claim.refresh_from_db()
        # then the estimate is the capture's date, and the queue's presumed press deadline moves
        assert (
            claim.publication_date,
            claim.publication_date_estimated,
            claim.publication_date_source,
            claim.next_deadline_date,
        ) == (D(2025, 1, 18), True, "capture", D(2025, 4, 17))


def test_correction_cannot_follow_an_act_on_the_claim(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(
            publication_date=D(2025, 1, 5), seen_date=D(2025, 1, 20), today=D(2025, 1, 20)
        )
        handler = handler_create()
        claim_event_record(
            claim=claim,
            kind=ClaimEventKind.AUTHOR_CONTACTED,
            date=D(2025, 1, 8),
            by=handler,
            today=D(2025, 1, 20),
        )
        with pytest.raises(ClaimActionRefused) as refused:
            claim_publication_date_correct(
                claim=claim,
                new_date=D(2025, 1, 10),
                reason="Date vue",
                by=handler,
                today=D(2025, 1, 21),
            )
        assert refused.value.reasons == [
            "L'événement « Auteur contacté » du 08/01/2025 précède cette date : une publication "
            "ne peut pas suivre un acte qui la vise."
        ]
        claim.refresh_from_db()
        assert claim.publication_date == D(2025, 1, 5)
