"""Bounded work (captures per hour per insurer and per claim), outbox leases and orphan folders.

Database-level tests (rolled back): refusals are French and create nothing; the hourly count
and the outbox are per insurer (cross-tenant checks); a duplicate delivery of a capture that a
live worker is running is refused, a re-delivery after its worker died takes over; the work
folder of a dead capture is removed, a live one's never.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from cover.claims.models import Claim
from cover.claims.services.captures import claim_capture_request
from cover.claims.services.common import ClaimActionRefused
from evidence import selectors
from evidence.models import Capture
from evidence.selectors import capture_outbox_key
from evidence.services.requests import capture_request
from evidence.services.work_folders import work_orphans_clean
from outbox.models import OutboxMessage
from outbox.services import outbox_lease_take
from tests.cover.claims_factories import claim_create, doctor_create, handler_create

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/avis"


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]


def test_insurer_hourly_limit_refuses_in_french_and_creates_nothing(tenant_a, settings):
    settings.EGIDE_CAPTURES_PER_HOUR_INSURER = 2
    with tenant_context(tenant_a.insurer):
        capture_request(url=URL + "1", requested_by=None, reason="")
        capture_request(url=URL + "2", requested_by=None, reason="")
        before = (Capture.objects.count(), OutboxMessage.objects.count())
        with pytest.raises(ValidationError) as refused:
            capture_request(url=URL + "3", requested_by=None, reason="")
        assert refused.value.messages == [
            "Limite de 2 captures par heure atteinte pour votre organisme "
            "(2 demandées depuis une heure). Réessayez plus tard."
        ]
        assert (Capture.objects.count(), OutboxMessage.objects.count()) == before


def test_the_hourly_count_is_per_insurer(tenant_a, tenant_b, settings):
    settings.EGIDE_CAPTURES_PER_HOUR_INSURER = 1
    with tenant_context(tenant_a.insurer):
        capture_request(url=URL, requested_by=None, reason="")
        with pytest.raises(ValidationError):
            capture_request(url=URL, requested_by=None, reason="")
    with tenant_context(tenant_b.insurer):
        # insurer B is not held back by A's captures
        capture_id = capture_request(url=URL, requested_by=None, reason="")
        assert Capture.objects.filter(pk=capture_id).exists()


def test_captures_older_than_an_hour_do_not_count(tenant_a, settings):
    settings.EGIDE_CAPTURES_PER_HOUR_INSURER = 1
    with tenant_context(tenant_a.insurer):
        old = capture_request(url=URL, requested_by=None, reason="")
        Capture.objects.filter(pk=old).update(created_at=timezone.now() - dt.timedelta(hours=2))
        capture_request(url=URL, requested_by=None, reason="")


def test_a_claim_whose_urls_exceed_the_insurer_hourly_limit_is_refused_whole(tenant_a, settings):
    settings.EGIDE_CAPTURES_PER_HOUR_INSURER = 3
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        capture_request(url=URL, requested_by=None, reason="")
        before = (Claim.objects.count(), Capture.objects.count())
        with pytest.raises(ClaimActionRefused) as refused:
            claim_create(doctor=doctor, urls=[f"{URL}/{n}" for n in range(3)])
        assert refused.value.reasons == [
            "Limite de 3 captures par heure atteinte pour votre organisme "
            "(1 demandées depuis une heure). Réessayez plus tard."
        ]
        assert (Claim.objects.count(), Capture.objects.count()) == before


def test_per_claim_hourly_limit_refuses_a_handler_capture_and_records_nothing(tenant_a, settings):
    settings.EGIDE_CAPTURES_PER_HOUR_CLAIM = 1
    with tenant_context(tenant_a.insurer):
        claim = claim_create(urls=[URL])  # one capture at opening
        handler = handler_create()
        events, captures = claim.events.count(), Capture.objects.count()
        with pytest.raises(ClaimActionRefused) as refused:
            claim_capture_request(claim=claim, by=handler, url=URL + "?autre")
        assert refused.value.reasons == [
            "Limite de 1 captures par heure atteinte pour ce sinistre. Réessayez plus tard."
        ]
        assert (claim.events.count(), Capture.objects.count()) == (events, captures)


def test_capture_request_writes_its_outbox_row_in_the_same_transaction(tenant_a):
    with tenant_context(tenant_a.insurer):
        capture_id = capture_request(url=URL, requested_by=None, reason="")
    row = OutboxMessage.objects.get(key=f"evidence.capture:{capture_id}")
    assert (row.schema_name, row.actor_name, row.queue_name, row.kwargs, row.status) == (
        "test_a",
        "capture_execute_task",
        "evidence",
        {"capture_id": capture_id},
        "pending",  # sent only after commit (this test's transaction never commits)
    )


def test_a_second_live_delivery_is_refused_and_a_redelivery_takes_over(tenant_a, settings):
    with tenant_context(tenant_a.insurer):
        capture_id = capture_request(url=URL, requested_by=None, reason="")
        key = capture_outbox_key(capture_id=capture_id)
        assert outbox_lease_take(key=key, message_id="m1")
        # a re-sent message while m1's worker is alive: refused (captured once)
        assert not outbox_lease_take(key=key, message_id="m2")
        # the broker re-delivering m1 (its worker died): takes over
        assert outbox_lease_take(key=key, message_id="m1")
        # m1's worker silent for longer than the stale limit: m2 may take over
        OutboxMessage.objects.filter(key=key).update(
            heartbeat_at=timezone.now()
            - dt.timedelta(seconds=settings.EGIDE_OUTBOX_LEASE_STALE_S + 1)
        )
        assert outbox_lease_take(key=key, message_id="m2")


def test_interrupted_is_read_in_the_current_insurer_only(tenant_a, tenant_b, settings):
    stale = timezone.now() - dt.timedelta(seconds=settings.EGIDE_OUTBOX_LEASE_STALE_S + 5)
    with tenant_context(tenant_a.insurer):
        a_id = capture_request(url=URL, requested_by=None, reason="")
        Capture.objects.filter(pk=a_id).update(status="running", progress=40)
    with tenant_context(tenant_b.insurer):
        b_id = capture_request(url=URL, requested_by=None, reason="")
        Capture.objects.filter(pk=b_id).update(status="running", progress=40)
    # A's delivery died; B's has a fresh heartbeat. Same key shape in both schemas.
    OutboxMessage.objects.filter(schema_name="test_a").update(
        status="sent", lease_message_id="x", heartbeat_at=stale
    )
    OutboxMessage.objects.filter(schema_name="test_b").update(
        status="sent", lease_message_id="y", heartbeat_at=timezone.now()
    )
    with tenant_context(tenant_a.insurer):
        progress = selectors.capture_progress(capture=Capture.objects.get(pk=a_id))
        assert (progress["interrupted"], progress["status_label"], progress["progress_label"]) == (
            True,
            "Interrompue, reprise",
            "interrompue, reprise",
        )
    with tenant_context(tenant_b.insurer):
        progress = selectors.capture_progress(capture=Capture.objects.get(pk=b_id))
        assert (progress["interrupted"], progress["progress_label"]) == (False, "40 %")


def test_orphan_work_folders_are_removed_but_never_a_live_capture(tenant_a, settings, tmp_path):
    settings.EGIDE_EVIDENCE_ROOT = str(tmp_path)
    stale = timezone.now() - dt.timedelta(seconds=settings.EGIDE_OUTBOX_LEASE_STALE_S + 5)
    with tenant_context(tenant_a.insurer):
        live = capture_request(url=URL, requested_by=None, reason="")
        dead = capture_request(url=URL, requested_by=None, reason="")
        done = capture_request(url=URL, requested_by=None, reason="")
        Capture.objects.filter(pk__in=[live, dead]).update(status="running", attempts=1)
        Capture.objects.filter(pk=done).update(status="failed", attempts=1)
    OutboxMessage.objects.filter(key=f"evidence.capture:{live}").update(
        lease_message_id="l", heartbeat_at=timezone.now()
    )
    OutboxMessage.objects.filter(key=f"evidence.capture:{dead}").update(
        lease_message_id="d", heartbeat_at=stale
    )
    work = tmp_path / "test_a" / "work"
    folders = {
        name: work / f"{capture_id}-{attempt}"
        for name, capture_id, attempt in [
            ("live", live, 1),
            ("dead", dead, 1),
            ("done", done, 1),
            ("superseded", live, 0),
            ("gone", 999_999, 1),
        ]
    }
    for folder in folders.values():
        (folder / "capture").mkdir(parents=True)
    removed = work_orphans_clean()
    assert sorted(removed) == sorted(folders[n] for n in ("dead", "done", "superseded", "gone"))
    assert [n for n, f in folders.items() if f.exists()] == ["live"]
