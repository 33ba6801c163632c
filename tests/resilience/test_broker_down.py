"""Redis (the broker) down while a doctor asks for a capture, on real processes.

The request succeeds (302 to the capture's page), the capture waits in the outbox instead of
being lost, and it completes once Redis is back: the worker's relay sends it, once.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from evidence.models import Capture, CustodyEvent
from outbox.models import OutboxMessage
from tests.resilience.conftest import (
    process_stop,
    signed_in,
    wait_until,
    web_process,
    worker_process,
)

pytestmark = pytest.mark.usefixtures("evidence_env")


def _row(insurer, capture_id: int) -> OutboxMessage:
    return OutboxMessage.objects.get(
        schema_name=insurer.schema_name, key=f"evidence.capture:{capture_id}"
    )


def test_capture_requested_while_redis_is_down_is_kept_and_completes_when_it_is_back(
    tenant_a, doctor_factory, pages, evidence_env, own_redis, tmp_path
):
    # given a web process and an evidence worker whose broker is our own Redis
    env = evidence_env.worker_env(EGIDE_BROKER_REDIS_URL=own_redis.url, EGIDE_WORKER_LOOP_S="1")
    doctor = doctor_factory(tenant_a.insurer)
    with web_process(env, host=tenant_a.domain, log_path=tmp_path / "web.log") as web:
        browser = signed_in(web, tenant_a.insurer, doctor)
        worker = worker_process(env, tmp_path / "worker.log")
        try:
            # when Redis stops and the doctor asks for a capture
            own_redis.stop()
            status, body, headers = browser.capture_post(pages.url("/avis"))
            # then the request succeeds and the capture is saved, waiting in the outbox
            assert status == 302, body[:1000]
            capture_id = int(headers["Location"].rstrip("/").rsplit("/", 1)[1])
            with tenant_context(tenant_a.insurer):
                capture = Capture.objects.get(pk=capture_id)
            assert (capture.status, capture.requested_by_id) == ("queued", doctor.pk)
            row = _row(tenant_a.insurer, capture_id)
            assert (row.status, row.sends) == ("pending", 0)
            assert row.last_error  # the failed send is recorded for the operator
            # and the page of the capture answers while Redis is still down
            status, _body, _headers = browser.get(f"/preuves/{capture_id}/etat.json")
            assert status == 200
            # when Redis is back, the relay sends it and the worker completes it
            own_redis.start()
            wait_until(
                lambda: _status(tenant_a.insurer, capture_id) in ("complete", "failed"),
                timeout_s=90,
                what="capture envoyée par le relais puis terminée",
            )
        finally:
            process_stop(worker)
    log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    with tenant_context(tenant_a.insurer):
        capture = Capture.objects.get(pk=capture_id)
        kinds = list(
            CustodyEvent.objects.filter(capture=capture)
            .order_by("seq")
            .values_list("kind", flat=True)
        )
    # then it completed exactly once, from one message
    assert (capture.status, capture.attempts, capture.error) == ("complete", 1, ""), log
    assert kinds == ["requested", "started", "completed"]
    row = _row(tenant_a.insurer, capture_id)
    assert (row.status, row.sends) == ("done", 1)


def _status(insurer, capture_id: int) -> str:
    with tenant_context(insurer):
        return Capture.objects.get(pk=capture_id).status
