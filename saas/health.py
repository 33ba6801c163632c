"""``/healthz``: database, broker and storage, each checked for real, as JSON.

200 when all pass, 503 otherwise. Used by the orchestrator's probes and by the operator.
"""

from __future__ import annotations

import time
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tenants.db import connection


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return f"ok (schéma {connection.schema_name})"


def _check_broker() -> str:
    import dramatiq
    from dramatiq.brokers.rabbitmq import RabbitmqBroker
    from dramatiq.brokers.redis import RedisBroker

    broker = dramatiq.get_broker()
    if isinstance(broker, RabbitmqBroker):
        broker.connection  # noqa: B018 - opening the channel is the check
        return "ok (rabbitmq)"
    if isinstance(broker, RedisBroker):
        broker.client.ping()
        return "ok (redis)"
    raise RuntimeError(f"courtier inattendu : {type(broker).__name__}")


def _check_storage() -> str:
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as handle:
            if handle.read() != b"ok":
                raise OSError("lecture différente de l'écriture")
    finally:
        default_storage.delete(name)
    return "ok"


CHECKS = {"database": _check_database, "broker": _check_broker, "storage": _check_storage}


@never_cache
@require_GET
def healthz(request):
    results: dict[str, dict[str, object]] = {}
    healthy = True
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            detail, ok = check(), True
        except Exception as exc:  # noqa: BLE001 - a health check reports any failure
            detail, ok = f"erreur : {exc.__class__.__name__}: {exc}", False
        healthy &= ok
        results[name] = {
            "ok": ok,
            "detail": detail,
            "ms": round((time.monotonic() - started) * 1000, 1),
        }
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": results}, status=200 if healthy else 503
    )
