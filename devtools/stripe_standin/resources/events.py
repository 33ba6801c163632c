"""Events, webhook endpoints and the webhook test controls (pause, resume, wait, redeliver)."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from devtools.stripe_standin.common import (
    Call,
    as_bool,
    as_list,
    invalid,
    metadata_merge,
    missing_param,
    new_id,
    timestamp_now,
)
from devtools.stripe_standin.constants import PLATFORM
from devtools.stripe_standin.shapes import stripe_shape

if TYPE_CHECKING:
    from devtools.stripe_standin.api import Api


def event_list(api: Api, call: Call) -> dict[str, Any]:
    items = api.newest_first(call.namespace, "event")
    if call.params.get("type"):
        wanted = call.params["type"]
        pattern = re.compile(re.escape(wanted).replace(r"\*", ".*") + "$")
        items = [e for e in items if pattern.match(e["type"])]
    if "types" in call.params:
        types = set(as_list(call.params["types"], "types"))
        items = [e for e in items if e["type"] in types]
    return api.list_response(items, call.params, "/v1/events")


def event_retrieve(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    return api.get(call.namespace, "event", object_id)


def webhook_endpoint_create(api: Api, call: Call) -> dict[str, Any]:
    params = call.params
    if not params.get("url"):
        raise missing_param("url")
    if urllib.parse.urlsplit(params["url"]).scheme not in {"http", "https"}:
        raise invalid("Invalid URL: URL must be publicly accessible.", param="url")
    enabled = as_list(params.get("enabled_events", []), "enabled_events")
    if not enabled:
        raise missing_param("enabled_events")
    secret = new_id("webhook_secret")
    endpoint = stripe_shape(
        "webhook_endpoint",
        id=new_id("webhook_endpoint"),
        api_version=params.get("api_version") or None,
        created=timestamp_now(),
        description=params.get("description") or None,
        enabled_events=[str(e) for e in enabled],
        metadata=metadata_merge({}, params.get("metadata", {})),
        status="enabled",
        url=params["url"],
    )
    endpoint["_secret"] = secret
    endpoint["_connect"] = as_bool(params.get("connect", "false"), "connect")
    api.state.collection(PLATFORM, "webhook_endpoint")[endpoint["id"]] = endpoint
    return {**endpoint, "secret": secret}


def webhook_endpoint_list(api: Api, call: Call) -> dict[str, Any]:
    items = [e for e in api.newest_first(PLATFORM, "webhook_endpoint") if not e.get("_deleted")]
    return api.list_response(items, call.params, "/v1/webhook_endpoints")


def webhook_endpoint_retrieve(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    return api.get(PLATFORM, "webhook_endpoint", object_id)


def webhook_endpoint_delete(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    endpoint = api.get(PLATFORM, "webhook_endpoint", object_id)
    endpoint["_deleted"] = True
    return stripe_shape("deleted_webhook_endpoint", id=object_id)


def control_event_redeliver(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    event = api.get(call.namespace, "event", object_id)
    api.event_redeliver(namespace=call.namespace, event_id=object_id)
    return event


def control_webhooks_pause(api: Api, call: Call) -> dict[str, Any]:
    api.dispatcher.pause()
    return {"object": "webhook_delivery", "paused": True}


def control_webhooks_resume(api: Api, call: Call) -> dict[str, Any]:
    order = call.params.get("order", "forward")
    if order not in {"forward", "reverse"}:
        raise invalid("Invalid order: must be one of forward or reverse", param="order")
    api.dispatcher.resume(order=order)
    return {"object": "webhook_delivery", "paused": False}


def control_webhooks_wait(api: Api, call: Call) -> dict[str, Any]:
    timeout = float(call.params.get("timeout", 5))
    # Deliveries take the state lock to finish; release it while waiting.
    released = 0
    while True:
        try:
            api.state.lock.release()
            released += 1
        except RuntimeError:
            break
    try:
        idle = api.dispatcher.wait_idle(timeout=timeout)
    finally:
        for _ in range(released):
            api.state.lock.acquire()
    return {"object": "webhook_delivery", "idle": idle}
