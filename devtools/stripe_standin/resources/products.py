"""Products and prices (one-off, licensed and metered recurring, lookup keys)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from devtools.stripe_standin.common import (
    Call,
    StripeApiError,
    as_bool,
    as_dict,
    as_int,
    as_list,
    check_params,
    invalid,
    metadata_merge,
    missing_param,
    new_id,
    timestamp_now,
)
from devtools.stripe_standin.constants import INTERVALS_FR
from devtools.stripe_standin.shapes import stripe_shape

if TYPE_CHECKING:
    from devtools.stripe_standin.api import Api


def product_create(api: Api, call: Call) -> dict[str, Any]:
    params = call.params
    if not params.get("name"):
        raise missing_param("name")
    return product_new(api, call, params)


def product_new(api: Api, call: Call, params: dict[str, Any]) -> dict[str, Any]:
    products = api.state.collection(call.namespace, "product")
    product_id = params.get("id") or new_id("product")
    if product_id in products:
        raise StripeApiError(
            400,
            f"Product already exists: {product_id}",
            code="resource_already_exists",
            param="id",
        )
    now = timestamp_now()
    product = stripe_shape(
        "product",
        id=product_id,
        created=now,
        updated=now,
        name=params["name"],
        active=as_bool(params.get("active", "true"), "active"),
        description=params.get("description") or None,
        metadata=metadata_merge({}, params.get("metadata", {})),
        statement_descriptor=params.get("statement_descriptor") or None,
        unit_label=params.get("unit_label") or None,
        tax_code=params.get("tax_code") or None,
        url=params.get("url") or None,
    )
    products[product_id] = product
    api.emit(call.namespace, "product.created", product, call=call)
    return product


def product_list(api: Api, call: Call) -> dict[str, Any]:
    items = api.newest_first(call.namespace, "product")
    if "active" in call.params:
        wanted = as_bool(call.params["active"], "active")
        items = [p for p in items if p["active"] == wanted]
    if "ids" in call.params:
        ids = set(as_list(call.params["ids"], "ids"))
        items = [p for p in items if p["id"] in ids]
    return api.list_response(items, call.params, "/v1/products")


def product_retrieve(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    return api.get(call.namespace, "product", object_id)


def product_update(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    product = api.get(call.namespace, "product", object_id)
    before = copy.deepcopy(product)
    for name in ("name", "description", "statement_descriptor", "unit_label", "url"):
        if name in call.params:
            product[name] = call.params[name] or None
    if "active" in call.params:
        product["active"] = as_bool(call.params["active"], "active")
    if "metadata" in call.params:
        product["metadata"] = metadata_merge(product["metadata"], call.params["metadata"])
    if product != before:
        product["updated"] = timestamp_now()
    api.emit_updated(call, "product.updated", before, product)
    return product


def _price_recurring(api: Api, namespace: str, raw: Any) -> dict[str, Any]:
    """The ``recurring`` of a new price: interval, count and, for a metered price, its meter."""
    recurring_params = as_dict(raw, "recurring")
    check_params(
        recurring_params,
        frozenset(
            {
                "interval",
                "interval_count",
                "usage_type",
                "meter",
                "trial_period_days",
                "aggregate_usage",
            }
        ),
        prefix="recurring",
    )
    interval = recurring_params.get("interval")
    if not interval:
        raise missing_param("recurring[interval]")
    if interval not in INTERVALS_FR:
        raise invalid(
            f"Invalid recurring[interval]: must be one of {', '.join(INTERVALS_FR)}",
            param="recurring[interval]",
        )
    usage_type = recurring_params.get("usage_type", "licensed")
    meter = recurring_params.get("meter") or None
    if usage_type == "metered":
        if not meter:
            raise missing_param("recurring[meter]")
        api.get(namespace, "billing.meter", meter)
    return {
        "interval": interval,
        "interval_count": as_int(
            recurring_params.get("interval_count", 1), "recurring[interval_count]"
        ),
        "meter": meter,
        "usage_type": usage_type,
        "trial_period_days": None,
    }


def price_create(api: Api, call: Call) -> dict[str, Any]:
    params = call.params
    if not params.get("currency"):
        raise missing_param("currency")
    if "unit_amount" not in params and "unit_amount_decimal" not in params:
        raise missing_param("unit_amount")
    unit_amount = as_int(
        params.get("unit_amount", str(params.get("unit_amount_decimal", "")).split(".")[0]),
        "unit_amount",
    )
    if unit_amount < 0:
        raise invalid("Invalid non-negative integer", param="unit_amount")
    recurring = (
        _price_recurring(api, call.namespace, params["recurring"])
        if params.get("recurring")
        else None
    )
    lookup_key = params.get("lookup_key") or None
    holder = None
    if lookup_key:
        holder = next(
            (
                p
                for p in api.state.collection(call.namespace, "price").values()
                if p["lookup_key"] == lookup_key
            ),
            None,
        )
        if holder is not None:
            if not as_bool(params.get("transfer_lookup_key", "false"), "transfer_lookup_key"):
                raise invalid(
                    f"A price ({holder['id']}) already uses that lookup key.",
                    param="lookup_key",
                )
    if params.get("product"):
        product = api.get(call.namespace, "product", params["product"])
    elif params.get("product_data"):
        product_data = as_dict(params["product_data"], "product_data")
        if not product_data.get("name"):
            raise missing_param("product_data[name]")
        product = product_new(api, call, product_data)
    else:
        raise missing_param("product")
    if holder is not None:
        holder_before = copy.deepcopy(holder)
        holder["lookup_key"] = None
        api.emit_updated(call, "price.updated", holder_before, holder)
    price = stripe_shape(
        "price",
        id=new_id("price"),
        created=timestamp_now(),
        active=as_bool(params.get("active", "true"), "active"),
        currency=str(params["currency"]).lower(),
        lookup_key=lookup_key,
        metadata=metadata_merge({}, params.get("metadata", {})),
        nickname=params.get("nickname") or None,
        product=product["id"],
        recurring=recurring,
        tax_behavior=params.get("tax_behavior", "unspecified"),
        tiers_mode=None,
        type="recurring" if recurring else "one_time",
        unit_amount=unit_amount,
        unit_amount_decimal=str(unit_amount),
    )
    api.state.collection(call.namespace, "price")[price["id"]] = price
    api.emit(call.namespace, "price.created", price, call=call)
    return price


def price_list(api: Api, call: Call) -> dict[str, Any]:
    params = call.params
    items = api.newest_first(call.namespace, "price")
    if "active" in params:
        wanted = as_bool(params["active"], "active")
        items = [p for p in items if p["active"] == wanted]
    if params.get("product"):
        items = [p for p in items if p["product"] == params["product"]]
    if "lookup_keys" in params:
        keys = set(as_list(params["lookup_keys"], "lookup_keys"))
        items = [p for p in items if p["lookup_key"] in keys]
    if params.get("type"):
        items = [p for p in items if p["type"] == params["type"]]
    if params.get("currency"):
        items = [p for p in items if p["currency"] == params["currency"]]
    return api.list_response(items, params, "/v1/prices")


def price_retrieve(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    return api.get(call.namespace, "price", object_id)


def price_update(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    price = api.get(call.namespace, "price", object_id)
    before = copy.deepcopy(price)
    params = call.params
    if "lookup_key" in params and params["lookup_key"]:
        holder = next(
            (
                p
                for p in api.state.collection(call.namespace, "price").values()
                if p["lookup_key"] == params["lookup_key"] and p["id"] != object_id
            ),
            None,
        )
        if holder is not None:
            if not as_bool(params.get("transfer_lookup_key", "false"), "transfer_lookup_key"):
                raise invalid(
                    f"A price ({holder['id']}) already uses that lookup key.",
                    param="lookup_key",
                )
            holder_before = copy.deepcopy(holder)
            holder["lookup_key"] = None
            api.emit_updated(call, "price.updated", holder_before, holder)
    if "lookup_key" in params:
        price["lookup_key"] = params["lookup_key"] or None
    if "nickname" in params:
        price["nickname"] = params["nickname"] or None
    if "active" in params:
        price["active"] = as_bool(params["active"], "active")
    if "metadata" in params:
        price["metadata"] = metadata_merge(price["metadata"], params["metadata"])
    api.emit_updated(call, "price.updated", before, price)
    return price
