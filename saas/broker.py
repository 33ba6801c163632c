"""Dramatiq broker wiring: Redis by default, RabbitMQ when ``RABBITMQ_URL`` is set.

Every broker gets the tenant middleware (the schema travels with each message) and the
database-connection middleware (a worker thread must not reuse a connection that died).
"""

from __future__ import annotations

import dramatiq
from django.conf import settings
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

_configured: dramatiq.Broker | None = None


def broker_build() -> dramatiq.Broker:
    from tenants.task_middleware import DbConnectionMiddleware, TenantMiddleware

    broker: dramatiq.Broker
    if settings.RABBITMQ_URL:
        broker = RabbitmqBroker(url=settings.RABBITMQ_URL)
    else:
        broker = RedisBroker(
            url=settings.REDIS_URL,
            namespace=settings.DRAMATIQ_NAMESPACE,
            # A worker killed mid-message: its unacked messages are re-queued once it has been
            # silent for heartbeat_timeout (checked by queue maintenance). Short in tests.
            heartbeat_timeout=settings.DRAMATIQ_HEARTBEAT_TIMEOUT_MS,
            maintenance_chance=settings.DRAMATIQ_MAINTENANCE_CHANCE,
        )
    broker.add_middleware(DbConnectionMiddleware())
    broker.add_middleware(TenantMiddleware())
    return broker


def broker_setup() -> dramatiq.Broker:
    """Install the project broker once per process, before actors are declared."""
    global _configured
    if _configured is None:
        _configured = broker_build()
        dramatiq.set_broker(_configured)
    return _configured
