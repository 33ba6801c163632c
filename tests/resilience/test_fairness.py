"""One insurer's backlog does not starve another: a per-insurer cap of captures in flight.

Insurer A queues two captures, then insurer B one; with one evidence worker and a cap of one
capture in flight per insurer, B's capture runs right after A's first, before A's backlog is
done (without the cap it would wait behind all of A's).
"""

from __future__ import annotations

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from evidence.models import Capture
from evidence.services.requests import capture_request
from outbox.models import OutboxMessage
from tests.resilience.conftest import process_stop, wait_until, worker_process

pytestmark = pytest.mark.usefixtures("evidence_env")


def _captures(insurer, ids: list[int]) -> list[Capture]:
    with tenant_context(insurer):
        found = {c.pk: c for c in Capture.objects.filter(pk__in=ids)}
    return [found[i] for i in ids]


def test_insurer_b_capture_starts_before_insurer_a_backlog_is_done(
    tenant_a, tenant_b, doctor_factory, pages, evidence_env, tmp_path
):
    env = evidence_env.worker_env(EGIDE_EVIDENCE_INFLIGHT_PER_INSURER="1", EGIDE_WORKER_LOOP_S="1")
    doctor_a = doctor_factory(tenant_a.insurer)
    doctor_b = doctor_factory(tenant_b.insurer)
    with override_settings(EGIDE_OUTBOX_INFLIGHT_MAX={"evidence": 1}):
        # given insurer A queues two captures, then insurer B one
        with tenant_context(tenant_a.insurer):
            a_ids = [
                capture_request(url=pages.url(f"/avis?a={n}"), requested_by=doctor_a, reason="")
                for n in range(2)
            ]
        with tenant_context(tenant_b.insurer):
            b_id = capture_request(url=pages.url("/avis?b"), requested_by=doctor_b, reason="")
        # then only one of A's is in the broker, and B's; A's second waits in the outbox
        rows = {
            (r.schema_name, r.key): r.status
            for r in OutboxMessage.objects.filter(schema_name__in=["test_a", "test_b"])
        }
        assert [rows[("test_a", f"evidence.capture:{i}")] for i in a_ids] == ["sent", "pending"]
        assert rows[("test_b", f"evidence.capture:{b_id}")] == "sent"
        # when one evidence worker works through the queue
        worker = worker_process(env, tmp_path / "worker.log")
        try:
            wait_until(
                lambda: (
                    all(c.is_finished for c in _captures(tenant_a.insurer, a_ids))
                    and _captures(tenant_b.insurer, [b_id])[0].is_finished
                ),
                timeout_s=150,
                what="les trois captures terminées",
            )
        finally:
            process_stop(worker)
    log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    a = _captures(tenant_a.insurer, a_ids)
    (b,) = _captures(tenant_b.insurer, [b_id])
    assert [c.status for c in a] + [b.status] == ["complete"] * 3, log
    # then B's capture started before A's second one: A's backlog did not hold B back. (The
    # worker's two threads share one browser: B may start while A's first is being sealed, and
    # A's second may start while B is being sealed, so only the order of starts is fair game.)
    starts = (a[0].started_at, b.started_at, a[1].started_at)
    assert a[0].started_at < b.started_at < a[1].started_at, starts
