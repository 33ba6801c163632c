"""Invoices: issued for a subscription period (metered usage included), paid, listed."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from devtools.stripe_standin.common import (
    Call,
    StripeApiError,
    format_amount_fr,
    invalid,
    new_id,
    no_such,
    timestamp_now,
)
from devtools.stripe_standin.constants import (
    DECLINE_ERRORS,
    DECLINE_MESSAGES_FR,
    INTERVALS_FR,
    TEST_CARDS,
    URL_MARKER,
)
from devtools.stripe_standin.resources import accounts, payment_methods, subscriptions
from devtools.stripe_standin.resources.meters import aggregate
from devtools.stripe_standin.shapes import stripe_shape

if TYPE_CHECKING:
    from devtools.stripe_standin.api import Api


# Invoice fields that are the same on every invoice the stand-in issues.
INVOICE_FIXED_FIELDS: dict[str, Any] = {
    "account_tax_ids": None,
    "amount_shipping": 0,
    "application": None,
    "attempt_count": 1,
    "attempted": True,
    "collection_method": "charge_automatically",
    "custom_fields": None,
    "customer_tax_exempt": "none",
    "customer_tax_ids": [],
    "default_payment_method": None,
    "default_source": None,
    "default_tax_rates": [],
    "description": None,
    "discounts": [],
    "ending_balance": 0,
    "footer": None,
    "issuer": {"type": "self"},
    "latest_revision": None,
    "metadata": {},
    "on_behalf_of": None,
    "post_payment_credit_notes_amount": 0,
    "pre_payment_credit_notes_amount": 0,
    "receipt_number": None,
    "starting_balance": 0,
    "statement_descriptor": None,
    "test_clock": None,
    "total_discount_amounts": [],
    "automatically_finalizes_at": None,
    "customer_account": None,
}


def metered_usage(
    api: Api, namespace: str, meter_id: str | None, customer_id: str, start: int, end: int
) -> int | float:
    meter = api.state.collection(namespace, "billing.meter").get(meter_id or "")
    if meter is None:
        return 0
    return aggregate(meter_values(api, namespace, meter, customer_id, start, end), meter)


def meter_values(
    api: Api, namespace: str, meter: dict[str, Any], customer_id: str, start: int, end: int
) -> list[tuple[int, float]]:
    customer_key = meter["customer_mapping"]["event_payload_key"]
    value_key = meter["value_settings"]["event_payload_key"]
    values = []
    for event in api.state.collection(namespace, "billing.meter_event").values():
        if event["event_name"] != meter["event_name"]:
            continue
        if event["payload"].get(customer_key) != customer_id:
            continue
        if not start <= event["timestamp"] < end:
            continue
        try:
            values.append((event["timestamp"], float(event["payload"].get(value_key, "0"))))
        except ValueError:
            continue
    return values


def _invoice_line(
    api: Api,
    namespace: str,
    subscription: dict[str, Any],
    item: dict[str, Any],
    ids: tuple[str, str],
    usage_window: tuple[int, int] | None,
) -> dict[str, Any]:
    """One invoice line for a subscription item: its period's quantity, or the metered usage.

    ``ids`` is (customer id, invoice id).
    """
    customer_id, invoice_id = ids
    price = item["price"]
    product = api.state.collection(namespace, "product").get(price["product"], {})
    metered = price["recurring"]["usage_type"] == "metered"
    if metered:
        window = usage_window or (
            item["current_period_start"],
            item["current_period_start"],
        )
        usage = metered_usage(api, namespace, price["recurring"]["meter"], customer_id, *window)
        quantity = int(usage) if float(usage).is_integer() else usage
    else:
        window = (item["current_period_start"], item["current_period_end"])
        quantity = item["quantity"]
    amount = int(round(price["unit_amount"] * quantity))
    interval = INTERVALS_FR[price["recurring"]["interval"]]
    description = (
        f"{quantity} × {product.get('name', price['id'])} "
        f"(à {format_amount_fr(price['unit_amount'], price['currency'])} / {interval})"
    )
    return stripe_shape(
        "line_item",
        id=new_id("line_item"),
        amount=amount,
        currency=price["currency"],
        description=description,
        discount_amounts=[],
        discountable=True,
        discounts=[],
        invoice=invoice_id,
        period={"end": window[1], "start": window[0]},
        quantity=quantity,
        subscription=subscription["id"],
        parent={
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": subscription["id"],
                "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        pricing={
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        subtotal=amount,
        quantity_decimal=str(quantity),
    )


def invoice_for_subscription(
    api: Api,
    namespace: str,
    subscription: dict[str, Any],
    *,
    billing_reason: str,
    period: tuple[int, int],
    usage_window: tuple[int, int] | None,
    failed: bool,
) -> dict[str, Any]:
    now = timestamp_now()
    customer = api.get(namespace, "customer", subscription["customer"])
    invoice_id = new_id("invoice")
    ids = (customer["id"], invoice_id)
    lines = [
        _invoice_line(api, namespace, subscription, item, ids, usage_window)
        for item in subscription["items"]["data"]
    ]
    total = sum(line["amount"] for line in lines)
    sequence = customer["next_invoice_sequence"]
    customer["next_invoice_sequence"] = sequence + 1
    paid = total == 0 or not failed
    invoice = stripe_shape(
        "invoice",
        **copy.deepcopy(INVOICE_FIXED_FIELDS),
        id=invoice_id,
        account_name=accounts.display_name(api, namespace),
        amount_due=total,
        amount_paid=total if paid else 0,
        amount_remaining=0 if paid else total,
        auto_advance=not paid,
        billing_reason=billing_reason,
        created=now,
        currency=subscription["currency"],
        customer=customer["id"],
        customer_email=customer["email"],
        customer_name=customer["name"],
        customer_phone=customer["phone"],
        effective_at=now,
        hosted_invoice_url=f"{URL_MARKER}/invoice/{invoice_id}",
        invoice_pdf=f"{URL_MARKER}/invoice/{invoice_id}/pdf",
        lines={
            "data": lines,
            "has_more": False,
            "object": "list",
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        next_payment_attempt=None if paid else now + 3 * 86400,
        number=f"{customer['invoice_prefix']}-{sequence:04d}",
        parent={
            "quote_details": None,
            "subscription_details": {
                "metadata": copy.deepcopy(subscription["metadata"]),
                "subscription": subscription["id"],
            },
            "type": "subscription_details",
        },
        period_end=period[1],
        period_start=period[0],
        status="paid" if paid else "open",
        status_transitions={
            "finalized_at": now,
            "marked_uncollectible_at": None,
            "paid_at": now if paid else None,
            "voided_at": None,
        },
        subscription=subscription["id"],
        subtotal=total,
        subtotal_excluding_tax=total,
        total=total,
        total_excluding_tax=total,
        webhooks_delivered_at=now,
    )
    api.state.collection(namespace, "invoice")[invoice_id] = invoice
    return invoice


def emit_invoice_lifecycle(
    api: Api, namespace: str, invoice: dict[str, Any], *, api_version: str | None
) -> None:
    """invoice.created (draft), invoice.finalized (open), then the payment outcome."""
    draft = copy.deepcopy(invoice)
    draft.update(
        status="draft",
        number=None,
        hosted_invoice_url=None,
        invoice_pdf=None,
        amount_paid=0,
        amount_remaining=invoice["amount_due"],
        attempted=False,
        attempt_count=0,
        next_payment_attempt=None,
        status_transitions={
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
    )
    finalized = copy.deepcopy(draft)
    finalized.update(
        status="open",
        number=invoice["number"],
        hosted_invoice_url=invoice["hosted_invoice_url"],
        invoice_pdf=invoice["invoice_pdf"],
        status_transitions={
            **draft["status_transitions"],
            "finalized_at": invoice["status_transitions"]["finalized_at"],
        },
    )
    api.emit(namespace, "invoice.created", draft, call=None, api_version=api_version)
    api.emit(namespace, "invoice.finalized", finalized, call=None, api_version=api_version)
    if invoice["status"] == "paid":
        api.emit(namespace, "invoice.paid", invoice, call=None, api_version=api_version)
        api.emit(
            namespace, "invoice.payment_succeeded", invoice, call=None, api_version=api_version
        )
    else:
        api.emit(namespace, "invoice.payment_failed", invoice, call=None, api_version=api_version)


def invoice_mark_paid(
    api: Api, namespace: str, invoice: dict[str, Any], *, call: Call | None
) -> None:
    now = timestamp_now()
    invoice.update(
        status="paid",
        amount_paid=invoice["amount_due"],
        amount_remaining=0,
        attempt_count=invoice["attempt_count"] + 1,
        attempted=True,
        auto_advance=False,
        next_payment_attempt=None,
        status_transitions={**invoice["status_transitions"], "paid_at": now},
    )
    api.emit(namespace, "invoice.paid", invoice, call=call)
    api.emit(namespace, "invoice.payment_succeeded", invoice, call=call)


def invoice_pay_by_card(api: Api, *, invoice_id: str, card_number: str) -> str | None:
    """Pay an open invoice from its hosted page; returns an error message or None."""
    with api.state.lock:
        namespace, invoice = find_invoice(api, invoice_id)
        if invoice["status"] != "open":
            return None
        digits = re.sub(r"\D", "", card_number)
        if digits not in TEST_CARDS:
            return "Numéro de carte invalide."
        decline = TEST_CARDS[digits]
        if decline:
            invoice["attempt_count"] += 1
            api.emit(namespace, "invoice.payment_failed", invoice, call=None)
            api.commit()
            return DECLINE_MESSAGES_FR[decline]
        invoice_mark_paid(api, namespace, invoice, call=None)
        subscriptions.subscription_settled(api, namespace, invoice, call=None)
        api.commit()
        return None


def invoice_pay(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    """Charge an open invoice off-session with a saved card, as ``POST /v1/invoices/…/pay``.

    The card is ``payment_method``, else the invoice's, the subscription's, then the
    customer's default (Stripe's order). A declined card answers 402 ``card_error`` after
    recording the attempt and sending ``invoice.payment_failed``.
    """
    namespace = call.namespace
    invoice = api.get(namespace, "invoice", object_id)
    if invoice["status"] == "paid":
        raise invalid("Invoice is already paid")
    if invoice["status"] != "open":
        raise invalid(
            f"You can only pay an invoice whose status is `open`; this one is "
            f"`{invoice['status']}`."
        )
    customer = api.get(namespace, "customer", invoice["customer"])
    subscription = api.state.collection(namespace, "subscription").get(
        invoice["subscription"] or "", {}
    )
    method_id = (
        call.params.get("payment_method")
        or invoice["default_payment_method"]
        or subscription.get("default_payment_method")
        or customer["invoice_settings"]["default_payment_method"]
    )
    if not method_id:
        raise invalid(
            "This customer has no attached payment source or default payment method. "
            "Please consider adding a default payment method."
        )
    method = payment_methods.customer_payment_method(
        api, namespace, customer["id"], method_id, param="payment_method"
    )
    decline = TEST_CARDS.get(method["_number"])
    if decline:
        invoice.update(attempt_count=invoice["attempt_count"] + 1, attempted=True)
        api.emit(namespace, "invoice.payment_failed", invoice, call=call)
        api.commit()
        decline_code, message = DECLINE_ERRORS[decline]
        raise StripeApiError(
            402,
            message,
            type_="card_error",
            code="card_declined",
            decline_code=decline_code,
        )
    invoice_mark_paid(api, namespace, invoice, call=call)
    subscriptions.subscription_settled(api, namespace, invoice, call=call)
    return invoice


def find_invoice(api: Api, invoice_id: str) -> tuple[str, dict[str, Any]]:
    for namespace in api.state.namespaces():
        invoice = api.state.collection(namespace, "invoice").get(invoice_id)
        if invoice is not None:
            return namespace, invoice
    raise no_such("invoice", invoice_id)


def invoice_list(api: Api, call: Call) -> dict[str, Any]:
    items = api.newest_first(call.namespace, "invoice")
    for name in ("customer", "subscription", "status", "collection_method"):
        if call.params.get(name):
            items = [i for i in items if i[name] == call.params[name]]
    return api.list_response(items, call.params, "/v1/invoices")


def invoice_retrieve(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    return api.get(call.namespace, "invoice", object_id)
