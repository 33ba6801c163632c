"""Stripe's error JSON, bracketed form bodies, parameter checks, ids and small helpers shared
by every module of the stand-in."""

from __future__ import annotations

import base64
import calendar
import json
import re
import secrets
import string
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from common import formatting
from devtools.stripe_standin.constants import CURRENCY_SYMBOLS, ID_FORMATS, KIND_LABELS


class StripeApiError(Exception):
    """An error answered in Stripe's JSON shape, so the SDK raises its own exception types."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.decline_code = decline_code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.decline_code:
            error["decline_code"] = self.decline_code
        if self.param:
            error["param"] = self.param
        return {"error": error}


def missing_param(param: str) -> StripeApiError:
    return StripeApiError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def no_such(kind: str, object_id: str, *, param: str = "id") -> StripeApiError:
    return StripeApiError(
        404,
        f"No such {KIND_LABELS.get(kind, kind)}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def invalid(message: str, *, param: str | None = None) -> StripeApiError:
    return StripeApiError(400, message, param=param)


KEY_PART = re.compile(r"\[([^\]]*)\]")


FREE_FORM_KEYS = frozenset({"metadata", "payload"})


def form_decode(body: str) -> dict[str, Any]:
    """Decode Stripe's bracketed form encoding (``a[b][0][c]=v``, ``expand[]=x``) into nested
    dicts and lists, the way Stripe's API reads request bodies and query strings."""
    root: dict[str, Any] = {}
    for raw_key, value in urllib.parse.parse_qsl(body, keep_blank_values=True):
        head, _, rest = raw_key.partition("[")
        parts = [head, *(KEY_PART.findall("[" + rest) if rest else [])]
        node = root
        for index, part in enumerate(parts):
            key = str(len(node)) if part == "" else part
            if index == len(parts) - 1:
                node[key] = value
                break
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child
    return listify(root, free_form=True)


def listify(value: Any, *, free_form: bool = False) -> Any:
    if not isinstance(value, dict):
        return value
    converted = {key: listify(item, free_form=key in FREE_FORM_KEYS) for key, item in value.items()}
    if not free_form and converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def new_id(kind: str) -> str:
    prefix, length = ID_FORMATS[kind]
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def timestamp_now() -> int:
    return int(time.time())


def as_int(value: Any, param: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise invalid(f"Invalid integer: {value}", param=param) from None


def as_bool(value: Any, param: str) -> bool:
    text = str(value).lower()
    if text in {"true", "false"}:
        return text == "true"
    raise invalid(f"Invalid boolean: {value}", param=param)


def as_dict(value: Any, param: str) -> dict[str, Any]:
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid object: {param} must be a hash", param=param)
    return value


def as_list(value: Any, param: str) -> list[Any]:
    if value == "":
        return []
    if isinstance(value, list):
        return value
    raise invalid(f"Invalid array: {param} must be an array", param=param)


def check_params(params: Mapping[str, Any], allowed: frozenset[str], *, prefix: str = "") -> None:
    for name in params:
        if name not in allowed:
            full = f"{prefix}[{name}]" if prefix else name
            raise StripeApiError(
                400, f"Received unknown parameter: {full}", code="parameter_unknown", param=full
            )


def metadata_merge(current: dict[str, str], update: Any) -> dict[str, str]:
    """Stripe merges metadata keys; an empty value removes the key, an empty hash clears all."""
    if update == "":
        return {}
    merged = dict(current)
    for key, value in as_dict(update, "metadata").items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


def add_interval(timestamp: int, interval: str, count: int) -> int:
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    if interval in {"day", "week"}:
        return timestamp + count * (86400 if interval == "day" else 7 * 86400)
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def format_amount_fr(amount: int, currency: str) -> str:
    """``4900, "eur"`` -> ``"49,00 €"``: the apps' French format, with the currency's symbol."""
    text = formatting.euros(amount)
    return (
        text
        if currency == "eur"
        else text.replace("€", CURRENCY_SYMBOLS.get(currency, currency.upper()))
    )


def date_fr(timestamp: int) -> str:
    """« 12/03/2026 » for a Stripe timestamp (UTC)."""
    return formatting.date_short(datetime.fromtimestamp(timestamp, tz=UTC).date())


def address_shape(value: Any) -> dict[str, Any]:
    given = as_dict(value, "address") if value else {}
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return {key: given.get(key) or None for key in keys}


def b64decode_text(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(str(error)) from error


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, Any]
    namespace: str
    api_version: str
    request_id: str | None
    idempotency_key: str | None


@dataclass
class HttpReply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] | None = None


def json_reply(
    status: int, payload: Mapping[str, Any], headers: dict[str, str] | None = None
) -> HttpReply:
    body = json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8")
    return HttpReply(status, body, "application/json", dict(headers or {}))
