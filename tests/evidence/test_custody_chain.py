"""The chain of custody: numbered events, each hashing its content and the previous hash, so
that changing, removing or reordering one is detected."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from evidence import selectors
from evidence.custody_chain import custody_hash, custody_payload
from evidence.models import Capture, CustodyEvent
from evidence.services.custody import custody_record
from tests.tenants.factories import DoctorUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def capture(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory(email="chaine@exemple.fr")
        capture = Capture.objects.create(url="http://127.0.0.1:1/avis", requested_by=doctor)
        custody_record(capture=capture, kind="requested", actor=doctor, detail={"url": capture.url})
        custody_record(capture=capture, kind="started", detail={"attempt": 1})
        custody_record(capture=capture, kind="viewed", actor=doctor, detail={"where": "portail"})
        yield capture


def test_each_event_holds_the_hash_of_the_previous_one(capture):
    events = list(selectors.custody_events(capture=capture))
    assert [(e.seq, e.kind, e.actor_label) for e in events] == [
        (1, "requested", "chaine@exemple.fr"),
        (2, "started", "Égide"),
        (3, "viewed", "chaine@exemple.fr"),
    ]
    assert [e.prev_hash for e in events] == ["", events[0].hash, events[1].hash]
    assert all(e.hash == custody_hash(custody_payload(e)) for e in events)
    assert selectors.custody_chain_check(capture=capture) == selectors.CustodyCheck(
        ok=True, events=3, broken_at=None
    )


def test_a_changed_event_breaks_the_chain_where_it_was_changed(capture):
    CustodyEvent.objects.filter(capture=capture, seq=2).update(actor_label="quelqu'un d'autre")
    assert selectors.custody_chain_check(capture=capture) == selectors.CustodyCheck(
        ok=False, events=2, broken_at=2
    )


def test_a_removed_event_breaks_the_chain(capture):
    CustodyEvent.objects.filter(capture=capture, seq=2).delete()
    assert selectors.custody_chain_check(capture=capture) == selectors.CustodyCheck(
        ok=False, events=2, broken_at=3
    )


def test_a_rehashed_forgery_still_breaks_at_the_next_link(capture):
    forged = CustodyEvent.objects.get(capture=capture, seq=2)
    forged.detail = {"attempt": 9}
    forged.hash = custody_hash(custody_payload(forged))
    forged.save()
    assert selectors.custody_chain_check(capture=capture) == selectors.CustodyCheck(
        ok=False, events=3, broken_at=3
    )
