"""An evidence worker killed (SIGKILL) mid-capture, with the production timings.

The capture is re-delivered to a new worker within 60 s, completes, and is captured once;
meanwhile the progress says « interrompue, reprise » instead of a frozen percentage, and the
dead attempt's work folder is gone at the end.
"""

from __future__ import annotations

import datetime as dt
import signal

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from evidence import selectors
from evidence.models import Capture, CustodyEvent
from evidence.services.requests import capture_request
from evidence.verify import bundle_verdicts_ok
from outbox.models import OutboxMessage
from tests.resilience.conftest import process_stop, wait_until, worker_process

pytestmark = pytest.mark.usefixtures("evidence_env")

REDELIVERY_WINDOW_S = 60


def _capture(insurer, capture_id: int) -> Capture:
    with tenant_context(insurer):
        return Capture.objects.get(pk=capture_id)


def test_killed_worker_capture_is_redelivered_within_60s_shown_interrupted_and_captured_once(
    tenant_a, doctor_factory, pages, evidence_env, tmp_path
):
    # given the production timings (no test override of heartbeats or maintenance)
    env = evidence_env.worker_env()
    log = tmp_path / "worker.log"
    doctor = doctor_factory(tenant_a.insurer)
    with tenant_context(tenant_a.insurer):
        capture_id = capture_request(url=pages.url("/lente"), requested_by=doctor, reason="Avis")
    work_root = evidence_env.root / tenant_a.insurer.schema_name / "work"
    first = worker_process(env, log)
    second = None
    try:
        wait_until(
            lambda: (
                (c := _capture(tenant_a.insurer, capture_id)).status == "running"
                and c.progress >= 20
            ),
            timeout_s=90,
            what="capture en cours dans le premier worker",
        )
        assert (work_root / f"{capture_id}-1").is_dir()
        # when the worker is killed mid-capture and a new one starts (as compose restarts it)
        process_stop(first, signal.SIGKILL)
        killed_at = timezone.now()
        second = worker_process(env, log)
        seen: list[dict] = []

        def finished() -> bool:
            with tenant_context(tenant_a.insurer):
                capture = Capture.objects.get(pk=capture_id)
                seen.append(selectors.capture_progress(capture=capture))
            return capture.is_finished

        wait_until(finished, timeout_s=REDELIVERY_WINDOW_S + 60, what="capture reprise et finie")
    finally:
        process_stop(first, signal.SIGKILL)
        process_stop(second)
    tail = log.read_text(errors="replace")[-3000:]
    # then the progress said « interrompue, reprise » (not a frozen percentage) for a while
    interrupted = [s for s in seen if s["interrupted"]]
    assert interrupted, tail
    assert interrupted[0]["status_label"] == "Interrompue, reprise"
    assert interrupted[0]["progress_label"] == "interrompue, reprise"
    # and the second attempt started within 60 s of the kill, and completed
    with tenant_context(tenant_a.insurer):
        capture = Capture.objects.get(pk=capture_id)
        events = list(CustodyEvent.objects.filter(capture=capture).order_by("seq"))
    assert (capture.status, capture.attempts, capture.error) == ("complete", 2, ""), tail
    started = [e for e in events if e.kind == "started"]
    assert len(started) == 2
    assert started[1].at - killed_at < dt.timedelta(seconds=REDELIVERY_WINDOW_S), (
        started[1].at - killed_at
    )
    # captured once: one completion, one bundle, the outbox row acknowledged and never re-sent
    assert [e.kind for e in events] == ["requested", "started", "started", "completed"]
    assert capture.bundle.name == f"bundles/evidence-{capture_id}-2.zip"
    with tenant_context(tenant_a.insurer):
        assert bundle_verdicts_ok(verdicts=selectors.capture_verdicts(capture=capture))
    row = OutboxMessage.objects.get(
        schema_name=tenant_a.insurer.schema_name, key=f"evidence.capture:{capture_id}"
    )
    assert (row.status, row.sends) == ("done", 1)
    # and no work folder of the capture is left behind
    assert not list(work_root.glob(f"{capture_id}-*"))
