"""Dramatiq broker wiring: Redis by default, RabbitMQ when ``RABBITMQ_URL`` is set.

Every broker gets the tenant middleware (the schema travels with each message), the
database-connection middleware (a worker thread must not reuse a connection that died),
``CurrentMessage`` (actors read their delivery's id for outbox leases) and the worker loop.

The worker loop (``WorkerLoopMiddleware``) is a thread in every worker process that, every
``EGIDE_WORKER_LOOP_S`` seconds: refreshes this process's Redis heartbeat (Dramatiq's consumer
stops fetching, hence beating, while its prefetch is full), forces the Redis queue maintenance
that re-queues the messages of dead workers (Dramatiq otherwise runs it on one command in a
thousand: 136–153 s after a SIGKILL in our measurements), relays the transactional outbox
(``outbox.services.outbox_relay``) and, now and then, removes the work folders of dead captures.
"""

from __future__ import annotations

import logging
import threading
import time

import dramatiq
import redis
from django.conf import settings
from django.db import close_old_connections, connections
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from evidence.services.work_folders import work_orphans_clean
from outbox.services import outbox_relay
from tenants.task_middleware import DbConnectionMiddleware, TenantMiddleware

logger = logging.getLogger(__name__)

_configured: dramatiq.Broker | None = None

ORPHANS_EVERY_S = 60.0


class EgideRedisBroker(RedisBroker):
    """Redis broker whose liveness and dead-worker maintenance can be driven explicitly."""

    def heartbeat_touch(self) -> None:
        self.client.zadd(f"{self.namespace}:__heartbeats__", {self.broker_id: _millis()})

    def maintenance_force(self, queue_name: str) -> None:
        """Re-queue the unacked messages of workers silent for ``heartbeat_timeout`` now."""
        args = [
            "qsize",
            _millis(),
            queue_name,
            self.broker_id,
            self.heartbeat_timeout,
            self.dead_message_ttl,
            1,
            self._max_unpack_size(),
        ]
        self.scripts["dispatch"](args=args, keys=[self.namespace])


def _millis() -> int:
    return int(time.time() * 1000)


def worker_loop_once(broker: dramatiq.Broker, *, orphans: bool) -> None:
    """One turn of the worker loop (see the module docstring). Each part fails on its own."""
    try:
        if isinstance(broker, EgideRedisBroker):
            broker.heartbeat_touch()
            for queue in sorted(broker.get_declared_queues() | broker.get_declared_delay_queues()):
                broker.maintenance_force(queue)
    except Exception as exc:  # noqa: BLE001 - broker down: the next turn retries
        logger.warning("Worker loop: broker unreachable (%s)", exc)
    try:
        close_old_connections()
        outbox_relay()
    except Exception as exc:  # noqa: BLE001 - database down: the next turn retries
        logger.warning("Worker loop: outbox relay failed (%s)", exc)
        connections.close_all()
    if orphans:
        try:
            work_orphans_clean()
        except Exception as exc:  # noqa: BLE001 - retried on the next turn
            logger.warning("Worker loop: orphan work folders not cleaned (%s)", exc)
            connections.close_all()


class WorkerLoopMiddleware(dramatiq.Middleware):
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker, worker):
        if not settings.EGIDE_WORKER_LOOP_ENABLED:
            return
        self._stop.clear()

        def loop() -> None:
            last_orphans = 0.0
            try:
                while True:
                    now = time.monotonic()
                    orphans = now - last_orphans >= ORPHANS_EVERY_S
                    if orphans:
                        last_orphans = now
                    worker_loop_once(broker, orphans=orphans)
                    if self._stop.wait(settings.EGIDE_WORKER_LOOP_S):
                        return
            finally:
                connections.close_all()

        self._thread = threading.Thread(target=loop, name="egide-worker-loop", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker, worker):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def broker_build() -> dramatiq.Broker:
    broker: dramatiq.Broker
    if settings.RABBITMQ_URL:
        broker = RabbitmqBroker(url=settings.RABBITMQ_URL)
    else:
        broker = EgideRedisBroker(
            # A web request that enqueues must not hang on a dead Redis: fail fast, the outbox
            # keeps the row and the relay sends it later.
            client=redis.Redis.from_url(
                settings.DRAMATIQ_REDIS_URL, socket_connect_timeout=3, socket_timeout=10
            ),
            namespace=settings.DRAMATIQ_NAMESPACE,
            # A worker killed mid-message: its unacked messages are re-queued once it has been
            # silent for heartbeat_timeout (checked by queue maintenance). Short in tests.
            heartbeat_timeout=settings.DRAMATIQ_HEARTBEAT_TIMEOUT_MS,
            maintenance_chance=settings.DRAMATIQ_MAINTENANCE_CHANCE,
        )
    broker.add_middleware(DbConnectionMiddleware())
    broker.add_middleware(TenantMiddleware())
    broker.add_middleware(CurrentMessage())
    broker.add_middleware(WorkerLoopMiddleware())
    return broker


def broker_setup() -> dramatiq.Broker:
    """Install the project broker once per process, before actors are declared."""
    global _configured
    if _configured is None:
        _configured = broker_build()
        dramatiq.set_broker(_configured)
    return _configured
