"""Connected accounts (Connect) and account links, with the onboarding they lead to."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from devtools.stripe_standin.common import (
    Call,
    as_dict,
    invalid,
    metadata_merge,
    missing_param,
    new_id,
    no_such,
    timestamp_now,
)
from devtools.stripe_standin.constants import PLATFORM, PLATFORM_DISPLAY_NAME, URL_MARKER
from devtools.stripe_standin.shapes import stripe_shape

if TYPE_CHECKING:
    from devtools.stripe_standin.api import Api


def display_name(api: Api, namespace: str) -> str:
    if namespace == PLATFORM:
        return PLATFORM_DISPLAY_NAME
    account = api.state.collection(PLATFORM, "account").get(namespace, {})
    profile = account.get("business_profile") or {}
    return profile.get("name") or account.get("email") or namespace


def account_create(api: Api, call: Call) -> dict[str, Any]:
    params = call.params
    account_type = params.get("type", "standard")
    if account_type not in {"standard", "express", "custom"}:
        raise invalid("Invalid type: must be one of custom, express, or standard", param="type")
    account_id = new_id("account")
    account = stripe_shape(
        "account",
        id=account_id,
        created=timestamp_now(),
        type=account_type,
        country=params.get("country", "FR"),
        default_currency=params.get("default_currency", "eur"),
        email=params.get("email") or None,
        business_type=params.get("business_type") or None,
        metadata=metadata_merge({}, params.get("metadata", {})),
        controller={"type": "account" if account_type == "standard" else "application"},
        capabilities={},
        charges_enabled=False,
        payouts_enabled=False,
        details_submitted=False,
    )
    account["external_accounts"]["url"] = f"/v1/accounts/{account_id}/external_accounts"
    account["business_profile"].update(
        {
            k: v or None
            for k, v in as_dict(params.get("business_profile", {}), "business_profile").items()
            if k in account["business_profile"] and not isinstance(v, dict)
        }
    )
    api.state.collection(PLATFORM, "account")[account_id] = account
    return account


def account_list(api: Api, call: Call) -> dict[str, Any]:
    return api.list_response(api.newest_first(PLATFORM, "account"), call.params, "/v1/accounts")


def account_retrieve(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    return api.get(PLATFORM, "account", object_id)


def account_current(api: Api, call: Call) -> dict[str, Any]:
    if call.namespace != PLATFORM:
        return api.get(PLATFORM, "account", call.namespace)
    platform = api.state.data.setdefault("platform_account", None)
    if platform is None:
        platform = stripe_shape(
            "account",
            id=new_id("account"),
            created=timestamp_now(),
            country="FR",
            default_currency="eur",
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            capabilities={},
            metadata={},
        )
        platform["business_profile"]["name"] = PLATFORM_DISPLAY_NAME
        api.state.data["platform_account"] = platform
        api.state.save()
    return platform


def account_update(api: Api, call: Call, object_id: str) -> dict[str, Any]:
    account = api.get(PLATFORM, "account", object_id)
    before = copy.deepcopy(account)
    params = call.params
    if "email" in params:
        account["email"] = params["email"] or None
    if "metadata" in params:
        account["metadata"] = metadata_merge(account["metadata"], params["metadata"])
    if "business_profile" in params:
        for key, value in as_dict(params["business_profile"], "business_profile").items():
            if key in account["business_profile"] and not isinstance(value, dict):
                account["business_profile"][key] = value or None
    api.emit_updated(call, "account.updated", before, account, namespace=object_id)
    return account


def account_link_create(api: Api, call: Call) -> dict[str, Any]:
    params = call.params
    for name in ("account", "type"):
        if not params.get(name):
            raise missing_param(name)
    api.get(PLATFORM, "account", params["account"])
    if params["type"] not in {"account_onboarding", "account_update"}:
        raise invalid(
            "Invalid type: must be one of account_onboarding or account_update", param="type"
        )
    token = new_id("account_link")
    now = timestamp_now()
    api.state.collection(PLATFORM, "account_link")[token] = {
        "account": params["account"],
        "refresh_url": params.get("refresh_url") or None,
        "return_url": params.get("return_url") or None,
        "expires_at": now + 300,
    }
    return stripe_shape(
        "account_link",
        created=now,
        expires_at=now + 300,
        url=f"{URL_MARKER}/connect/onboarding/{token}",
    )


def account_onboard(api: Api, *, token: str) -> str:
    """Finish onboarding from an account link; returns where to send the browser."""
    with api.state.lock:
        link = api.state.collection(PLATFORM, "account_link").get(token)
        if link is None:
            raise no_such("account_link", token)
        account = api.get(PLATFORM, "account", link["account"])
        before = copy.deepcopy(account)
        account.update(
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            capabilities={"card_payments": "active", "transfers": "active"},
        )
        for key in ("requirements", "future_requirements"):
            account[key].update(
                currently_due=[], eventually_due=[], past_due=[], disabled_reason=None
            )
        api.emit_updated(None, "account.updated", before, account, namespace=account["id"])
        api.commit()
        return link["return_url"] or f"{api.base_url}/"
