"""What Égide bills insurers for, as data, and where the figures come from.

The platform counts usage inside each insurer's schema, but the figures belong to other apps
(policies to ``cover``, captures to ``evidence``), and ``tenants`` must not read their models.
So each figure comes from a counter: a function the owning app exposes (found by dotted path,
imported lazily) or registers here with ``usage_counter_register``. Until the owning app
exposes it, the meter is skipped, never reported as zero.

Counters run in the current schema and take ``since`` / ``until`` (aware datetimes,
``until`` excluded); a gauge such as insured doctors is read at ``until``.
"""

from __future__ import annotations

import datetime
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

Counter = Callable[..., int]


@dataclass(frozen=True)
class Meter:
    resource: str  # "doctors" | "captures"
    event_name: str  # the Stripe billing meter's event name
    display_name: str
    aggregation: str  # Stripe's default_aggregation formula
    hook: str  # dotted path of the owning app's counter


METERS: dict[str, Meter] = {
    "doctors": Meter(
        resource="doctors",
        event_name="egide_insured_doctors",
        display_name="Médecins assurés",
        # The last figure of the billing period counts: a gauge, not a sum of days.
        aggregation="last",
        hook="cover.selectors.policies_active_count",
    ),
    "captures": Meter(
        resource="captures",
        event_name="egide_captures",
        display_name="Constats",
        aggregation="sum",
        hook="evidence.selectors.captures_count",
    ),
}

_registry: dict[str, Counter] = {}


class UsageCounterMissing(Exception):
    """No counter for this resource yet (its app does not expose one)."""


def usage_counter_register(*, resource: str, counter: Counter) -> None:
    """Install ``counter(*, since, until) -> int`` for ``resource`` (replaces any previous)."""
    if resource not in METERS:
        raise ValueError(f"Unknown usage resource: {resource}")
    _registry[resource] = counter


def usage_counter_unregister(*, resource: str) -> None:
    _registry.pop(resource, None)


def usage_counter(*, resource: str) -> Counter:
    if resource in _registry:
        return _registry[resource]
    module_name, _, attr = METERS[resource].hook.rpartition(".")
    try:
        counter = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise UsageCounterMissing(METERS[resource].hook) from exc
    return _adapt(resource, counter)


def _adapt(resource: str, counter: Callable[..., int]) -> Counter:
    if resource == "doctors":
        # cover's selector is a gauge taking the date it is read on.
        def doctors(*, since: datetime.datetime, until: datetime.datetime) -> int:
            return int(counter(on=(until - datetime.timedelta(microseconds=1)).date()))

        return doctors
    return counter


def usage_count(*, resource: str, since: datetime.datetime, until: datetime.datetime) -> int:
    """The figure for ``resource`` in the current schema; raises ``UsageCounterMissing``."""
    return int(usage_counter(resource=resource)(since=since, until=until))
