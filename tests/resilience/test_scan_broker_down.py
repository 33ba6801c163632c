"""Redis (the broker) down while a doctor starts a monitoring scan, on real processes.

Before, the scan's message was sent after commit without a net: the doctor got a 500 and the
scan stayed « en attente » until the two-hour sweep failed it. Now it waits in the outbox and
runs once Redis is back, exactly once.
"""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import tenant_context

from cleanup.models import Scan, WatchProfile
from cleanup.services.scans import scan_outbox_key
from cleanup.services.watch import watch_profile_save, watched_page_add
from outbox.models import OutboxMessage
from tests.cleanup.factories import doctor_with_policy
from tests.resilience.conftest import (
    process_stop,
    signed_in,
    wait_until,
    web_process,
    worker_process,
)

pytestmark = pytest.mark.usefixtures("evidence_env")


@pytest.fixture
def watched_doctor(tenant_a, committed_db, unique, pages):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(
            first_name="Paule", last_name="Relais", email=f"relais-{unique}@exemple.fr"
        )
        profile = watch_profile_save(
            doctor=doctor, name_variants=["Dr Paule Relais"], practice_name="", city="Lyon",
            specialty="", keywords=[],
        )  # fmt: skip
        watched_page_add(profile=profile, url=pages.url("/avis-relais"))
    yield doctor
    with tenant_context(tenant_a.insurer):
        ids = list(Scan.objects.filter(profile__doctor=doctor).values_list("pk", flat=True))
        OutboxMessage.objects.filter(
            schema_name=tenant_a.insurer.schema_name,
            key__in=[scan_outbox_key(scan_id=i) for i in ids],
        ).delete()
        WatchProfile.objects.filter(doctor=doctor).delete()
        policy_user = doctor.user
        doctor.policies.all().delete()
        doctor.delete()
        policy_user.delete()


def test_scan_started_while_redis_is_down_is_kept_and_runs_when_it_is_back(
    tenant_a, watched_doctor, evidence_env, own_redis, tmp_path
):
    env = evidence_env.worker_env(
        EGIDE_BROKER_REDIS_URL=own_redis.url,
        EGIDE_WORKER_LOOP_S="1",
        EGIDE_FETCH_ALLOWED_NETWORKS="127.0.0.0/8",
    )
    with web_process(env, host=tenant_a.domain, log_path=tmp_path / "web.log") as web:
        browser = signed_in(web, tenant_a.insurer, watched_doctor.user)
        worker = worker_process(env, tmp_path / "worker.log", queues=("cleanup",))
        try:
            status, page, _headers = browser.get("/veille/")
            assert status == 200, page[:1000]
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            assert token, page[:2000]
            # when Redis stops and the doctor starts a scan
            own_redis.stop()
            status, body, headers = browser.request(
                "POST", "/veille/lancer/", {"csrfmiddlewaretoken": token.group(1)}
            )
            # then the request succeeds and the scan waits in the outbox
            assert (status, headers.get("Location")) == (302, "/veille/"), body[:2000]
            with tenant_context(tenant_a.insurer):
                scan = Scan.objects.get(profile__doctor=watched_doctor)
            assert scan.status == Scan.Status.QUEUED
            row = _row(tenant_a.insurer, scan.pk)
            assert (row.status, row.sends) == ("pending", 0)
            assert row.last_error
            # when Redis is back, the relay sends it and the worker runs it
            own_redis.start()
            wait_until(
                lambda: _status(tenant_a.insurer, scan.pk) in ("done", "failed"),
                timeout_s=90,
                what="veille envoyée par le relais puis terminée",
            )
        finally:
            process_stop(worker)
    log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    with tenant_context(tenant_a.insurer):
        scan.refresh_from_db()
        assert (scan.status, scan.pages_total, scan.pages_failed) == ("done", 1, 0), log
    row = _row(tenant_a.insurer, scan.pk)
    assert (row.status, row.sends) == ("done", 1)


def _row(insurer, scan_id: int) -> OutboxMessage:
    return OutboxMessage.objects.get(
        schema_name=insurer.schema_name, key=scan_outbox_key(scan_id=scan_id)
    )


def _status(insurer, scan_id: int) -> str:
    with tenant_context(insurer):
        return Scan.objects.get(pk=scan_id).status
