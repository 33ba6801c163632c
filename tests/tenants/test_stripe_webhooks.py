"""Stripe webhooks: verified on the raw body, stored once, applied once, in the right schema.

Forged requests are checked in-process against the platform host. Real deliveries come from the
local Stripe server (``stripe_server`` fixture) to the live server, and a Dramatiq worker thread
applies them; a recording handler stands in for ``cover``'s policy handler and notes the schema
it ran in (in Redis) and writes a group there (in the database).
"""

from __future__ import annotations

import json
import logging
import time

import dramatiq
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from common.stripe import stripe_client
from devtools.stripe_standin import webhook_signature
from tenants.models import StripeEvent
from tenants.tasks import STRIPE_QUEUE
from tenants.webhooks import stripe_event_process

WEBHOOK = "/stripe/webhook/"
RECORDER = "tests.tenants.test_stripe_webhooks.event_record"


def _redis():
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.REDIS_URL)


def event_record(*, event: dict) -> None:
    """Stand-in tenant handler: note where it ran, and leave a trace in that schema."""
    tag = ((event.get("data") or {}).get("object") or {}).get("metadata", {}).get("test_tag")
    if not tag:
        return
    _redis().rpush(f"egide-test:stripe:{tag}", f"{connection.schema_name}:{event['id']}")
    Group.objects.create(name=f"stripe {tag}")


def _recorded(tag: str) -> list[str]:
    return [v.decode() for v in _redis().lrange(f"egide-test:stripe:{tag}", 0, -1)]


def _worker_drain() -> None:
    broker = dramatiq.get_broker()
    worker = dramatiq.Worker(broker, queues={STRIPE_QUEUE}, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.join(STRIPE_QUEUE, timeout=30_000)
        worker.join()
    finally:
        worker.stop()


def _signed(payload: bytes, *, secret: str = "whsec_egide_tests", age: int = 0) -> str:
    return webhook_signature(payload=payload, secret=secret, timestamp=int(time.time()) - age)


def _event(event_id: str = "evt_1ForgedForgedForged0001") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "customer.created",
            "account": "acct_1Inconnu00001",
            "data": {"object": {"id": "cus_X", "object": "customer"}},
        }
    ).encode()


# ---------------------------------------------------------------------------------------------
# Forged requests
# ---------------------------------------------------------------------------------------------

FORGERIES = {
    "signature d'un autre secret": lambda: (_event(), _signed(_event(), secret="whsec_autre")),
    "en-tête absent": lambda: (_event(), None),
    "signature trop ancienne": lambda: (_event(), _signed(_event(), age=600)),
    "JSON invalide": lambda: (b"{pas du json", _signed(b"{pas du json")),
    "pas un événement": lambda: (b'{"id": "x"}', _signed(b'{"id": "x"}')),
    "contenu modifié après signature": lambda: (
        _event().replace(b"cus_X", b"cus_Y"),
        _signed(_event()),
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(FORGERIES))
def test_a_forged_webhook_gets_400_is_logged_and_changes_nothing(
    case, caplog, django_capture_on_commit_callbacks
):
    body, signature = FORGERIES[case]()
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
    before = StripeEvent.objects.count()

    with (
        caplog.at_level(logging.WARNING, logger="tenants.webhooks"),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        response = Client(HTTP_HOST="localhost").post(
            WEBHOOK, body, content_type="application/json", **headers
        )

    assert response.status_code == 400
    assert response.content.decode() == "Requête refusée : signature ou contenu invalide."
    assert StripeEvent.objects.count() == before
    assert callbacks == []
    refusals = [r.getMessage() for r in caplog.records if r.name == "tenants.webhooks"]
    assert [m.startswith("Stripe webhook refused (from 127.0.0.1)") for m in refusals] == [True]


@pytest.mark.django_db
def test_the_webhook_exists_on_the_platform_host_only(tenant_a):
    body = _event("evt_1SurLeDomaineAssureur01")

    response = Client(HTTP_HOST=tenant_a.domain).post(
        WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=_signed(body)
    )

    assert response.status_code == 404
    assert StripeEvent.objects.filter(id="evt_1SurLeDomaineAssureur01").count() == 0


@pytest.mark.django_db
def test_an_event_of_an_unknown_account_is_kept_with_its_error_and_runs_nowhere(
    django_capture_on_commit_callbacks,
):
    body = _event("evt_1CompteInconnu00000001")

    with django_capture_on_commit_callbacks() as callbacks:
        response = Client(HTTP_HOST="localhost").post(
            WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=_signed(body)
        )

    event = StripeEvent.objects.get(id="evt_1CompteInconnu00000001")
    assert response.status_code == 200
    assert (event.schema, event.error) == ("", "Compte Stripe inconnu : acct_1Inconnu00001")
    assert callbacks == []


# ---------------------------------------------------------------------------------------------
# Real deliveries from the local Stripe server
# ---------------------------------------------------------------------------------------------


def _customer_on(account: str, tag: str) -> str:
    """Create a customer on a connected account: Stripe sends ``customer.created`` for it."""
    customer = stripe_client().v1.customers.create(
        params={"email": f"{tag}@exemple.fr", "metadata": {"test_tag": tag}},
        options={"stripe_account": account},
    )
    event = next(
        e
        for e in stripe_client().v1.events.list(
            params={"type": "customer.created", "limit": 20}, options={"stripe_account": account}
        )
        if e.data.object.id == customer.id
    )
    return event.id


def _cleanup(tag: str, *insurers) -> None:
    for insurer in insurers:
        with tenant_context(insurer):
            Group.objects.filter(name=f"stripe {tag}").delete()


def test_the_same_event_delivered_twice_is_applied_once(
    stripe_server, committed_db, tenant_a, settings, unique
):
    settings.STRIPE_EVENT_HANDLERS = {**settings.STRIPE_EVENT_HANDLERS, "tenant": RECORDER}
    account = tenant_a.insurer.stripe_account_id
    try:
        event_id = _customer_on(account, unique)
        assert stripe_server.webhooks_wait(timeout=10)
        _worker_drain()

        stripe_server.event_redeliver(event_id=event_id, account=account)
        assert stripe_server.webhooks_wait(timeout=10)
        _worker_drain()

        deliveries = [d for d in stripe_server.webhook_deliveries if d["event"] == event_id]
        assert [d["status"] for d in deliveries] == [200, 200]
        assert _recorded(unique) == [f"test_a:{event_id}"]
        stored = StripeEvent.objects.get(id=event_id)
        assert (stored.schema, stored.attempts, stored.error) == ("test_a", 1, "")
        assert stored.processed_at is not None
        with tenant_context(tenant_a.insurer):
            assert Group.objects.filter(name=f"stripe {unique}").count() == 1
    finally:
        _cleanup(unique, tenant_a.insurer)


def test_an_event_for_insurer_a_runs_in_a_schema_and_never_touches_b(
    stripe_server, committed_db, tenant_a, tenant_b, settings, unique
):
    settings.STRIPE_EVENT_HANDLERS = {**settings.STRIPE_EVENT_HANDLERS, "tenant": RECORDER}
    try:
        event_id = _customer_on(tenant_a.insurer.stripe_account_id, unique)
        assert stripe_server.webhooks_wait(timeout=10)
        _worker_drain()

        assert _recorded(unique) == [f"test_a:{event_id}"]
        with tenant_context(tenant_a.insurer):
            assert Group.objects.filter(name=f"stripe {unique}").count() == 1
        with tenant_context(tenant_b.insurer):
            assert Group.objects.filter(name=f"stripe {unique}").count() == 0
        assert Group.objects.filter(name=f"stripe {unique}").count() == 0  # nor in public
    finally:
        _cleanup(unique, tenant_a.insurer, tenant_b.insurer)


def test_a_message_replayed_in_another_schema_is_refused(
    stripe_server, committed_db, tenant_a, tenant_b, settings, unique
):
    settings.STRIPE_EVENT_HANDLERS = {**settings.STRIPE_EVENT_HANDLERS, "tenant": RECORDER}
    try:
        event_id = _customer_on(tenant_a.insurer.stripe_account_id, unique)
        assert stripe_server.webhooks_wait(timeout=10)

        with tenant_context(tenant_b.insurer):
            applied_in_b = stripe_event_process(event_id=event_id)
        _worker_drain()

        assert applied_in_b is False
        assert _recorded(unique) == [f"test_a:{event_id}"]
        with tenant_context(tenant_b.insurer):
            assert Group.objects.filter(name=f"stripe {unique}").count() == 0
    finally:
        _cleanup(unique, tenant_a.insurer, tenant_b.insurer)
