"""Stripe webhooks: one endpoint on the platform host, routed to the right schema.

1. The view verifies the signature on the raw body (``common.stripe.stripe_webhook_verify``); a
   forged or malformed request gets 400, is logged, and nothing is stored.
2. ``stripe_event_receive`` stores the event once (its Stripe id is the primary key) and decides
   where it runs: an insurer's connected-account event in that insurer's schema, a platform
   event (or a connected account's ``account.*`` event, which is about the platform's view of
   the insurer) in the public schema. The message is sent after commit.
3. ``stripe_event_process_task`` (the Dramatiq job) locks the row, refuses to run anywhere but the
   schema chosen in 2, applies the event with the configured handler and marks it processed in
   the same transaction: a duplicate delivery or a retried job is a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import get_public_schema_name

from common import stripe
from common.stripe import stripe_webhook_verify
from common.tasks import SCHEMA_OPTION
from tenants.db import connection
from tenants.models import Insurer, StripeEvent

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    payload = request.body
    signature = request.headers.get("Stripe-Signature")
    try:
        data = stripe_webhook_verify(
            payload=payload, signature=signature, secret=settings.STRIPE_WEBHOOK_SECRET
        )
        if not str(data.get("id", "")).startswith("evt_"):
            raise ValueError("not a Stripe event")
        if not isinstance(data.get("type"), str):
            raise ValueError("event without a type")
    except (ValueError, stripe.SignatureVerificationError) as exc:
        logger.warning("Stripe webhook refused (from %s): %s", request.META.get("REMOTE_ADDR"), exc)
        return HttpResponseBadRequest(
            _("Requête refusée : signature ou contenu invalide."), content_type="text/plain"
        )
    stripe_event_receive(data=data)
    return HttpResponse("ok", content_type="text/plain")


def _route(data: dict) -> tuple[str, str]:
    """``(schema, error)`` for a verified event: where it runs, or why it runs nowhere."""
    account = data.get("account") or ""
    if not account or str(data["type"]).startswith("account."):
        return get_public_schema_name(), ""
    insurer = Insurer.objects.filter(stripe_account_id=account).first()
    if insurer is None:
        return "", _("Compte Stripe inconnu : %(account)s") % {"account": account}
    if not insurer.is_ready:
        return "", _("Assureur %(name)s indisponible (%(status)s)") % {
            "name": insurer.name,
            "status": insurer.get_status_display(),
        }
    return insurer.schema_name, ""


def stripe_event_receive(*, data: dict) -> StripeEvent:
    """Store a verified event once and queue its processing in the schema it belongs to.

    A duplicate of an event already processed does nothing; a duplicate of one not processed
    yet queues it again (the job is idempotent), which recovers a lost or failed job.
    """
    from tenants.tasks import stripe_event_process_task  # lazy: the task <-> service pair

    connection.set_schema_to_public()
    with transaction.atomic():
        schema, error = _route(data)
        event, created = StripeEvent.objects.get_or_create(
            id=data["id"],
            defaults={
                "type": data["type"],
                "account": data.get("account") or "",
                "schema": schema,
                "payload": data,
                "error": error,
            },
        )
        if not created:
            logger.info("Stripe event %s received again", event.id)
        if error:
            logger.error("Stripe event %s not routed: %s", event.id, error)
        if event.schema and event.processed_at is None:
            event_id = event.id
            options: dict[str, Any] = {SCHEMA_OPTION: event.schema}
            transaction.on_commit(
                lambda: stripe_event_process_task.send_with_options(
                    kwargs={"event_id": event_id}, **options
                )
            )
    return event


def _handler(schema: str) -> Callable[..., None]:
    kind = "platform" if schema == get_public_schema_name() else "tenant"
    return import_string(settings.STRIPE_EVENT_HANDLERS[kind])


def stripe_event_process(*, event_id: str) -> bool:
    """Apply a stored event in the current schema, once; True when applied by this call."""
    schema = connection.schema_name
    try:
        with transaction.atomic():
            event = StripeEvent.objects.select_for_update().filter(pk=event_id).first()
            if event is None:
                logger.error("Stripe event %s not found", event_id)
                return False
            if event.processed_at is not None:
                return False
            if event.schema != schema:
                # Never apply an insurer's event in another schema, whatever the message says.
                logger.error(
                    "Stripe event %s is for schema %r, refused in %r",
                    event_id,
                    event.schema,
                    schema,
                )
                return False
            _handler(schema)(event=event.payload)
            event.processed_at = timezone.now()
            event.attempts = F("attempts") + 1
            event.error = ""
            event.save(update_fields=["processed_at", "attempts", "error"])
    except Exception as exc:
        StripeEvent.objects.filter(pk=event_id, processed_at__isnull=True).update(
            attempts=F("attempts") + 1, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    return True
