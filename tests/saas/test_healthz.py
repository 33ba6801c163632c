"""/healthz checks the database, the broker and the storage for real."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("host", ["localhost", "tenant-a.localhost"])
def test_healthz_reports_each_dependency(host, tenant_a):
    response = Client(HTTP_HOST=host).get("/healthz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert sorted(body["checks"]) == ["broker", "database", "storage"]
    assert all(check["ok"] for check in body["checks"].values())


def test_healthz_fails_when_the_broker_is_unreachable(settings, tenant_a):
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    previous = dramatiq.get_broker()
    dramatiq.set_broker(RedisBroker(url="redis://127.0.0.1:1/0"))
    try:
        response = Client(HTTP_HOST=tenant_a.domain).get("/healthz")
    finally:
        dramatiq.set_broker(previous)

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


def test_healthz_names_the_configured_broker(settings, tenant_a):
    response = Client(HTTP_HOST=tenant_a.domain).get("/healthz")

    expected = "ok (rabbitmq)" if settings.RABBITMQ_URL else "ok (redis)"
    assert response.json()["checks"]["broker"]["detail"] == expected
