"""Checkout sessions (payment, subscription and setup modes), and paying one as the hosted
page does."""

from __future__ import annotations

import copy
import re
import secrets
from typing import TYPE_CHECKING, Any

from devtools.stripe_standin.common import (
    Call,
    address_shape,
    as_bool,
    as_dict,
    as_int,
    as_list,
    check_params,
    invalid,
    metadata_merge,
    missing_param,
    new_id,
    no_such,
    timestamp_now,
)
from devtools.stripe_standin.constants import (
    DECLINE_MESSAGES_FR,
    SAVED_THEN_DECLINED,
    SETUP_INTENT_DATA_PARAMS,
    SUBSCRIPTION_DATA_PARAMS,
    TEST_CARDS,
    URL_MARKER,
)
from devtools.stripe_standin.resources import customers, invoices, payment_methods, subscriptions
from devtools.stripe_standin.shapes import stripe_shape

if TYPE_CHECKING:
    from devtools.stripe_standin.api import Api


def checkout_success_url(session: dict[str, Any]) -> str:
    return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])


def checkout_session_create(api: Api, call: Call) -> dict[str, Any]:
    params = call.params
    mode = params.get("mode")
    if not mode:
        raise missing_param("mode")
    if mode not in {"payment", "setup", "subscription"}:
        raise invalid("Invalid mode: must be one of payment, setup or subscription", param="mode")
    if not params.get("success_url"):
        raise missing_param("success_url")
    if mode == "setup":
        return checkout_setup_session_create(api, call)
    if "setup_intent_data" in params:
        raise invalid(
            "You can only specify `setup_intent_data` in `setup` mode.",
            param="setup_intent_data",
        )
    raw_items = as_list(params.get("line_items", []), "line_items")
    if not raw_items:
        raise missing_param("line_items")
    customer_id = params.get("customer") or None
    if customer_id:
        api.get(call.namespace, "customer", customer_id)
    subscription_data = as_dict(params.get("subscription_data", {}), "subscription_data")
    check_params(subscription_data, SUBSCRIPTION_DATA_PARAMS, prefix="subscription_data")
    if subscription_data and mode != "subscription":
        raise invalid(
            "You can only specify `subscription_data` in `subscription` mode.",
            param="subscription_data",
        )
    items = _line_items(api, call.namespace, raw_items, mode)
    currencies = {api.get(call.namespace, "price", i["price"])["currency"] for i in items}
    if len(currencies) > 1:
        raise invalid("All prices must use the same currency.", param="line_items")
    amount = sum(
        api.get(call.namespace, "price", i["price"])["unit_amount"] * (i["quantity"] or 0)
        for i in items
    )
    now = timestamp_now()
    session_id = new_id("checkout.session")
    session = stripe_shape(
        "checkout.session",
        id=session_id,
        created=now,
        expires_at=now + 24 * 3600,
        mode=mode,
        success_url=params["success_url"],
        cancel_url=params.get("cancel_url") or None,
        customer=customer_id,
        customer_email=params.get("customer_email") or None,
        customer_creation="if_required" if mode == "payment" and not customer_id else None,
        client_reference_id=params.get("client_reference_id") or None,
        metadata=metadata_merge({}, params.get("metadata", {})),
        locale=params.get("locale") or None,
        allow_promotion_codes=(
            as_bool(params["allow_promotion_codes"], "allow_promotion_codes")
            if "allow_promotion_codes" in params
            else None
        ),
        billing_address_collection=params.get("billing_address_collection") or None,
        currency=currencies.pop(),
        amount_subtotal=amount,
        amount_total=amount,
        payment_method_collection="always" if mode == "subscription" else None,
        payment_method_types=["card"],
        payment_status="unpaid",
        status="open",
        submit_type=params.get("submit_type") or None,
        subscription=None,
        invoice=None,
        url=f"{URL_MARKER}/pay/{session_id}",
    )
    session["_line_items"] = items
    session["_subscription_data"] = subscription_data
    session["_api_version"] = call.api_version
    api.state.collection(call.namespace, "checkout.session")[session_id] = session
    return session


def _line_items(api: Api, namespace: str, raw_items: list[Any], mode: str) -> list[dict[str, Any]]:
    """The session's items from ``line_items``: active prices, one billing interval."""
    items: list[dict[str, Any]] = []
    intervals: set[tuple[str, int]] = set()
    for index, raw in enumerate(raw_items):
        raw = as_dict(raw, f"line_items[{index}]")
        check_params(
            raw,
            frozenset({"price", "quantity", "adjustable_quantity", "tax_rates"}),
            prefix=f"line_items[{index}]",
        )
        if not raw.get("price"):
            raise missing_param(f"line_items[{index}][price]")
        price = api.state.collection(namespace, "price").get(raw["price"])
        if price is None:
            raise no_such("price", raw["price"], param=f"line_items[{index}][price]")
        if not price["active"]:
            raise invalid(
                f"The price specified is inactive. This field only accepts active prices. "
                f"({price['id']})",
                param=f"line_items[{index}][price]",
            )
        metered = bool(price["recurring"]) and price["recurring"]["usage_type"] == "metered"
        if metered and "quantity" in raw:
            raise invalid(
                "Quantity should not be specified where usage_type is `metered`. Remove "
                f"quantity from `line_items[{index}]`",
                param=f"line_items[{index}][quantity]",
            )
        quantity = (
            None if metered else as_int(raw.get("quantity", 1), f"line_items[{index}][quantity]")
        )
        if mode == "payment" and price["recurring"]:
            raise invalid(
                "You must provide at least one recurring price in `subscription` mode when "
                "using prices. You specified `payment` mode but passed a recurring price. "
                "Either switch to `subscription` mode or use only one-time prices.",
                param=f"line_items[{index}][price]",
            )
        if price["recurring"]:
            intervals.add((price["recurring"]["interval"], price["recurring"]["interval_count"]))
        items.append({"id": new_id("item"), "price": price["id"], "quantity": quantity})
    if mode == "subscription" and not intervals:
        raise invalid(
            "You must provide at least one recurring price in `subscription` mode when "
            "using prices.",
            param="line_items",
        )
    if len(intervals) > 1:
        raise invalid(
            "Checkout does not support multiple prices with different billing intervals.",
            param="line_items",
        )
    return items


def checkout_setup_session_create(api: Api, call: Call) -> dict[str, Any]:
    """A Checkout session that saves a card for later payments (``mode=setup``).

    No line items and no amount; completing it creates a succeeded SetupIntent whose card
    payment method is attached to the session's customer.
    """
    params = call.params
    if params.get("line_items"):
        raise invalid("You cannot pass `line_items` in `setup` mode.", param="line_items")
    for name in ("subscription_data", "payment_intent_data"):
        if name in params:
            raise invalid(f"You cannot pass `{name}` in `setup` mode.", param=name)
    currency = str(params.get("currency") or "").lower()
    if not currency and not params.get("payment_method_types"):
        raise invalid(
            "`currency` is required in `setup` mode when `payment_method_types` is not set.",
            param="currency",
        )
    customer_id = params.get("customer") or None
    if customer_id:
        api.get(call.namespace, "customer", customer_id)
    intent_data = as_dict(params.get("setup_intent_data", {}), "setup_intent_data")
    check_params(intent_data, SETUP_INTENT_DATA_PARAMS, prefix="setup_intent_data")
    now = timestamp_now()
    session_id = new_id("checkout.session")
    session = stripe_shape(
        "checkout.session",
        id=session_id,
        created=now,
        expires_at=now + 24 * 3600,
        mode="setup",
        success_url=params["success_url"],
        cancel_url=params.get("cancel_url") or None,
        customer=customer_id,
        customer_email=params.get("customer_email") or None,
        customer_creation=None,
        client_reference_id=params.get("client_reference_id") or None,
        metadata=metadata_merge({}, params.get("metadata", {})),
        locale=params.get("locale") or None,
        allow_promotion_codes=None,
        billing_address_collection=params.get("billing_address_collection") or None,
        currency=currency or None,
        amount_subtotal=None,
        amount_total=None,
        total_details=None,
        payment_method_collection=None,
        payment_method_types=["card"],
        payment_status="no_payment_required",
        status="open",
        submit_type=None,
        subscription=None,
        invoice=None,
        setup_intent=None,
        url=f"{URL_MARKER}/pay/{session_id}",
    )
    session["_line_items"] = []
    session["_setup_intent_data"] = intent_data
    session["_api_version"] = call.api_version
    api.state.collection(call.namespace, "checkout.session")[session_id] = session
    return session


def checkout_setup_complete(
    api: Api, namespace: str, session: dict[str, Any], *, digits: str, name: str
) -> str:
    """Save the card: payment method (attached), SetupIntent, then the session completed.

    Events, in Stripe's order: ``payment_method.attached`` (with a customer),
    ``setup_intent.created``, ``setup_intent.succeeded``, ``checkout.session.completed``.
    """
    api_version = session["_api_version"]
    customer_id = session["customer"]
    customer = api.state.collection(namespace, "customer").get(customer_id or "")
    method = payment_methods.payment_method_new(
        api,
        namespace,
        digits=digits,
        name=name.strip() or (customer or {}).get("name"),
        email=(customer or {}).get("email"),
        customer_id=customer_id,
    )
    data = session["_setup_intent_data"]
    intent_id = new_id("setup_intent")
    intent = stripe_shape(
        "setup_intent",
        id=intent_id,
        client_secret=f"{intent_id}_secret_{secrets.token_hex(12)}",
        created=timestamp_now(),
        customer=customer_id,
        description=data.get("description") or None,
        metadata=metadata_merge({}, data.get("metadata", {})),
        on_behalf_of=data.get("on_behalf_of") or None,
    )
    api.state.collection(namespace, "setup_intent")[intent_id] = intent

    def emit(type_: str, obj: dict[str, Any]) -> None:
        api.emit(namespace, type_, obj, call=None, api_version=api_version)

    if customer_id:
        emit("payment_method.attached", method)
    emit("setup_intent.created", intent)
    intent.update(status="succeeded", payment_method=method["id"])
    emit("setup_intent.succeeded", intent)
    session.update(
        status="complete",
        setup_intent=intent_id,
        customer_details={
            "address": address_shape({}),
            "email": (customer or {}).get("email") or session["customer_email"],
            "name": method["billing_details"]["name"],
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
            "business_name": None,
            "individual_name": None,
        },
        url=None,
    )
    emit("checkout.session.completed", session)
    api.commit()
    return checkout_success_url(session)


def checkout_item(api: Api, namespace: str, stored: dict[str, Any]) -> dict[str, Any]:
    price = api.get(namespace, "price", stored["price"])
    product = api.state.collection(namespace, "product").get(price["product"], {})
    quantity = stored["quantity"]
    amount = price["unit_amount"] * (quantity or 0)
    return stripe_shape(
        "item",
        id=stored["id"],
        amount_discount=0,
        amount_subtotal=amount,
        amount_tax=0,
        amount_total=amount,
        currency=price["currency"],
        description=product.get("name", ""),
        metadata={},
        price=copy.deepcopy(price),
        quantity=quantity,
    )


def checkout_session_list(api: Api, call: Call) -> dict[str, Any]:
    items = api.newest_first(call.namespace, "checkout.session")
    for name in ("customer", "subscription", "payment_intent", "status"):
        if call.params.get(name):
            items = [s for s in items if s[name] == call.params[name]]
    return api.list_response(items, call.params, "/v1/checkout/sessions")


def checkout_session_retrieve(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    return api.get(call.namespace, "checkout.session", object_id)


def checkout_session_line_items(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    session = api.get(call.namespace, "checkout.session", object_id)
    return api.list_response(
        [checkout_item(api, call.namespace, item) for item in session["_line_items"]],
        call.params,
        f"/v1/checkout/sessions/{object_id}/line_items",
    )


def checkout_session_expire(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    session = api.get(call.namespace, "checkout.session", object_id)
    if session["status"] != "open":
        raise invalid(
            f'Only Checkout Sessions with a status in ["open"] can be expired. This '
            f'Checkout Session has a status of "{session["status"]}".',
        )
    session.update(status="expired", url=None)
    api.emit(call.namespace, "checkout.session.expired", session, call=call)
    return session


def find_session(api: Api, session_id: str) -> tuple[str, dict[str, Any]] | None:
    for namespace in api.state.namespaces():
        session = api.state.collection(namespace, "checkout.session").get(session_id)
        if session is not None:
            return namespace, session
    return None


def checkout_pay(
    api: Api, *, session_id: str, email: str, name: str, card_number: str
) -> tuple[str, str | None]:
    """Complete a Checkout session as its hosted page does.

    Returns ``(redirect_url, None)`` on completion, or ``("", error_message)`` when the page
    must show an error (unknown card, declined one-off payment, missing e-mail).
    """
    with api.state.lock:
        found = find_session(api, session_id)
        if found is None:
            raise no_such("checkout.session", session_id)
        namespace, session = found
        if session["status"] == "complete":
            return checkout_success_url(session), None
        if session["status"] != "open":
            return "", "Cette session de paiement a expiré."
        digits = re.sub(r"\D", "", card_number)
        if digits not in TEST_CARDS:
            return "", (
                "Numéro de carte invalide. En mode test, utilisez 4242 4242 4242 4242 "
                "ou 4000 0000 0000 0002."
            )
        decline = TEST_CARDS[digits]
        saved = session["mode"] == "setup" and digits in SAVED_THEN_DECLINED
        if decline and session["mode"] in {"payment", "setup"} and not saved:
            return "", DECLINE_MESSAGES_FR[decline]
        if session["mode"] == "setup":
            return checkout_setup_complete(api, namespace, session, digits=digits, name=name), None
        api_version = session["_api_version"]
        customer_id = session["customer"]
        email = email.strip() or (session["customer_email"] or "")
        if customer_id is None and not email:
            return "", "Veuillez saisir votre adresse e-mail."
        if customer_id is None:
            customer = customers.customer_new(
                api,
                namespace,
                None,
                email=email,
                name=name.strip() or None,
                metadata={},
                api_version=api_version,
            )
        else:
            customer = api.get(namespace, "customer", customer_id)
        return _checkout_complete(api, namespace, session, customer, email, decline), None


def _checkout_complete(
    api: Api,
    namespace: str,
    session: dict[str, Any],
    customer: dict[str, Any],
    email: str,
    decline: str | None,
) -> str:
    """Complete a paid (or, in subscription mode, declined) session; the redirect URL."""
    api_version = session["_api_version"]
    customer["currency"] = customer["currency"] or session["currency"]
    session.update(
        status="complete",
        customer=customer["id"],
        customer_details={
            "address": address_shape({}),
            "email": customer["email"] or email or None,
            "name": customer["name"],
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
            "business_name": None,
            "individual_name": None,
        },
        url=None,
    )
    if session["mode"] == "payment":
        session.update(payment_status="paid", payment_intent=new_id("payment_intent"))
        api.emit(
            namespace,
            "checkout.session.completed",
            session,
            call=None,
            api_version=api_version,
        )
        api.commit()
        return checkout_success_url(session)
    subscription, invoice = subscriptions.subscription_from_checkout(
        api, namespace, session, customer, failed=decline is not None
    )
    session.update(
        subscription=subscription["id"],
        invoice=invoice["id"],
        payment_status="paid" if invoice["status"] == "paid" else "unpaid",
    )
    api.emit(namespace, "checkout.session.completed", session, call=None, api_version=api_version)
    api.emit(
        namespace,
        "customer.subscription.created",
        subscription,
        call=None,
        api_version=api_version,
    )
    invoices.emit_invoice_lifecycle(api, namespace, invoice, api_version=api_version)
    api.commit()
    return checkout_success_url(session)
