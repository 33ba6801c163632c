"""Fixtures of the offer tests: a Dramatiq worker that drains one queue."""

from __future__ import annotations

import dramatiq
import pytest


def queue_drain(queue: str) -> None:
    """Run a worker thread until ``queue`` is empty (messages run in their own schema)."""
    broker = dramatiq.get_broker()
    worker = dramatiq.Worker(broker, queues={queue}, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.join(queue, timeout=300_000)
        worker.join()
    finally:
        worker.stop()


@pytest.fixture
def drain():
    return queue_drain
