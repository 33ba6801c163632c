"""Health endpoints, answered before tenant resolution, on any host, as JSON.

- ``/healthz/live``: the process answers; no dependency is touched (liveness probe).
- ``/healthz`` and ``/healthz/ready``: database, broker, cache, timestamp authority (TSA), media
  storage and evidence storage, each checked for real with a short timeout, all at once;
  200 when all pass, 503 otherwise (readiness probe, Docker's HEALTHCHECK, the operator).

``HealthCheckMiddleware`` comes first in ``MIDDLEWARE``: it never calls ``request.get_host()``
(so ``127.0.0.1`` or an unknown host is fine) and never goes through the tenant middleware, so a
database that is down gives a 503 JSON answer, not a 500 page. Checks open their own short-lived
connections with timeouts instead of Django's (a hung server cannot block the probe).
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dramatiq
import psycopg
import redis
from django.conf import settings
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from evidence.storage_s3 import evidence_bucket_check

LIVE_PATHS = frozenset({"/healthz/live", "/healthz/live/"})
READY_PATHS = frozenset({"/healthz", "/healthz/", "/healthz/ready", "/healthz/ready/"})
# libpq parameters of ``DATABASES[...]["OPTIONS"]`` worth keeping for the probe's connection.
_LIBPQ_OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "service", "target_session_attrs")


def health_timeout_s() -> float:
    return float(getattr(settings, "EGIDE_HEALTH_TIMEOUT_S", 2.0))


# ---------------------------------------------------------------------------------------------
# Checks: each returns a short detail or raises.
# ---------------------------------------------------------------------------------------------


def check_database(*, settings_dict: dict[str, Any] | None = None, timeout_s: float) -> str:
    """Connect to PostgreSQL with a connect and statement timeout and run ``SELECT 1``."""
    db = settings_dict if settings_dict is not None else connections["default"].settings_dict
    params: dict[str, Any] = {
        "dbname": db.get("NAME") or "postgres",
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "connect_timeout": max(1, math.ceil(timeout_s)),
        "options": f"-c statement_timeout={int(timeout_s * 1000)}",
        "application_name": "egide-healthz",
    }
    options = db.get("OPTIONS") or {}
    params.update({key: options[key] for key in _LIBPQ_OPTIONS if key in options})
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
        row = conn.execute("SELECT 1").fetchone()
        if row != (1,):
            raise RuntimeError(f"réponse inattendue : {row!r}")
        version = conn.info.server_version
    return f"ok (PostgreSQL {version // 10000}.{version % 10000})"


def _redis_ping(client: Any, *, timeout_s: float) -> None:
    """PING through a new connection built like ``client``'s, with timeouts."""
    pool = client.connection_pool
    kwargs = {
        **pool.connection_kwargs,
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
    }
    probe = redis.Redis(
        connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs)
    )
    try:
        probe.ping()
    finally:
        probe.connection_pool.disconnect()


def check_broker(*, timeout_s: float) -> str:
    broker = dramatiq.get_broker()
    if isinstance(broker, RabbitmqBroker):
        broker.connection  # noqa: B018 - opening the channel is the check
        return "ok (rabbitmq)"
    if isinstance(broker, RedisBroker):
        _redis_ping(broker.client, timeout_s=timeout_s)
        return "ok (redis)"
    raise RuntimeError(f"courtier inattendu : {type(broker).__name__}")


def check_cache(*, timeout_s: float) -> str:
    """The cache server answers. Pages survive without it (errors are ignored), so this probe
    is the only place where a cache outage shows."""
    config = settings.CACHES["default"]
    location = config.get("LOCATION", "")
    if isinstance(location, list | tuple):
        location = location[0]
    if str(location).startswith(("redis://", "rediss://", "unix://")):
        client = redis.Redis.from_url(
            location, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        try:
            client.ping()
        finally:
            client.connection_pool.disconnect()
        return "ok (redis)"

    key = f"healthz-{uuid.uuid4().hex}"
    cache = caches["default"]
    cache.set(key, "ok", 10)
    try:
        if cache.get(key) != "ok":
            raise RuntimeError("lecture différente de l'écriture")
    finally:
        cache.delete(key)
    return f"ok ({config['BACKEND'].rsplit('.', 1)[-1]})"


def check_tsa(*, timeout_s: float) -> str:
    """The timestamp authority is configured, its certificates readable, and it answers HTTP.

    No timestamp is requested (a qualified TSA bills them): any HTTP answer below 500 to a
    GET (a TSA usually says 405) proves the server is reachable.
    """
    url = settings.EGIDE_TSA_URL
    if not url:
        raise RuntimeError("EGIDE_TSA_URL non configurée")
    for setting in ("EGIDE_TSA_CERT_FILE", "EGIDE_TSA_CA_FILE"):
        path = getattr(settings, setting, "")
        if not path:
            raise RuntimeError(f"{setting} non configuré")
        if not os.access(path, os.R_OK):
            raise RuntimeError(f"{setting} illisible : {path}")
    request = urllib.request.Request(url, method="GET")  # noqa: S310 - configured by the operator
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    if status >= 500:
        raise RuntimeError(f"HTTP {status}")
    return f"ok (HTTP {status})"


def check_storage(*, timeout_s: float) -> str:
    """Media storage: write, read back and delete a small file."""
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as handle:
            if handle.read() != b"ok":
                raise OSError("lecture différente de l'écriture")
    finally:
        default_storage.delete(name)
    return "ok"


def check_evidence(*, timeout_s: float) -> str:
    """Evidence root: a directory we can write to (bundles are written once, never deleted by
    the application; the probe writes and removes its own file beside them). Created when
    missing, as the storage itself would at the first bundle."""
    root = Path(settings.EGIDE_EVIDENCE_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(prefix=".healthz-", dir=root)
    try:
        os.write(fd, b"ok")
        os.close(fd)
        if Path(probe).read_bytes() != b"ok":
            raise OSError("lecture différente de l'écriture")
    finally:
        os.unlink(probe)
    if settings.EGIDE_EVIDENCE_STORAGE == "s3":
        # Bundles on S3: the bucket must still be reachable and locked (Object Lock, versions).
        failed = [check.message for check in evidence_bucket_check() if not check.ok]
        if failed:
            raise OSError(" ".join(failed))
        return "ok (S3, Object Lock)"
    return "ok"


CHECKS: dict[str, Callable[..., str]] = {
    "database": check_database,
    "broker": check_broker,
    "cache": check_cache,
    "tsa": check_tsa,
    "storage": check_storage,
    "evidence": check_evidence,
}


def checks_run(*, timeout_s: float | None = None) -> tuple[bool, dict[str, dict[str, object]]]:
    """Run every check at once, each in a daemon thread; one still running after the timeout
    counts as failed (and is left to finish on its own)."""
    timeout = health_timeout_s() if timeout_s is None else timeout_s
    outcomes: dict[str, tuple[bool, str, float]] = {}

    def run(name: str, check: Callable[..., str]) -> None:
        started = time.monotonic()
        try:
            outcome = (True, check(timeout_s=timeout))
        except Exception as exc:  # noqa: BLE001 - a health check reports any failure
            outcome = (False, f"erreur : {exc.__class__.__name__}: {exc}")
        finally:
            connections.close_all()  # a check in this thread must not leave a connection behind
        outcomes[name] = (*outcome, time.monotonic() - started)

    threads = {
        name: threading.Thread(target=run, args=(name, check), daemon=True, name=f"healthz-{name}")
        for name, check in CHECKS.items()
    }
    started = time.monotonic()
    for thread in threads.values():
        thread.start()
    deadline = started + timeout + 0.5
    for thread in threads.values():
        thread.join(max(0.0, deadline - time.monotonic()))
    results: dict[str, dict[str, object]] = {}
    for name in CHECKS:
        ok, detail, elapsed = outcomes.get(
            name,
            (False, f"erreur : délai dépassé ({timeout:g} s)", time.monotonic() - started),
        )
        results[name] = {"ok": ok, "detail": detail, "ms": round(elapsed * 1000, 1)}
    return all(result["ok"] for result in results.values()), results


# ---------------------------------------------------------------------------------------------
# Views and middleware
# ---------------------------------------------------------------------------------------------


def _json(payload: dict[str, object], *, status: int) -> JsonResponse:
    response = JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})
    add_never_cache_headers(response)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _method_refused(request: HttpRequest) -> JsonResponse | None:
    if request.method in ("GET", "HEAD"):
        return None
    response = _json({"status": "error", "detail": "GET uniquement"}, status=405)
    response["Allow"] = "GET, HEAD"
    return response


def liveness(request: HttpRequest) -> JsonResponse:
    return _method_refused(request) or _json({"status": "ok"}, status=200)


def healthz(request: HttpRequest) -> JsonResponse:
    """Readiness: every dependency, 503 as soon as one fails."""
    if refused := _method_refused(request):
        return refused
    healthy, results = checks_run()
    return _json(
        {"status": "ok" if healthy else "error", "checks": results},
        status=200 if healthy else 503,
    )


class HealthCheckMiddleware:
    """Answers the health paths before anything else (first in ``MIDDLEWARE``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path in LIVE_PATHS:
            return liveness(request)
        if path in READY_PATHS:
            return healthz(request)
        return self.get_response(request)
