"""The insurer's custody log: every custody event of every capture, chained across the insurer,
append-only in the database, verified by ``evidence_custody_verify`` and shown read-only to
the staff who may download bundles."""

from __future__ import annotations

import datetime as dt
import io
import threading
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django_tenants.utils import tenant_context

from evidence.custody_chain import custody_hash, custody_payload
from evidence.custody_log import (
    custody_log_append,
    custody_log_genesis,
    custody_log_hash,
    custody_log_payload,
    custody_log_verify,
)
from evidence.models import Capture, CustodyEvent, CustodyLogEntry
from evidence.services.custody import capture_downloaded, capture_viewed, custody_record
from evidence.services.sharing import capture_share
from tests.conftest import staff_login
from tests.evidence.conftest_django import captures_delete
from tests.tenants.factories import ClaimsHandlerFactory, DoctorUserFactory, InsurerAdminFactory

RECIPIENT = "etude@commissaire-justice.example"
TABLE = "evidence_custodylogentry"


def _entries_after(seq: int) -> list[CustodyLogEntry]:
    return list(CustodyLogEntry.objects.filter(seq__gt=seq).order_by("seq"))


def _last_seq() -> int:
    last = CustodyLogEntry.objects.order_by("-seq").first()
    return last.seq if last else 0


def _verify(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("evidence_custody_verify", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _unguarded() -> None:
    """Disable the append-only trigger for the rest of this (rolled-back) test transaction."""
    _raw(f"ALTER TABLE {TABLE} DISABLE TRIGGER evidence_custody_log_append_only")


@pytest.fixture
def capture(tenant_a, db):
    """A complete capture of test_a with its first events (rolled back after the test)."""
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory(email=f"journal-{uuid.uuid4().hex[:6]}@exemple.fr")
        capture = Capture.objects.create(
            url="http://127.0.0.1:1/avis",
            requested_by=doctor,
            status=Capture.Status.COMPLETE,
            gen_time=dt.datetime(2026, 3, 14, 9, 26, 53, tzinfo=dt.UTC),
            zip_sha256="ab" * 32,
        )
        custody_record(capture=capture, kind="requested", actor=doctor)
        custody_record(capture=capture, kind="completed", detail={"zip": "ab" * 32})
        yield capture


# --- Appends ---------------------------------------------------------------------------------


def test_download_and_share_append_chained_entries_to_the_insurer_log(tenant_a, capture):
    with tenant_context(tenant_a.insurer):
        # given
        handler = ClaimsHandlerFactory()
        before = _last_seq()
        # when
        capture_downloaded(capture=capture, actor=handler, where="administration")
        capture_share(
            capture=capture,
            recipient_email=RECIPIENT,
            expires_in=dt.timedelta(days=7),
            shared_by=handler,
        )
        # then
        entries = _entries_after(before)
        events = list(CustodyEvent.objects.filter(capture=capture).order_by("seq"))[-2:]
        previous = CustodyLogEntry.objects.get(seq=before).hash
    assert [(e.seq, e.kind, e.actor_label, e.capture_id) for e in entries] == [
        (before + 1, "downloaded", handler.email, capture.pk),
        (before + 2, "shared", handler.email, capture.pk),
    ]
    assert [e.prev_hash for e in entries] == [previous, entries[0].hash]
    assert all(e.hash == custody_log_hash(custody_log_payload(e)) for e in entries)
    assert [(e.capture_seq, e.event_hash) for e in entries] == [(ev.seq, ev.hash) for ev in events]
    assert entries[1].detail["recipient"] == RECIPIENT


def test_every_capture_event_is_logged_and_the_first_entry_starts_from_the_schema(
    tenant_a, capture
):
    with tenant_context(tenant_a.insurer):
        logged = list(
            CustodyLogEntry.objects.filter(capture=capture)
            .order_by("seq")
            .values_list("kind", "capture_seq")
        )
        first = CustodyLogEntry.objects.get(seq=1)
    assert logged == [("requested", 1), ("completed", 2)]
    assert first.prev_hash == custody_log_genesis(schema_name="test_a")
    assert custody_log_genesis(schema_name="test_a") != custody_log_genesis(schema_name="test_b")


def test_a_renewal_is_logged_by_its_kind(tenant_a, capture):
    with tenant_context(tenant_a.insurer):
        before = _last_seq()
        custody_record(capture=capture, kind="renewed", detail={"until": "2036-03-14"})
        [entry] = _entries_after(before)
    assert (entry.kind, entry.capture_seq, entry.actor_label) == ("renewed", 3, "Égide")


def test_sending_a_claims_capture_to_a_commissaire_is_logged(tenant_a, settings, db):
    from cover.claims.models import Partner, PartnerKind
    from cover.claims.selectors.captures import claim_capture_ids
    from cover.claims.services.captures import claim_evidence_send
    from tests.cover.claims_factories import claim_create, handler_create

    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]
    with tenant_context(tenant_a.insurer):
        # given
        claim = claim_create()
        (capture_id,) = claim_capture_ids(claim=claim)
        Capture.objects.filter(pk=capture_id).update(
            status=Capture.Status.COMPLETE, gen_time=dt.datetime.now(dt.UTC), progress=100
        )
        commissaire = Partner.objects.create(
            kind=PartnerKind.COMMISSAIRE, name="Me Durand", email=RECIPIENT
        )
        handler = handler_create()
        before = _last_seq()
        # when
        claim_evidence_send(
            claim=claim, capture_id=capture_id, partner=commissaire, expires_in_days=7, by=handler
        )
        # then
        entries = _entries_after(before)
    assert [(e.kind, e.capture_id, e.actor_label) for e in entries] == [
        ("shared", capture_id, handler.email)
    ]
    assert entries[0].detail["recipient"] == RECIPIENT


# --- Database guard --------------------------------------------------------------------------


def test_the_database_refuses_to_update_or_delete_an_entry(tenant_a, capture):
    with tenant_context(tenant_a.insurer):
        entry = CustodyLogEntry.objects.filter(capture=capture).order_by("seq").first()
        assert entry is not None
        for sql in (
            f"UPDATE {TABLE} SET actor_label = 'quelqu''un' WHERE seq = %s",
            f"DELETE FROM {TABLE} WHERE seq = %s",
        ):
            with pytest.raises(DatabaseError, match="journal de possession en ajout seul"):
                with transaction.atomic():
                    _raw(sql, [entry.seq])
        with pytest.raises(DatabaseError, match="journal de possession en ajout seul"):
            with transaction.atomic():
                _raw(f"TRUNCATE {TABLE}")
        stored = CustodyLogEntry.objects.get(seq=entry.seq)
    assert (stored.actor_label, stored.hash) == (entry.actor_label, entry.hash)


def test_the_migration_appends_earlier_events_in_the_order_they_happened(tenant_a, capture):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    migration = importlib.import_module("evidence.migrations.0005_custody_log")
    with tenant_context(tenant_a.insurer):
        # given: a schema whose events predate the log
        _raw(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        _raw(f"DELETE FROM {TABLE}")
        events = list(CustodyEvent.objects.order_by("at", "capture_id", "seq"))
        # when
        migration.backfill(apps, SimpleNamespace(connection=connection))
        # then
        entries = list(CustodyLogEntry.objects.order_by("seq"))
        result = custody_log_verify()
    assert [(e.seq, e.capture_id, e.capture_seq, e.event_hash) for e in entries] == [
        (n, ev.capture_id, ev.seq, ev.hash) for n, ev in enumerate(events, start=1)
    ]
    assert entries[0].prev_hash == custody_log_genesis(schema_name="test_a")
    assert result.ok, result.lines()


# --- Verification ----------------------------------------------------------------------------


def test_the_command_on_a_clean_chain_exits_0(tenant_a, tenant_b, capture):
    with tenant_context(tenant_a.insurer):
        count = CustodyLogEntry.objects.count()
    code, out = _verify("--schema", "test_a")
    assert code == 0, out
    assert f"test_a : chaîne intacte ({count} maillons)" in out
    assert "test_a : chaînes des captures intactes" in out
    code, out = _verify()
    assert code == 0, out
    assert "test_b : chaîne intacte" in out
    assert "Toutes les chaînes de possession sont intactes." in out


def test_a_tampered_entry_is_reported_at_its_number_and_the_command_exits_1(tenant_a, capture):
    with tenant_context(tenant_a.insurer):
        # given
        seq = CustodyLogEntry.objects.get(capture=capture, capture_seq=1).seq
        _unguarded()
        _raw(f"UPDATE {TABLE} SET actor_label = 'quelqu''un d''autre' WHERE seq = %s", [seq])
    # when
    code, out = _verify("--schema", "test_a")
    # then
    assert code == 1
    assert f"test_a : chaîne rompue au maillon n° {seq} : empreinte recalculée" in out
    assert "Chaîne de possession rompue : test_a." in out
    with tenant_context(tenant_a.insurer):
        assert custody_log_verify().log_break.problem == "hash"


def test_a_deleted_middle_entry_is_reported_as_a_gap(tenant_a, capture):
    with tenant_context(tenant_a.insurer):
        capture_viewed(capture=capture, where="administration")
        seq = CustodyLogEntry.objects.get(capture=capture, capture_seq=2).seq
        _unguarded()
        _raw(f"DELETE FROM {TABLE} WHERE seq = %s", [seq])
        result = custody_log_verify()
    assert (result.log_break.seq, result.log_break.problem) == (seq, "gap")
    code, out = _verify("--schema", "test_a")
    assert code == 1
    assert (
        f"chaîne rompue au maillon n° {seq} : maillon absent "
        f"(le n° {seq - 1} est suivi du n° {seq + 1})"
    ) in out


def test_a_rehashed_forgery_breaks_at_the_next_link(tenant_a, capture):
    with tenant_context(tenant_a.insurer):
        forged = CustodyLogEntry.objects.get(capture=capture, capture_seq=1)
        forged.detail = {"url": "https://ailleurs.example/"}
        forged.hash = custody_log_hash(custody_log_payload(forged))
        _unguarded()
        _raw(
            f"UPDATE {TABLE} SET detail = %s::jsonb, hash = %s WHERE seq = %s",
            ['{"url": "https://ailleurs.example/"}', forged.hash, forged.seq],
        )
        result = custody_log_verify()
    assert (result.log_break.seq, result.log_break.problem) == (forged.seq + 1, "prev_hash")
    assert f"celle du maillon n° {forged.seq}" in result.log_break.message


def test_a_capture_chain_rewritten_from_scratch_disagrees_with_the_log(tenant_a, capture):
    """Recomputing a capture's whole chain hides the change from that chain, not from the log."""
    with tenant_context(tenant_a.insurer):
        previous = ""
        for event in CustodyEvent.objects.filter(capture=capture).order_by("seq"):
            event.actor_label = "faussaire" if event.seq == 1 else event.actor_label
            event.prev_hash = previous
            event.hash = custody_hash(custody_payload(event))
            event.save()
            previous = event.hash
        result = custody_log_verify()
    assert result.log_break is None
    assert result.capture_problems == (
        f"capture n° {capture.pk} : l'événement n° 1 diffère de celui inscrit au journal",
    )
    code, out = _verify("--schema", "test_a")
    assert code == 1
    assert f"test_a : capture n° {capture.pk} : l'événement n° 1 diffère" in out


def test_a_changed_capture_event_is_reported(tenant_a, capture):
    with tenant_context(tenant_a.insurer):
        CustodyEvent.objects.filter(capture=capture, seq=2).update(actor_label="quelqu'un")
    code, out = _verify("--schema", "test_a")
    assert code == 1
    assert f"capture n° {capture.pk} : chaîne rompue à l'événement n° 2" in out


def test_an_unknown_schema_is_refused(db):
    code, out = _verify("--schema", "nulle_part")
    assert code == 2
    assert "Assureur introuvable : schéma « nulle_part »." in out


# --- Concurrency (committed data, one connection per thread) ---------------------------------


def test_concurrent_appends_yield_a_gap_free_valid_chain(tenant_a, committed_db):
    threads_n, per_thread = 6, 5
    marker = f"fil-{uuid.uuid4().hex[:8]}"
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory(email=f"{marker}@exemple.fr")
        capture = Capture.objects.create(url="http://127.0.0.1:1/concurrent", requested_by=doctor)
        before = _last_seq()

    def work(n: int) -> None:
        try:
            with tenant_context(tenant_a.insurer):
                barrier.wait(timeout=10)
                for i in range(per_thread):
                    if i % 2:
                        custody_record(
                            capture=capture.pk, kind="viewed", actor_label=f"{marker}-{n}"
                        )
                    else:
                        custody_log_append(kind="test", actor_label=f"{marker}-{n}")
        except Exception as exc:  # noqa: BLE001 — reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not errors, errors
        with tenant_context(tenant_a.insurer):
            ours = list(
                CustodyLogEntry.objects.filter(actor_label__startswith=marker)
                .order_by("seq")
                .values_list("seq", flat=True)
            )
            events = list(
                CustodyEvent.objects.filter(capture=capture)
                .order_by("seq")
                .values_list("seq", flat=True)
            )
            result = custody_log_verify()
        assert len(ours) == threads_n * per_thread
        assert ours == list(range(before + 1, before + 1 + threads_n * per_thread))
        assert events == list(range(1, len(events) + 1))
        assert result.log_break is None, result.lines()
        assert not result.capture_problems, result.lines()
    finally:
        captures_delete(tenant_a.insurer, [capture.pk])
        with tenant_context(tenant_a.insurer):
            doctor.delete()


# --- Admin page ------------------------------------------------------------------------------


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    with tenant_context(tenant.insurer):
        staff_login(client, user)
    return client


def test_handler_sees_the_log_newest_first_with_its_verification(tenant_a, capture):
    with tenant_context(tenant_a.insurer):
        handler = ClaimsHandlerFactory()
        capture_downloaded(capture=capture, actor=handler, where="administration")
        last = CustodyLogEntry.objects.order_by("-seq").first()
        count = CustodyLogEntry.objects.count()
    response = _client(tenant_a, handler).get("/admin/preuves/journal/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Chaîne vérifiée : {count} maillons, chaque empreinte recalculée." in html
    rows = html.split('<tr data-seq="')[1:]
    assert rows[0].startswith(f'{last.seq}" data-kind="downloaded"')
    assert handler.email in rows[0]
    assert f"/admin/preuves/{capture.pk}/" in rows[0]


def test_the_page_says_where_the_chain_is_broken(tenant_a, capture):
    with tenant_context(tenant_a.insurer):
        handler = ClaimsHandlerFactory()
        seq = CustodyLogEntry.objects.get(capture=capture, capture_seq=2).seq
        _unguarded()
        _raw(f"UPDATE {TABLE} SET kind = 'viewed' WHERE seq = %s", [seq])
    html = _client(tenant_a, handler).get("/admin/preuves/journal/").content.decode()
    assert f'data-broken-seq="{seq}">Chaîne rompue au maillon n° {seq} : empreinte' in html
    assert "Chaîne vérifiée" not in html


def test_the_log_is_paginated(tenant_a, capture):
    with tenant_context(tenant_a.insurer):
        handler = ClaimsHandlerFactory()
        for n in range(51):
            custody_log_append(kind="test", actor_label=f"page-{n}")
        first_of_page_2 = CustodyLogEntry.objects.order_by("-seq")[50]
    client = _client(tenant_a, handler)
    page1 = client.get("/admin/preuves/journal/").content.decode()
    page2 = client.get("/admin/preuves/journal/?page=2").content.decode()
    assert page1.count('<tr data-seq="') == 50
    assert "page-50" in page1 and "page-0<" not in page1
    assert 'href="?page=2"' in page1
    assert page2.split('<tr data-seq="')[1].startswith(f'{first_of_page_2.seq}"')


def test_staff_who_cannot_download_bundles_cannot_see_the_log(tenant_a, capture):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory()
        assert not admin.has_perm("evidence.download_capture")
        before = _last_seq()
    client = _client(tenant_a, admin)
    response = client.get("/admin/preuves/journal/")
    menu = client.get("/admin/").content.decode()
    # Wagtail turns the refusal into a redirect to the dashboard.
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert "custody-log" not in response.content.decode()
    assert "Journal de possession" not in menu
    with tenant_context(tenant_a.insurer):
        assert _last_seq() == before


def test_insurer_a_never_sees_insurer_bs_log(tenant_a, tenant_b, db):
    marker_a, marker_b = (f"{k}-{uuid.uuid4().hex[:8]}@exemple.fr" for k in "ab")
    with tenant_context(tenant_a.insurer):
        handler_a = ClaimsHandlerFactory()
        custody_log_append(kind="test", actor_label=marker_a)
    with tenant_context(tenant_b.insurer):
        handler_b = ClaimsHandlerFactory()
        custody_log_append(kind="test", actor_label=marker_b)
        first_b = CustodyLogEntry.objects.get(seq=1)
    page_a = _client(tenant_a, handler_a).get("/admin/preuves/journal/").content.decode()
    page_b = _client(tenant_b, handler_b).get("/admin/preuves/journal/").content.decode()
    assert marker_a in page_a and marker_b not in page_a
    assert marker_b in page_b and marker_a not in page_b
    assert first_b.prev_hash == custody_log_genesis(schema_name="test_b")
    # A's handler on B's domain is not logged in there.
    assert Client(HTTP_HOST=tenant_b.domain).get("/admin/preuves/journal/").status_code in (
        302,
        403,
    )
