"""Subscriptions: created by Checkout, updated, cancelled, and advanced by the test control."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from devtools.stripe_standin.common import (
    Call,
    add_interval,
    as_bool,
    as_dict,
    as_int,
    as_list,
    check_params,
    invalid,
    metadata_merge,
    new_id,
    timestamp_now,
)
from devtools.stripe_standin.resources import invoices, payment_methods
from devtools.stripe_standin.shapes import plan_from_price, stripe_shape

if TYPE_CHECKING:
    from devtools.stripe_standin.api import Api


def _subscription_items(
    api: Api, namespace: str, session: dict[str, Any], subscription_id: str, period: tuple[int, int]
) -> list[dict[str, Any]]:
    """The subscription items of a completed Checkout session, for ``period`` (start, end)."""
    now, period_end = period
    items = []
    for stored in session["_line_items"]:
        price = api.get(namespace, "price", stored["price"])
        items.append(
            stripe_shape(
                "subscription_item",
                id=new_id("subscription_item"),
                created=now,
                discounts=[],
                price=copy.deepcopy(price),
                plan=plan_from_price(price),
                quantity=stored["quantity"],
                subscription=subscription_id,
                tax_rates=[],
                current_period_start=now,
                current_period_end=period_end,
            )
        )
    return items


def subscription_from_checkout(
    api: Api,
    namespace: str,
    session: dict[str, Any],
    customer: dict[str, Any],
    *,
    failed: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    now = timestamp_now()
    subscription_id = new_id("subscription")
    first_price = api.get(namespace, "price", session["_line_items"][0]["price"])
    recurring = next(
        api.get(namespace, "price", item["price"])["recurring"]
        for item in session["_line_items"]
        if api.get(namespace, "price", item["price"])["recurring"]
    )
    period_end = add_interval(now, recurring["interval"], recurring["interval_count"])
    items = _subscription_items(api, namespace, session, subscription_id, (now, period_end))
    data = session["_subscription_data"]
    subscription = stripe_shape(
        "subscription",
        id=subscription_id,
        application=None,
        application_fee_percent=(
            float(data["application_fee_percent"]) if data.get("application_fee_percent") else None
        ),
        billing_cycle_anchor=now,
        collection_method="charge_automatically",
        created=now,
        currency=first_price["currency"],
        customer=customer["id"],
        days_until_due=None,
        default_payment_method=None,
        default_source=None,
        default_tax_rates=[],
        description=data.get("description") or None,
        discounts=[],
        items={
            "object": "list",
            "data": items,
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        latest_invoice=None,
        metadata=metadata_merge({}, data.get("metadata", {})),
        on_behalf_of=None,
        pending_setup_intent=None,
        schedule=None,
        start_date=now,
        status="active",
        test_clock=None,
        trial_settings={"end_behavior": {"missing_payment_method": "create_invoice"}},
        customer_account=None,
    )
    api.state.collection(namespace, "subscription")[subscription_id] = subscription
    invoice = invoices.invoice_for_subscription(
        api,
        namespace,
        subscription,
        billing_reason="subscription_create",
        period=(now, now),
        usage_window=None,
        failed=failed,
    )
    subscription["latest_invoice"] = invoice["id"]
    if invoice["status"] != "paid":
        subscription["status"] = "past_due"
    return subscription, invoice


def subscription_list(api: Api, call: Call) -> dict[str, Any]:
    params = call.params
    items = api.newest_first(call.namespace, "subscription")
    if params.get("customer"):
        items = [s for s in items if s["customer"] == params["customer"]]
    status = params.get("status")
    if status and status != "all":
        items = [s for s in items if s["status"] == status]
    elif not status:
        items = [s for s in items if s["status"] != "canceled"]
    if params.get("price"):
        items = [
            s for s in items if any(i["price"]["id"] == params["price"] for i in s["items"]["data"])
        ]
    return api.list_response(items, params, "/v1/subscriptions")


def subscription_retrieve(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    return api.get(call.namespace, "subscription", object_id)


def subscription_update(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    subscription = api.get(call.namespace, "subscription", object_id)
    params = call.params
    if subscription["status"] == "canceled" and set(params) - {
        "metadata",
        "cancellation_details",
    }:
        raise invalid(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
    before = copy.deepcopy(subscription)
    period_end = subscription["items"]["data"][0]["current_period_end"]
    if "cancel_at_period_end" in params:
        at_end = as_bool(params["cancel_at_period_end"], "cancel_at_period_end")
        subscription["cancel_at_period_end"] = at_end
        subscription["cancel_at"] = period_end if at_end else None
        subscription["canceled_at"] = timestamp_now() if at_end else None
        subscription["cancellation_details"] = {
            "comment": None,
            "feedback": None,
            "reason": "cancellation_requested" if at_end else None,
        }
    if "cancel_at" in params:
        cancel_at = params["cancel_at"]
        subscription["cancel_at"] = as_int(cancel_at, "cancel_at") if cancel_at else None
    if "cancellation_details" in params:
        details = as_dict(params["cancellation_details"], "cancellation_details")
        subscription["cancellation_details"] = {
            **subscription["cancellation_details"],
            **{k: (v or None) for k, v in details.items() if k in {"comment", "feedback"}},
        }
    if "description" in params:
        subscription["description"] = params["description"] or None
    if "default_payment_method" in params:
        method_id = params["default_payment_method"] or None
        if method_id:
            payment_methods.customer_payment_method(
                api,
                call.namespace,
                subscription["customer"],
                method_id,
                param="default_payment_method",
            )
        subscription["default_payment_method"] = method_id
    if "metadata" in params:
        subscription["metadata"] = metadata_merge(subscription["metadata"], params["metadata"])
    if "items" in params:
        subscription_items_update(api, call, subscription, params["items"])
    api.emit_updated(call, "customer.subscription.updated", before, subscription)
    return subscription


def subscription_items_update(
    api: Api, call: Call, subscription: dict[str, Any], raw_items: Any
) -> None:
    """Change an item's price or quantity (no proration is simulated)."""
    by_id = {item["id"]: item for item in subscription["items"]["data"]}
    for index, raw in enumerate(as_list(raw_items, "items")):
        raw = as_dict(raw, f"items[{index}]")
        check_params(
            raw, frozenset({"id", "price", "quantity", "metadata"}), prefix=f"items[{index}]"
        )
        item = by_id.get(raw.get("id", ""))
        if item is None:
            raise invalid(
                f"Invalid subscription item: {raw.get('id')}", param=f"items[{index}][id]"
            )
        if raw.get("price"):
            price = api.get(call.namespace, "price", raw["price"])
            if not price["recurring"]:
                raise invalid(
                    "The price specified is not recurring.", param=f"items[{index}][price]"
                )
            item["price"] = copy.deepcopy(price)
            item["plan"] = plan_from_price(price)
        if "quantity" in raw:
            item["quantity"] = as_int(raw["quantity"], f"items[{index}][quantity]")
        if "metadata" in raw:
            item["metadata"] = metadata_merge(item["metadata"], raw["metadata"])


def subscription_cancel(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    subscription = api.get(call.namespace, "subscription", object_id)
    if subscription["status"] == "canceled":
        raise invalid(
            f"This subscription has already been canceled: {object_id}",
        )
    subscription_end(api, call.namespace, subscription, call=call, ended_at=timestamp_now())
    return subscription


def subscription_end(
    api: Api, namespace: str, subscription: dict[str, Any], *, call: Call | None, ended_at: int
) -> None:
    now = timestamp_now()
    subscription.update(
        status="canceled",
        canceled_at=subscription["canceled_at"] or now,
        ended_at=ended_at,
        cancel_at=subscription["cancel_at"],
        cancellation_details={
            **subscription["cancellation_details"],
            "reason": "cancellation_requested",
        },
    )
    api.emit(namespace, "customer.subscription.deleted", subscription, call=call)


def control_subscription_advance(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    """Move the subscription to its next period, as a test clock would."""
    subscription = api.get(call.namespace, "subscription", object_id)
    if subscription["status"] == "canceled":
        raise invalid(f"This subscription has already been canceled: {object_id}")
    fail = as_bool(call.params.get("fail", "false"), "fail")
    namespace = call.namespace
    first = subscription["items"]["data"][0]
    old_start, old_end = first["current_period_start"], first["current_period_end"]
    if subscription["cancel_at_period_end"]:
        subscription_end(api, namespace, subscription, call=call, ended_at=old_end)
        return subscription
    cancel_at = subscription["cancel_at"]
    if cancel_at and cancel_at <= old_end:
        # ``cancel_at`` within the period: Stripe ends the subscription at that moment.
        subscription_end(api, namespace, subscription, call=call, ended_at=cancel_at)
        return subscription
    before = copy.deepcopy(subscription)
    if not fail:
        for invoice in list(api.state.collection(namespace, "invoice").values()):
            if invoice["subscription"] == object_id and invoice["status"] == "open":
                invoices.invoice_mark_paid(api, namespace, invoice, call=call)
    recurring = first["price"]["recurring"]
    new_end = add_interval(old_end, recurring["interval"], recurring["interval_count"])
    for item in subscription["items"]["data"]:
        item["current_period_start"], item["current_period_end"] = old_end, new_end
    invoice = invoices.invoice_for_subscription(
        api,
        namespace,
        subscription,
        billing_reason="subscription_cycle",
        period=(old_start, old_end),
        usage_window=(old_start, old_end),
        failed=fail,
    )
    subscription["latest_invoice"] = invoice["id"]
    subscription["status"] = "active" if invoice["status"] == "paid" else "past_due"
    api.emit_updated(call, "customer.subscription.updated", before, subscription)
    invoices.emit_invoice_lifecycle(api, namespace, invoice, api_version=call.api_version)
    return subscription


def subscription_settled(
    api: Api, namespace: str, invoice: dict[str, Any], *, call: Call | None
) -> None:
    """A past-due subscription with no open invoice left is active again."""
    subscription = api.state.collection(namespace, "subscription").get(
        invoice["subscription"] or ""
    )
    if subscription is None or subscription["status"] != "past_due":
        return
    still_open = any(
        other["status"] == "open"
        for other in api.state.collection(namespace, "invoice").values()
        if other["subscription"] == subscription["id"]
    )
    if not still_open:
        before = copy.deepcopy(subscription)
        subscription["status"] = "active"
        api.emit_updated(
            call, "customer.subscription.updated", before, subscription, namespace=namespace
        )
