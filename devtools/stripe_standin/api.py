"""The request plumbing: API keys, ``Stripe-Account`` namespaces, idempotent replays, the
dispatch through ``server.ROUTES``, expansion, pagination, and the events every change emits."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Sequence
from email.message import Message
from typing import Any, NamedTuple

from devtools.stripe_standin.common import (
    Call,
    HttpReply,
    StripeApiError,
    as_int,
    as_list,
    b64decode_text,
    check_params,
    form_decode,
    invalid,
    json_reply,
    new_id,
    no_such,
    timestamp_now,
)
from devtools.stripe_standin.constants import (
    DEFAULT_API_VERSION,
    EXPANDABLE,
    IDEMPOTENCY_CACHE_SIZE,
    PLATFORM,
)
from devtools.stripe_standin.resources import checkout
from devtools.stripe_standin.shapes import strip_private, stripe_shape, with_base_url
from devtools.stripe_standin.state import State
from devtools.stripe_standin.webhooks import WebhookDispatcher, WebhookTarget

# A handler takes the API and the call, plus ``object_id`` when the path has one.
Handler = Callable[..., dict[str, Any]]


class Route(NamedTuple):
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    allowed: frozenset[str] | None


class Api:
    """Stripe's behaviour over the state: plumbing, rendering and events; the handlers live in
    ``resources`` and are reached through the dispatch table of ``server``."""

    def __init__(
        self,
        *,
        state: State,
        cli_endpoints: Sequence[WebhookTarget],
        api_key: str | None,
        retry_delays: Sequence[float],
        delivery_timeout: float,
        routes: Sequence[Route],
    ) -> None:
        self.state = state
        self.routes = tuple(routes)
        self.cli_endpoints = list(cli_endpoints)
        self.api_key = api_key
        self.base_url = ""
        self.pending: list[tuple[str, str, str]] = []
        self._idempotency: dict[tuple[str, str], tuple[str, HttpReply]] = {}
        self.dispatcher = WebhookDispatcher(
            payload_for=self._event_payload,
            target_for=self._webhook_target,
            on_done=self._delivery_done,
            retry_delays=retry_delays,
            timeout=delivery_timeout,
        )

    def start_deliveries(self) -> None:
        """Queue what a previous run left undelivered, in its original order."""
        with self.state.lock:
            for namespace, event_id, endpoint_key in self.state.outbox:
                self.dispatcher.enqueue(
                    endpoint_key=endpoint_key, namespace=namespace, event_id=event_id
                )

    def api_call(
        self, method: str, path: str, query: str, body: bytes, headers: Message
    ) -> HttpReply:
        self._authenticate(headers.get("Authorization"))
        raw_params = body.decode("utf-8") if method == "POST" else query
        params = form_decode(raw_params)
        idempotency_key = headers.get("Idempotency-Key") if method == "POST" else None
        with self.state.lock:
            namespace = self._namespace(headers.get("Stripe-Account"))
            cache_key = (namespace, idempotency_key) if idempotency_key else None
            fingerprint = f"{method} {path} {raw_params}"
            if cache_key and cache_key in self._idempotency:
                seen_fingerprint, seen = self._idempotency[cache_key]
                if seen_fingerprint != fingerprint:
                    raise StripeApiError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with. Try using a key other than "
                        f"'{idempotency_key}' if you meant to execute a different request.",
                        type_="idempotency_error",
                    )
                return HttpReply(
                    seen.status,
                    seen.body,
                    seen.content_type,
                    {**(seen.headers or {}), "Idempotent-Replayed": "true"},
                )
            request_id = new_id("request")
            call = Call(
                method=method,
                path=path,
                params=params,
                namespace=namespace,
                api_version=headers.get("Stripe-Version") or DEFAULT_API_VERSION,
                request_id=request_id,
                idempotency_key=idempotency_key,
            )
            reply_headers = {"Request-Id": request_id}
            if idempotency_key:
                reply_headers["Idempotency-Key"] = idempotency_key
            try:
                result = self._dispatch(call)
                reply = json_reply(200, result, reply_headers)
            except StripeApiError as error:
                self.pending.clear()
                reply = json_reply(
                    error.status, error.body(), {**reply_headers, "Stripe-Should-Retry": "false"}
                )
            if method in {"POST", "DELETE"} and reply.status == 200:
                self.commit()
            # As Stripe: a request refused by validation saves no idempotent result.
            if cache_key and reply.status == 200:
                self._idempotency[cache_key] = (fingerprint, reply)
                while len(self._idempotency) > IDEMPOTENCY_CACHE_SIZE:
                    self._idempotency.pop(next(iter(self._idempotency)))
            return reply

    def _authenticate(self, authorization: str | None) -> None:
        key = ""
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() == "bearer":
                key = credentials.strip()
            elif scheme.lower() == "basic":
                try:
                    decoded = b64decode_text(credentials.strip())
                except ValueError:
                    decoded = ""
                key = decoded.partition(":")[0]
        if not key:
            raise StripeApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                "or we can help at https://support.stripe.com/.",
            )
        valid = (
            key == self.api_key
            if self.api_key
            else (key.startswith(("sk_test_", "rk_test_")) and len(key) > len("sk_test_"))
        )
        if not valid:
            masked = key[:8] + "*" * max(len(key) - 12, 4) + key[-4:]
            raise StripeApiError(401, f"Invalid API Key provided: {masked}")

    def _namespace(self, stripe_account: str | None) -> str:
        if not stripe_account:
            return PLATFORM
        if stripe_account not in self.state.collection(PLATFORM, "account"):
            raise StripeApiError(
                403,
                f"The provided key does not have access to account '{stripe_account}' (or that "
                "account does not exist). Application access may have been revoked.",
                code="account_invalid",
            )
        return stripe_account

    def _dispatch(self, call: Call) -> dict[str, Any]:
        for route in self.routes:
            match = route.pattern.match(call.path)
            if not match or route.method != call.method:
                continue
            expand = as_list(call.params.pop("expand", []), "expand")
            if route.allowed is not None:
                check_params(call.params, route.allowed - {"expand"})
            result = route.handler(self, call, **match.groupdict())
            return self.render(result, namespace=call.namespace, expand=expand)
        raise StripeApiError(
            404,
            f"Unrecognized request URL ({call.method}: {call.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        )

    def commit(self) -> None:
        """Persist, then hand new events to the delivery threads."""
        self.state.save()
        pending, self.pending = self.pending, []
        for namespace, event_id, endpoint_key in pending:
            self.dispatcher.enqueue(
                endpoint_key=endpoint_key, namespace=namespace, event_id=event_id
            )

    def render(
        self, value: dict[str, Any], *, namespace: str, expand: Sequence[str] = ()
    ) -> dict[str, Any]:
        rendered = copy.deepcopy(value)
        for path in expand:
            rendered = self._expand(rendered, str(path).split("."), namespace, str(path))
        return with_base_url(strip_private(rendered), self.base_url)

    def _expand(
        self, obj: dict[str, Any], path: list[str], namespace: str, full: str
    ) -> dict[str, Any]:
        head, rest = path[0], path[1:]
        if obj.get("object") == "list" and head == "data":
            if rest:
                obj["data"] = [self._expand(item, rest, namespace, full) for item in obj["data"]]
            return obj
        if obj.get("object") == "checkout.session" and head == "line_items":
            obj["line_items"] = self.list_response(
                [
                    checkout.checkout_item(self, namespace, item)
                    for item in obj.get("_line_items", [])
                ],
                {},
                f"/v1/checkout/sessions/{obj['id']}/line_items",
            )
            return obj
        value = obj.get(head)
        if isinstance(value, str):
            kind = EXPANDABLE.get(obj.get("object", ""), {}).get(head)
            if kind is None:
                raise invalid(f"This property cannot be expanded ({head}).", param="expand")
            target = self.state.collection(namespace, kind).get(value)
            if target is None:
                raise no_such(kind, value)
            value = copy.deepcopy(target)
        elif head not in obj or (value is not None and not isinstance(value, dict)):
            raise invalid(f"This property cannot be expanded ({full}).", param="expand")
        if rest and isinstance(value, dict):
            value = self._expand(value, rest, namespace, full)
        obj[head] = value
        return obj

    def list_response(
        self, items: list[dict[str, Any]], params: dict[str, Any], url: str
    ) -> dict[str, Any]:
        """Stripe's cursor pagination over ``items`` (already newest first)."""
        created = params.get("created")
        if isinstance(created, dict):
            bounds = {op: as_int(v, f"created[{op}]") for op, v in created.items()}
            checks: dict[str, Callable[[int, int], bool]] = {
                "gt": lambda a, b: a > b,
                "gte": lambda a, b: a >= b,
                "lt": lambda a, b: a < b,
                "lte": lambda a, b: a <= b,
            }
            for op in bounds:
                if op not in checks:
                    raise StripeApiError(
                        400,
                        f"Received unknown parameter: created[{op}]",
                        code="parameter_unknown",
                        param=f"created[{op}]",
                    )
            items = [
                item
                for item in items
                if all(checks[op](item["created"], bound) for op, bound in bounds.items())
            ]
        elif created not in (None, ""):
            items = [item for item in items if item["created"] == as_int(created, "created")]
        limit = as_int(params.get("limit", 10), "limit")
        if not 1 <= limit <= 100:
            raise invalid(
                "Invalid limit: must be at least 1 and less than or equal to 100.", param="limit"
            )
        ids = [item["id"] for item in items]
        after, before = params.get("starting_after"), params.get("ending_before")
        if after:
            if after not in ids:
                raise invalid(f"No such object: '{after}'", param="starting_after")
            window = items[ids.index(after) + 1 :]
            page, has_more = window[:limit], len(window) > limit
        elif before:
            if before not in ids:
                raise invalid(f"No such object: '{before}'", param="ending_before")
            window = items[: ids.index(before)]
            page, has_more = window[-limit:], len(window) > limit
        else:
            page, has_more = items[:limit], len(items) > limit
        return {"object": "list", "data": page, "has_more": has_more, "url": url}

    def newest_first(self, namespace: str, kind: str) -> list[dict[str, Any]]:
        return list(reversed(self.state.collection(namespace, kind).values()))

    def get(self, namespace: str, kind: str, object_id: str) -> dict[str, Any]:
        found = self.state.collection(namespace, kind).get(object_id)
        if found is None or found.get("_deleted"):
            raise no_such(kind, object_id)
        return found

    def emit(
        self,
        namespace: str,
        type_: str,
        obj: dict[str, Any],
        *,
        call: Call | None,
        api_version: str | None = None,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"object": strip_private(copy.deepcopy(obj))}
        if previous is not None:
            data["previous_attributes"] = copy.deepcopy(previous)
        endpoints = self.endpoints_for(namespace, type_)
        event = stripe_shape(
            "event",
            id=new_id("event"),
            api_version=(call.api_version if call else api_version) or DEFAULT_API_VERSION,
            created=timestamp_now(),
            data=data,
            pending_webhooks=len(endpoints),
            request={
                "id": call.request_id if call else None,
                "idempotency_key": call.idempotency_key if call else None,
            },
            type=type_,
        )
        if namespace != PLATFORM:
            event["account"] = namespace
        self.state.collection(namespace, "event")[event["id"]] = event
        for endpoint_key in endpoints:
            self.state.outbox.append([namespace, event["id"], endpoint_key])
            self.pending.append((namespace, event["id"], endpoint_key))
        return event

    def endpoints_for(self, namespace: str, type_: str) -> list[str]:
        keys = [f"cli:{index}" for index in range(len(self.cli_endpoints))]
        for endpoint in self.state.collection(PLATFORM, "webhook_endpoint").values():
            if endpoint.get("_deleted") or endpoint["status"] != "enabled":
                continue
            if bool(endpoint.get("_connect")) != (namespace != PLATFORM):
                continue
            if "*" in endpoint["enabled_events"] or type_ in endpoint["enabled_events"]:
                keys.append(endpoint["id"])
        return keys

    def _event_payload(self, namespace: str, event_id: str) -> bytes | None:
        with self.state.lock:
            event = self.state.collection(namespace, "event").get(event_id)
            if event is None:
                return None
            rendered = self.render(event, namespace=namespace)
        return json.dumps(rendered, indent=2, ensure_ascii=False).encode("utf-8")

    def _webhook_target(self, endpoint_key: str) -> WebhookTarget | None:
        if endpoint_key.startswith("cli:"):
            index = int(endpoint_key.removeprefix("cli:"))
            return self.cli_endpoints[index] if index < len(self.cli_endpoints) else None
        with self.state.lock:
            endpoint = self.state.collection(PLATFORM, "webhook_endpoint").get(endpoint_key)
            if endpoint is None or endpoint.get("_deleted") or endpoint["status"] != "enabled":
                return None
            return WebhookTarget(url=endpoint["url"], secret=endpoint["_secret"])

    def _delivery_done(
        self, namespace: str, event_id: str, endpoint_key: str, delivered: bool
    ) -> None:
        with self.state.lock:
            entry = [namespace, event_id, endpoint_key]
            if entry in self.state.outbox:
                self.state.outbox.remove(entry)
            event = self.state.collection(namespace, "event").get(event_id)
            if delivered and event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1
            self.state.save()

    def event_redeliver(self, *, namespace: str, event_id: str) -> int:
        """Queue ``event_id`` again for every matching endpoint (a duplicate delivery)."""
        with self.state.lock:
            event = self.get(namespace, "event", event_id)
            endpoints = self.endpoints_for(namespace, event["type"])
            for endpoint_key in endpoints:
                self.state.outbox.append([namespace, event_id, endpoint_key])
                self.pending.append((namespace, event_id, endpoint_key))
            self.commit()
            return len(endpoints)

    def emit_updated(
        self,
        call: Call | None,
        type_: str,
        before: dict[str, Any],
        after: dict[str, Any],
        *,
        namespace: str | None = None,
    ) -> None:
        previous = {k: v for k, v in before.items() if after.get(k) != v and not k.startswith("_")}
        if previous:
            self.emit(
                namespace or (call.namespace if call else PLATFORM),
                type_,
                after,
                call=call,
                previous=previous,
            )
