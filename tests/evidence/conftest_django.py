"""Fixtures for the Django side of evidence (imported by those test modules, not a conftest).

- ``evidence_env`` (session): a local RFC 3161 TSA on 127.0.0.1, its certificates on disk, and
  settings pointing at it, at a temporary write-once evidence root, and allowing captures of
  127.0.0.1 only (the pages of ``tests.evidence.pages``). ``worker_env`` gives the same to a
  worker started in a subprocess.
- ``capture_browser`` (module): one Chromium, as a capture worker owns one.
- ``evidence_worker()``: run the "evidence" queue in this process meanwhile; ``complete_capture``
  (module): one real complete capture in test_a.

Tests never send traffic outside 127.0.0.0/8.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from evidence.pki import tsa_pki_generate
from evidence.tsa_server import TsaServer

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv"
VERIFY_BUNDLE_SH = REPO / "evidence" / "tools" / "verify-bundle.sh"
CHROMIUM_ARGS_TIMEOUTS = {
    "EGIDE_CAPTURE_TIMEOUT_S": 15.0,
    "EGIDE_CAPTURE_IDLE_TIMEOUT_S": 3.0,
    "EGIDE_CAPTURE_BEHAVIORS_TIMEOUT_S": 10.0,
}


@dataclass
class EvidenceEnv:
    tsa: TsaServer
    tsa_cert: Path
    tsa_ca: Path
    root: Path

    def settings(self) -> dict:
        return {
            "EGIDE_TSA_URL": self.tsa.url,
            "EGIDE_TSA_CERT_FILE": str(self.tsa_cert),
            "EGIDE_TSA_CA_FILE": str(self.tsa_ca),
            "EGIDE_TSA_TIMEOUT_S": 5.0,
            "EGIDE_CAPTURE_ALLOW": ["127.0.0.1"],
            "EGIDE_EVIDENCE_ROOT": str(self.root),
            **CHROMIUM_ARGS_TIMEOUTS,
        }

    def worker_env(self, **extra: str) -> dict[str, str]:
        """Environment for ``dramatiq saas.worker`` in a subprocess, on this run's test DB."""
        from django.conf import settings
        from django.db import connection

        db = connection.settings_dict
        user = quote(db["USER"] or "", safe="")
        password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
        port = f":{db['PORT']}" if db.get("PORT") else ""
        host = quote(db["HOST"] or "", safe="")
        env = {
            **os.environ,
            # dev settings: test.py pins the queue namespace to its own process id.
            "DJANGO_SETTINGS_MODULE": "saas.settings.dev",
            "DATABASE_URL": f"postgres://{user}{password}@{host}{port}/{db['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "EGIDE_DRAMATIQ_NAMESPACE": settings.DRAMATIQ_NAMESPACE,
            "EGIDE_TSA_URL": self.tsa.url,
            "EGIDE_TSA_CERT_FILE": str(self.tsa_cert),
            "EGIDE_TSA_CA_FILE": str(self.tsa_ca),
            "EGIDE_CAPTURE_ALLOW": "127.0.0.1",
            "EGIDE_EVIDENCE_ROOT": str(self.root),
            **{key: str(value) for key, value in CHROMIUM_ARGS_TIMEOUTS.items()},
        }
        env.update(extra)
        return env


@pytest.fixture(scope="session", name="evidence_env")
def evidence_env_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EvidenceEnv]:
    from django.test import override_settings

    pki = tsa_pki_generate(common_name="TSA de test Egide (Django)", valid_days=30)
    certs = tmp_path_factory.mktemp("tsa-certs")
    (certs / "tsa.pem").write_bytes(pki.cert_pem)
    (certs / "tsa-ca.pem").write_bytes(pki.ca_cert_pem)
    server = TsaServer(pki=pki, host="127.0.0.1", port=0).start()
    env = EvidenceEnv(
        tsa=server,
        tsa_cert=certs / "tsa.pem",
        tsa_ca=certs / "tsa-ca.pem",
        root=tmp_path_factory.mktemp("evidence-root"),
    )
    override = override_settings(**env.settings())
    override.enable()
    yield env
    override.disable()
    server.stop()


@pytest.fixture(name="capture_browser")
def capture_browser_fixture(browser_thread_shared):
    """The run's browser thread, handed to ``capture_execute`` as the worker hands its own."""
    return browser_thread_shared


@contextlib.contextmanager
def evidence_worker() -> Iterator[None]:
    """Run the "evidence" queue in this process (two threads, as the real worker) meanwhile."""
    import dramatiq

    from evidence.tasks import QUEUE

    broker = dramatiq.get_broker()
    worker = dramatiq.Worker(broker, queues={QUEUE}, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        yield
    finally:
        worker.stop()


def wait_until(predicate: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"délai dépassé : {what}")
        time.sleep(0.2)


def capture_status(insurer, capture_id: int) -> tuple[str, int]:
    from django_tenants.utils import tenant_context

    from evidence.models import Capture

    with tenant_context(insurer):
        capture = Capture.objects.get(pk=capture_id)
        return capture.status, capture.progress


def captures_delete(insurer, capture_ids) -> None:
    """Remove committed test captures (their files stay in the temporary write-once root)."""
    from django_tenants.utils import tenant_context

    from evidence.models import Capture, CustodyEvent, ShareLink

    with tenant_context(insurer):
        CustodyEvent.objects.filter(capture_id__in=capture_ids).delete()
        ShareLink.objects.filter(capture_id__in=capture_ids).delete()
        Capture.objects.filter(previous_id__in=capture_ids).update(previous=None)
        Capture.objects.filter(pk__in=capture_ids).delete()


@dataclass(frozen=True)
class CompleteCapture:
    capture_id: int
    doctor_id: int
    doctor_email: str


@pytest.fixture(scope="module", name="complete_capture")
def complete_capture_fixture(
    django_db_setup, django_db_blocker, evidence_env
) -> Iterator[CompleteCapture]:
    """One real, complete capture in test_a (committed), requested by a doctor of test_a.

    Made once per module through the real pipeline; tests that add events to it run in
    rolled-back transactions (``db``).
    """
    import uuid
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from django_tenants.utils import tenant_context

    from evidence.services.execution import capture_execute
    from evidence.services.requests import capture_request
    from tenants.models import Insurer
    from tests.evidence.pages import Site, _handler, _routes, _serve
    from tests.tenants.factories import DoctorUserFactory

    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    site = Site(port=server.server_address[1], forbidden_port=9, tls_port=9)
    server.RequestHandlerClass = _handler(site, site.hits, _routes(site))
    _serve(server)
    with django_db_blocker.unblock():
        insurer = Insurer.objects.get(schema_name="test_a")
        with tenant_context(insurer):
            doctor = DoctorUserFactory(email=f"medecin-{uuid.uuid4().hex[:8]}@exemple.fr")
            capture_id = capture_request(
                url=site.url("/consent"), requested_by=doctor, reason="Avis", enqueue=False
            )
            capture = capture_execute(capture_id=capture_id)
            assert capture.status == "complete", capture.error
        server.shutdown()
        server.server_close()
        yield CompleteCapture(capture_id=capture_id, doctor_id=doctor.pk, doctor_email=doctor.email)
        captures_delete(insurer, [capture_id])
        with tenant_context(insurer):
            doctor.delete()
