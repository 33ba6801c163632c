"""Customers: create, list, retrieve, update (default payment method), delete."""

from __future__ import annotations

import copy
import secrets
from typing import TYPE_CHECKING, Any

from devtools.stripe_standin.common import (
    Call,
    address_shape,
    as_dict,
    as_list,
    check_params,
    metadata_merge,
    new_id,
    no_such,
    timestamp_now,
)
from devtools.stripe_standin.resources import payment_methods
from devtools.stripe_standin.shapes import stripe_shape

if TYPE_CHECKING:
    from devtools.stripe_standin.api import Api


def customer_fields(api: Api, params: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ("email", "name", "description", "phone", "tax_exempt", "invoice_prefix"):
        if name in params:
            fields[name] = params[name] or None
    if "address" in params:
        fields["address"] = address_shape(params["address"])
    if "shipping" in params:
        fields["shipping"] = params["shipping"] or None
    if "preferred_locales" in params:
        fields["preferred_locales"] = as_list(params["preferred_locales"], "preferred_locales")
    return fields


def customer_new(
    api: Api,
    namespace: str,
    call: Call | None,
    *,
    api_version: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    customer = stripe_shape(
        "customer",
        id=new_id("customer"),
        created=timestamp_now(),
        invoice_prefix=secrets.token_hex(4).upper(),
    )
    customer.update(fields)
    api.state.collection(namespace, "customer")[customer["id"]] = customer
    api.emit(namespace, "customer.created", customer, call=call, api_version=api_version)
    return customer


def customer_create(api: Api, call: Call) -> dict[str, Any]:
    fields = customer_fields(api, call.params)
    fields["metadata"] = metadata_merge({}, call.params.get("metadata", {}))
    return customer_new(api, call.namespace, call, **fields)


def customer_list(api: Api, call: Call) -> dict[str, Any]:
    items = [c for c in api.newest_first(call.namespace, "customer") if not c.get("_deleted")]
    if call.params.get("email"):
        items = [c for c in items if c["email"] == call.params["email"]]
    return api.list_response(items, call.params, "/v1/customers")


def customer_retrieve(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    customer = api.state.collection(call.namespace, "customer").get(object_id)
    if customer is None:
        raise no_such("customer", object_id)
    if customer.get("_deleted"):
        return stripe_shape("deleted_customer", id=object_id)
    return customer


def customer_update(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    customer = api.get(call.namespace, "customer", object_id)
    before = copy.deepcopy(customer)
    customer.update(customer_fields(api, call.params))
    if "metadata" in call.params:
        customer["metadata"] = metadata_merge(customer["metadata"], call.params["metadata"])
    if "invoice_settings" in call.params:
        settings = as_dict(call.params["invoice_settings"], "invoice_settings")
        check_params(
            settings,
            frozenset({"default_payment_method", "footer"}),
            prefix="invoice_settings",
        )
        if "default_payment_method" in settings:
            method_id = settings["default_payment_method"] or None
            if method_id:
                payment_methods.customer_payment_method(
                    api,
                    call.namespace,
                    object_id,
                    method_id,
                    param="invoice_settings[default_payment_method]",
                )
            customer["invoice_settings"] = {
                **customer["invoice_settings"],
                "default_payment_method": method_id,
            }
        if "footer" in settings:
            customer["invoice_settings"] = {
                **customer["invoice_settings"],
                "footer": settings["footer"] or None,
            }
    api.emit_updated(call, "customer.updated", before, customer)
    return customer


def customer_delete(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    customer = api.get(call.namespace, "customer", object_id)
    customer["_deleted"] = True
    api.emit(call.namespace, "customer.deleted", customer, call=call)
    return stripe_shape("deleted_customer", id=object_id)
