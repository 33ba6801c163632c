"""The capture actor on a real broker: a run to completion, bounded retries when the TSA is
down, and a worker process killed mid-capture (SIGKILL) whose message is re-delivered."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from evidence import selectors
from evidence.models import Capture
from evidence.services.requests import capture_request
from evidence.tasks import _shared, capture_execute_task
from evidence.verify import bundle_verdicts_ok
from tests.evidence.conftest_django import (
    REPO,
    VENV,
    capture_status,
    captures_delete,
    evidence_worker,
    wait_until,
)
from tests.evidence.pages import Site
from tests.tenants.factories import DoctorUserFactory

pytestmark = pytest.mark.usefixtures("evidence_env")


@pytest.fixture
def doctor(committed_db, tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        user = DoctorUserFactory(email=f"medecin-{unique}@exemple.fr")
    yield user
    with tenant_context(tenant_a.insurer):
        user.delete()


@pytest.fixture
def created(tenant_a):
    ids: list[int] = []
    yield ids
    captures_delete(tenant_a.insurer, ids)


@pytest.fixture
def fast_backoff(monkeypatch):
    monkeypatch.setitem(capture_execute_task.options, "min_backoff", 100)
    monkeypatch.setitem(capture_execute_task.options, "max_backoff", 200)


def _kinds(insurer, capture_id: int) -> list[str]:
    with tenant_context(insurer):
        return list(
            Capture.objects.get(pk=capture_id)
            .custody.order_by("seq")
            .values_list("kind", flat=True)
        )


def test_worker_runs_a_requested_capture_to_a_complete_bundle(
    tenant_a, doctor, created, site: Site
):
    # given
    with tenant_context(tenant_a.insurer):
        created.append(capture_request(url=site.url("/iframe"), requested_by=doctor, reason=""))
    # when
    with evidence_worker():
        wait_until(
            lambda: capture_status(tenant_a.insurer, created[0])[0] in ("complete", "failed"),
            timeout_s=90,
            what="capture terminée",
        )
    # then
    with tenant_context(tenant_a.insurer):
        capture = Capture.objects.get(pk=created[0])
        assert (capture.status, capture.progress, capture.attempts, capture.http_status) == (
            "complete",
            100,
            1,
            200,
        )
        assert bundle_verdicts_ok(verdicts=selectors.capture_verdicts(capture=capture))


def _custody_at(insurer, capture_id: int, kind: str):
    with tenant_context(insurer):
        return Capture.objects.get(pk=capture_id).custody.get(kind=kind).at


def test_two_worker_threads_process_two_captures_at_once_on_one_browser_and_both_verify(
    tenant_a, doctor, created, site: Site
):
    # given two captures queued together
    with tenant_context(tenant_a.insurer):
        for path in ("/iframe", "/lazy"):
            created.append(capture_request(url=site.url(path), requested_by=doctor, reason=""))
    # when the worker (two threads, one shared browser thread) runs them
    with evidence_worker():
        wait_until(
            lambda: all(
                capture_status(tenant_a.insurer, pk)[0] in ("complete", "failed") for pk in created
            ),
            timeout_s=120,
            what="deux captures terminées",
        )
        # one browser thread for the process, taken by the worker threads that ran captures
        assert _shared.users >= 1
    # then both are complete and verify
    with tenant_context(tenant_a.insurer):
        for pk in created:
            capture = Capture.objects.get(pk=pk)
            assert (capture.status, capture.attempts, capture.http_status) == ("complete", 1, 200)
            assert bundle_verdicts_ok(verdicts=selectors.capture_verdicts(capture=capture))
    # and they overlapped: the second had started before the first was complete
    first, second = sorted(created, key=lambda pk: _custody_at(tenant_a.insurer, pk, "started"))
    assert _custody_at(tenant_a.insurer, second, "started") < _custody_at(
        tenant_a.insurer, first, "completed"
    )
    # the worker stopped: the last worker thread out closed the shared browser thread
    assert _shared.users == 0


def test_tsa_down_is_retried_three_times_then_the_capture_fails_with_its_reason(
    tenant_a, doctor, created, site: Site, fast_backoff
):
    # given a TSA that refuses connections
    with override_settings(EGIDE_TSA_URL="http://127.0.0.1:9/"):
        with tenant_context(tenant_a.insurer):
            created.append(
                capture_request(url=site.url("/consent"), requested_by=doctor, reason="")
            )
        # when
        with evidence_worker():
            wait_until(
                lambda: capture_status(tenant_a.insurer, created[0])[0] == "failed",
                timeout_s=180,
                what="capture en échec",
            )
    # then
    with tenant_context(tenant_a.insurer):
        capture = Capture.objects.get(pk=created[0])
        assert (capture.status, capture.attempts, capture.bundle.name) == ("failed", 4, "")
        # a short French reason, the right count, no exception name or server address
        assert capture.error == (
            "Capture abandonnée après 4 tentatives. "
            "Dernière erreur : L'autorité d'horodatage ne répond pas."
        )
        assert capture.tagmanifest_sha256 == ""
    assert _kinds(tenant_a.insurer, created[0]) == ["requested"] + ["started"] * 4 + ["failed"]


def test_the_worker_thread_that_failed_a_capture_completes_the_next_one(
    tenant_a, doctor, created, site: Site, fast_backoff
):
    with evidence_worker():
        # given a capture that failed every attempt in this worker (TSA down)
        with override_settings(EGIDE_TSA_URL="http://127.0.0.1:9/"):
            with tenant_context(tenant_a.insurer):
                created.append(
                    capture_request(url=site.url("/lazy"), requested_by=doctor, reason="")
                )
            wait_until(
                lambda: capture_status(tenant_a.insurer, created[0])[0] == "failed",
                timeout_s=180,
                what="première capture en échec",
            )
        # when the same worker thread gets the next capture
        with tenant_context(tenant_a.insurer):
            created.append(capture_request(url=site.url("/iframe"), requested_by=doctor, reason=""))
        wait_until(
            lambda: capture_status(tenant_a.insurer, created[1])[0] in ("complete", "failed"),
            timeout_s=90,
            what="seconde capture terminée",
        )
    # then it completes, and its bundle verifies
    with tenant_context(tenant_a.insurer):
        first, second = (Capture.objects.get(pk=pk) for pk in created)
        assert (first.status, first.attempts) == ("failed", 4)
        assert (second.status, second.progress, second.attempts) == ("complete", 100, 1)
        assert bundle_verdicts_ok(verdicts=selectors.capture_verdicts(capture=second))


SLOW_SECONDS = 6


class _SlowPage(BaseHTTPRequestHandler):
    """A page whose image takes SLOW_SECONDS: the capture is surely running when killed."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        if self.path == "/lente":
            body = b"<title>Lente</title><p>Avis en cours de chargement.</p><img src='/img.png'>"
            kind = "text/html; charset=utf-8"
        else:
            time.sleep(SLOW_SECONDS)
            body, kind = b"", "image/png"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowPage)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/lente"
    server.shutdown()
    server.server_close()


def _running_past(insurer, capture_id: int, *, percent: int) -> bool:
    status, progress = capture_status(insurer, capture_id)
    return status == "running" and progress >= percent


def _worker_process(env: dict, log_path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(VENV / "bin" / "dramatiq"), "saas.worker", "--processes", "1", "--threads", "2",
         "--queues", "evidence"],
        cwd=REPO,
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen, sig: int) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        process.wait(timeout=30)


def test_worker_killed_mid_capture_leaves_it_redelivered_and_completed_not_partial(
    tenant_a, doctor, created, slow_site, evidence_env, tmp_path
):
    # given a worker process whose heartbeat expires after 3 s once it is dead
    env = evidence_env.worker_env(
        EGIDE_DRAMATIQ_HEARTBEAT_TIMEOUT_MS="3000", EGIDE_DRAMATIQ_MAINTENANCE_CHANCE="1000000"
    )
    log = tmp_path / "worker.log"
    with tenant_context(tenant_a.insurer):
        created.append(capture_request(url=slow_site, requested_by=doctor, reason=""))
    first = _worker_process(env, log)
    try:
        wait_until(
            lambda: _running_past(tenant_a.insurer, created[0], percent=20),
            timeout_s=60,
            what="capture en cours dans le premier worker",
        )
        # when the worker is killed mid-capture
        _stop(first, signal.SIGKILL)
        status, progress = capture_status(tenant_a.insurer, created[0])
        assert status == "running" and progress < 100
        # then a new worker gets the message again once the dead one's heartbeat expired
        second = _worker_process(env, log)
        try:
            wait_until(
                lambda: capture_status(tenant_a.insurer, created[0])[0] in ("complete", "failed"),
                timeout_s=120,
                what="capture reprise et terminée",
            )
        finally:
            _stop(second, signal.SIGTERM)
    finally:
        _stop(first, signal.SIGKILL)
    with tenant_context(tenant_a.insurer):
        capture = Capture.objects.get(pk=created[0])
        assert (capture.status, capture.attempts, capture.error) == ("complete", 2, ""), (
            log.read_text(errors="replace")[-3000:]
        )
        assert capture.bundle.name == f"bundles/evidence-{capture.pk}-2.zip"
        assert bundle_verdicts_ok(verdicts=selectors.capture_verdicts(capture=capture))
    assert _kinds(tenant_a.insurer, created[0]) == ["requested", "started", "started", "completed"]


def test_worker_killed_on_the_last_allowed_attempt_leaves_the_capture_failed_with_its_reason(
    tenant_a, doctor, created, slow_site, evidence_env, tmp_path
):
    # given workers allowed a single attempt per capture
    env = evidence_env.worker_env(
        EGIDE_DRAMATIQ_HEARTBEAT_TIMEOUT_MS="3000",
        EGIDE_DRAMATIQ_MAINTENANCE_CHANCE="1000000",
        EGIDE_CAPTURE_MAX_ATTEMPTS="1",
    )
    log = tmp_path / "worker.log"
    with tenant_context(tenant_a.insurer):
        created.append(capture_request(url=slow_site, requested_by=doctor, reason=""))
    first = _worker_process(env, log)
    try:
        wait_until(
            lambda: _running_past(tenant_a.insurer, created[0], percent=20),
            timeout_s=60,
            what="capture en cours dans le premier worker",
        )
        # when that worker is killed mid-capture and another one gets the message again
        _stop(first, signal.SIGKILL)
        second = _worker_process(env, log)
        try:
            wait_until(
                lambda: capture_status(tenant_a.insurer, created[0])[0] in ("complete", "failed"),
                timeout_s=120,
                what="capture abandonnée",
            )
        finally:
            _stop(second, signal.SIGTERM)
    finally:
        _stop(first, signal.SIGKILL)
    # then it is failed with its reason, never complete with partial evidence
    with tenant_context(tenant_a.insurer):
        capture = Capture.objects.get(pk=created[0])
        assert (capture.status, capture.attempts, capture.bundle.name) == ("failed", 2, "")
        assert capture.error == (
            "Capture abandonnée après 1 tentative. Dernière erreur : "
            "tentative interrompue (processus arrêté)"
        )
    assert _kinds(tenant_a.insurer, created[0]) == ["requested", "started", "failed"]
