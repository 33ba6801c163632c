"""/healthz checks every dependency for real, on any host, before tenant resolution."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client, override_settings

from saas.health import check_database
from tests.saas.production_env import REPO, closed_port, production_env

pytestmark = pytest.mark.django_db

ALL_CHECKS = ["broker", "cache", "database", "evidence", "storage", "tsa"]


@pytest.mark.parametrize(
    "host", ["localhost", "tenant-a.localhost", "127.0.0.1", "inconnu.example", "[::1]:8000"]
)
def test_healthz_reports_each_dependency_on_any_host(host, tenant_a, evidence_env):
    response = Client(HTTP_HOST=host).get("/healthz")

    body = response.json()
    assert response.status_code == 200, body
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert body["status"] == "ok"
    assert sorted(body["checks"]) == ALL_CHECKS
    assert all(check["ok"] for check in body["checks"].values()), body
    assert body["checks"]["tsa"]["detail"] == "ok (HTTP 405)"


@pytest.mark.parametrize("path", ["/healthz/ready", "/healthz/"])
def test_readiness_aliases(path, evidence_env):
    response = Client(HTTP_HOST="127.0.0.1").get(path)

    assert response.status_code == 200
    assert sorted(response.json()["checks"]) == ALL_CHECKS


def test_liveness_touches_no_dependency(evidence_env):
    with override_settings(EGIDE_TSA_URL=""):  # readiness would fail; liveness does not care
        live = Client(HTTP_HOST="inconnu.example").get("/healthz/live")
        ready = Client(HTTP_HOST="inconnu.example").get("/healthz")

    assert live.status_code == 200
    assert live.json() == {"status": "ok"}
    assert ready.status_code == 503


def test_healthz_refuses_other_methods():
    response = Client(HTTP_HOST="127.0.0.1").post("/healthz")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_healthz_fails_when_the_broker_is_unreachable(tenant_a, evidence_env):
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    previous = dramatiq.get_broker()
    dramatiq.set_broker(RedisBroker(url=f"redis://127.0.0.1:{closed_port()}/0"))
    try:
        response = Client(HTTP_HOST=tenant_a.domain).get("/healthz")
    finally:
        dramatiq.set_broker(previous)

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["checks"]["broker"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


def test_healthz_names_the_configured_broker(settings, tenant_a, evidence_env):
    response = Client(HTTP_HOST=tenant_a.domain).get("/healthz")

    expected = "ok (rabbitmq)" if settings.RABBITMQ_URL else "ok (redis)"
    assert response.json()["checks"]["broker"]["detail"] == expected


def test_healthz_fails_when_the_cache_is_unreachable(settings, evidence_env):
    location = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": location}}

    response = Client(HTTP_HOST="127.0.0.1").get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["ok"] is False
    assert "ConnectionError" in response.json()["checks"]["cache"]["detail"]


def test_healthz_fails_when_the_tsa_is_unreachable(evidence_env):
    with override_settings(EGIDE_TSA_URL=f"http://127.0.0.1:{closed_port()}/"):
        response = Client(HTTP_HOST="127.0.0.1").get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["tsa"]["ok"] is False
    assert response.json()["checks"]["evidence"]["ok"] is True


def test_healthz_fails_when_evidence_storage_is_unusable(evidence_env, tmp_path):
    (tmp_path / "pas-un-dossier").write_text("un fichier à la place du dossier des preuves")
    with override_settings(EGIDE_EVIDENCE_ROOT=str(tmp_path / "pas-un-dossier")):
        response = Client(HTTP_HOST="127.0.0.1").get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["evidence"]["ok"] is False
    assert "FileExistsError" in response.json()["checks"]["evidence"]["detail"]


def test_database_check_fails_fast_on_a_closed_port():
    from django.db import connection

    unreachable = {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": closed_port()}
    started = time.monotonic()
    with pytest.raises(Exception, match="(?i)connection"):
        check_database(settings_dict=unreachable, timeout_s=1.0)
    assert time.monotonic() - started < 3
    assert check_database(settings_dict=connection.settings_dict, timeout_s=1.0).startswith("ok")


def test_database_down_gives_503_json_under_gunicorn_on_127_0_0_1(tmp_path: Path):
    """The production stack (gunicorn, production settings) with PostgreSQL unreachable: the
    Docker probe on http://127.0.0.1 gets a JSON 503 naming the database, not a 500 page."""
    port = closed_port()
    env = production_env(tmp_path, DATABASE_URL=f"postgres://egide@127.0.0.1:{closed_port()}/egide")
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "saas.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "30",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        live = _get_when_up(f"http://127.0.0.1:{port}/healthz/live", server)
        status, body = _get(f"http://127.0.0.1:{port}/healthz")
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=20)

    assert live == (200, {"status": "ok"}), stderr.decode()[-2000:]
    assert status == 503
    assert body["status"] == "error"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is True
    assert body["checks"]["evidence"]["ok"] is True
    assert body["checks"]["tsa"]["ok"] is False  # nothing listens on its port either


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _get_when_up(url: str, server: subprocess.Popen) -> tuple[int, dict]:
    deadline = time.monotonic() + 60
    while True:
        try:
            return _get(url)
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_container_probes_use_the_health_endpoints():
    dockerfile = (REPO / "Dockerfile").read_text()
    compose = (REPO / "compose.yaml").read_text()

    assert "http://127.0.0.1:8000/healthz" in dockerfile
    assert "http://127.0.0.1:8000/healthz" in compose
