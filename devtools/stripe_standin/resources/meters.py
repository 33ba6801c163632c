"""Billing meters, meter events and event summaries."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from devtools.stripe_standin.common import (
    Call,
    as_dict,
    as_int,
    invalid,
    missing_param,
    new_id,
    timestamp_now,
)
from devtools.stripe_standin.resources import invoices
from devtools.stripe_standin.shapes import stripe_shape

if TYPE_CHECKING:
    from devtools.stripe_standin.api import Api


def aggregate(values: list[tuple[int, float]], meter: dict[str, Any]) -> int | float:
    formula = meter["default_aggregation"]["formula"]
    if formula == "count":
        return len(values)
    if formula == "last":
        result = max(values)[1] if values else 0.0
    else:
        result = sum(value for _, value in values)
    return int(result) if float(result).is_integer() else result


def meter_create(api: Api, call: Call) -> dict[str, Any]:
    params = call.params
    for name in ("display_name", "event_name"):
        if not params.get(name):
            raise missing_param(name)
    aggregation = as_dict(params.get("default_aggregation", {}), "default_aggregation")
    formula = aggregation.get("formula")
    if not formula:
        raise missing_param("default_aggregation[formula]")
    if formula not in {"sum", "count", "last"}:
        raise invalid(
            "Invalid default_aggregation[formula]: must be one of count, last, or sum",
            param="default_aggregation[formula]",
        )
    meters = api.state.collection(call.namespace, "billing.meter")
    if any(
        m["event_name"] == params["event_name"] and m["status"] == "active" for m in meters.values()
    ):
        raise invalid(
            f"An active meter with event_name `{params['event_name']}` already exists.",
            param="event_name",
        )
    mapping = as_dict(params.get("customer_mapping", {}), "customer_mapping")
    value_settings = as_dict(params.get("value_settings", {}), "value_settings")
    now = timestamp_now()
    meter = stripe_shape(
        "billing.meter",
        id=new_id("billing.meter"),
        created=now,
        updated=now,
        customer_mapping={
            "event_payload_key": mapping.get("event_payload_key", "stripe_customer_id"),
            "type": mapping.get("type", "by_id"),
        },
        default_aggregation={"formula": formula},
        display_name=params["display_name"],
        event_name=params["event_name"],
        event_time_window=params.get("event_time_window") or None,
        status="active",
        status_transitions={"deactivated_at": None},
        value_settings={"event_payload_key": value_settings.get("event_payload_key", "value")},
    )
    meters[meter["id"]] = meter
    api.emit(call.namespace, "billing.meter.created", meter, call=call)
    return meter


def meter_list(api: Api, call: Call) -> dict[str, Any]:
    items = api.newest_first(call.namespace, "billing.meter")
    if call.params.get("status"):
        items = [m for m in items if m["status"] == call.params["status"]]
    return api.list_response(items, call.params, "/v1/billing/meters")


def meter_retrieve(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    return api.get(call.namespace, "billing.meter", object_id)


def meter_event_create(api: Api, call: Call) -> dict[str, Any]:
    params = call.params
    if not params.get("event_name"):
        raise missing_param("event_name")
    payload = params.get("payload")
    if not payload:
        raise missing_param("payload")
    payload = {k: str(v) for k, v in as_dict(payload, "payload").items()}
    now = timestamp_now()
    timestamp = as_int(params.get("timestamp", now), "timestamp")
    if not now - 35 * 86400 <= timestamp <= now + 300:
        raise invalid(
            "Timestamp must be within the past 35 calendar days or up to 5 minutes in the future.",
            param="timestamp",
        )
    identifier = params.get("identifier") or secrets.token_hex(16)
    events = api.state.collection(call.namespace, "billing.meter_event")
    if identifier in events:
        raise invalid(f"An event already exists with identifier {identifier}.", param="identifier")
    event = stripe_shape(
        "billing.meter_event",
        created=now,
        event_name=params["event_name"],
        identifier=identifier,
        payload=payload,
        timestamp=timestamp,
    )
    events[identifier] = event
    return event


def meter_event_summary_list(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    meter = api.get(call.namespace, "billing.meter", object_id)
    params = call.params
    for name in ("customer", "start_time", "end_time"):
        if not params.get(name):
            raise missing_param(name)
    start = as_int(params["start_time"], "start_time")
    end = as_int(params["end_time"], "end_time")
    if start >= end:
        raise invalid("start_time must be before end_time.", param="start_time")
    window = params.get("value_grouping_window")
    step = {"hour": 3600, "day": 86400}.get(window or "", 0)
    if window and not step:
        raise invalid(
            "Invalid value_grouping_window: must be one of day or hour",
            param="value_grouping_window",
        )
    bounds = (
        [(s, min(s + step, end)) for s in range(start - start % step, end, step)]
        if step
        else [(start, end)]
    )
    summaries = []
    for window_start, window_end in reversed(bounds):
        values = invoices.meter_values(
            api, call.namespace, meter, params["customer"], max(window_start, start), window_end
        )
        if step and not values:
            continue
        digest = hashlib.sha256(
            f"{meter['id']}{params['customer']}{window_start}{window_end}".encode()
        ).hexdigest()[:24]
        summaries.append(
            stripe_shape(
                "billing.meter_event_summary",
                id=f"mtrusg_test_{digest}",
                aggregated_value=aggregate(values, meter),
                start_time=window_start,
                end_time=window_end,
                meter=meter["id"],
            )
        )
    return api.list_response(summaries, params, f"/v1/billing/meters/{object_id}/event_summaries")
