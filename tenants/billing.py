"""Platform billing: what insurers pay Égide, through Stripe Billing on the platform account.

- Each insurer has a Stripe *connected account* (its doctors pay the insurer through it),
  created right after onboarding or later when Stripe was unreachable (``MISSING`` status,
  retried by a periodic job, on demand, or from the platform admin).
- Each insurer subscribes to a ``PlatformPlan``: a monthly fee plus two metered prices fed by
  billing meter events (insured doctors, captures) sent daily with an idempotent identifier.
- State is re-read from Stripe on every event (``insurer_subscription_sync``), so duplicates
  and out-of-order webhooks end in Stripe's current state.

Every Stripe failure becomes ``StripeUnavailable`` with a French message; nothing is half
written: local rows are saved only after Stripe answered.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from common import stripe
from common.formatting import euros
from common.stripe import StripeUnavailable, stripe_client
from tenants.db import connection
from tenants.models import (
    Insurer,
    InsurerSubscription,
    PlatformPlan,
    StripeAccountStatus,
    UsageReport,
)
from tenants.selectors import insurers_ready
from tenants.usage import METERS, UsageCounterMissing, usage_count

logger = logging.getLogger(__name__)

CURRENCY = "eur"
# Usage reporting catches up on days missed (scheduler down) within this window; Stripe refuses
# meter events older than 35 days.
USAGE_CATCH_UP_DAYS = 7


class BillingError(Exception):
    """A billing request refused for a business reason (French message)."""


def _unavailable(exc: Exception) -> StripeUnavailable:
    logger.warning("Stripe call failed: %s", exc)
    if isinstance(exc, stripe.AuthenticationError):
        return StripeUnavailable(_("Stripe refuse la clé d'API configurée."))
    if isinstance(exc, stripe.InvalidRequestError):
        return StripeUnavailable(
            _("Stripe a refusé la demande : %(message)s") % {"message": exc.user_message or exc}
        )
    return StripeUnavailable(_("Stripe est injoignable pour le moment ; réessayez plus tard."))


# ---------------------------------------------------------------------------------------------
# Connected accounts (one per insurer)
# ---------------------------------------------------------------------------------------------


def insurer_stripe_account_ensure(*, insurer: Insurer) -> str:
    """The insurer's connected account id, created now if missing.

    The idempotency key makes a retry after a lost answer return the same account instead of
    creating a second one.
    """
    if insurer.stripe_account_id:
        return insurer.stripe_account_id
    try:
        account = stripe_client().v1.accounts.create(
            params={
                "type": "standard",
                "country": "FR",
                "default_currency": CURRENCY,
                "email": insurer.contact_email,
                "business_profile": {"name": insurer.name},
                "metadata": {"egide_schema": insurer.schema_name},
            },
            options={"idempotency_key": f"egide-account-{insurer.schema_name}-{insurer.pk}"},
        )
    except stripe.StripeError as exc:
        error = _unavailable(exc)
        Insurer.objects.filter(pk=insurer.pk).update(stripe_account_error=str(error))
        insurer.stripe_account_error = str(error)
        raise error from exc
    insurer.stripe_account_id = account.id
    insurer.stripe_account_status = _account_status(account)
    insurer.stripe_account_error = ""
    insurer.save(
        update_fields=["stripe_account_id", "stripe_account_status", "stripe_account_error"]
    )
    logger.info("Stripe account %s created for insurer %s", account.id, insurer.schema_name)
    return account.id


def insurer_stripe_account_try(*, insurer: Insurer) -> bool:
    """Best effort (onboarding, periodic retry): True when the account exists afterwards."""
    try:
        insurer_stripe_account_ensure(insurer=insurer)
    except StripeUnavailable:
        logger.warning(
            "Stripe account for %s left to create later (%s)",
            insurer.schema_name,
            insurer.stripe_account_error,
        )
        return False
    return True


def stripe_accounts_provision_missing() -> int:
    """Create the connected accounts that onboarding could not; returns how many were made."""
    made = 0
    for insurer in insurers_ready().filter(stripe_account_id=""):
        made += insurer_stripe_account_try(insurer=insurer)
    return made


def insurer_stripe_onboarding_link(*, insurer: Insurer, return_url: str, refresh_url: str) -> str:
    """A Stripe-hosted page where the insurer completes its account (identity, bank)."""
    account_id = insurer_stripe_account_ensure(insurer=insurer)
    try:
        link = stripe_client().v1.account_links.create(
            params={
                "account": account_id,
                "type": "account_onboarding",
                "return_url": return_url,
                "refresh_url": refresh_url,
            }
        )
    except stripe.StripeError as exc:
        raise _unavailable(exc) from exc
    return link.url


def _account_status(account: Any) -> str:
    if getattr(account, "charges_enabled", False):
        return StripeAccountStatus.ACTIVE
    return StripeAccountStatus.ONBOARDING


def insurer_stripe_account_sync(*, insurer: Insurer) -> Insurer:
    try:
        account = stripe_client().v1.accounts.retrieve(insurer.stripe_account_id)
    except stripe.StripeError as exc:
        raise _unavailable(exc) from exc
    insurer.stripe_account_status = _account_status(account)
    insurer.save(update_fields=["stripe_account_status"])
    return insurer


# ---------------------------------------------------------------------------------------------
# Platform catalogue: meters, products and prices (found again by id or lookup key)
# ---------------------------------------------------------------------------------------------


def platform_meters_ensure() -> dict[str, str]:
    """Stripe billing meter id per usage resource, creating the missing meters."""
    client = stripe_client()
    try:
        existing = {
            meter.event_name: meter.id
            for meter in client.v1.billing.meters.list(params={"status": "active", "limit": 100})
        }
        ids: dict[str, str] = {}
        for resource, meter in METERS.items():
            if meter.event_name not in existing:
                created = client.v1.billing.meters.create(
                    params={
                        "display_name": meter.display_name,
                        "event_name": meter.event_name,
                        "default_aggregation": {"formula": meter.aggregation},
                        "customer_mapping": {
                            "type": "by_id",
                            "event_payload_key": "stripe_customer_id",
                        },
                        "value_settings": {"event_payload_key": "value"},
                    }
                )
                existing[meter.event_name] = created.id
            ids[resource] = existing[meter.event_name]
    except stripe.StripeError as exc:
        raise _unavailable(exc) from exc
    return ids


def platform_plan_prices_ensure(*, plan: PlatformPlan) -> PlatformPlan:
    """Make the plan's Stripe product and its three prices exist; cache their ids on the plan."""
    if plan.stripe_price_base_id and plan.stripe_price_doctors_id and plan.stripe_price_captures_id:
        return plan
    client = stripe_client()
    meters = platform_meters_ensure()
    product_id = f"egide_plan_{plan.code}".replace("-", "_")
    try:
        try:
            client.v1.products.retrieve(product_id)
        except stripe.InvalidRequestError:
            client.v1.products.create(
                params={"id": product_id, "name": f"Égide — {plan.name}"},
                options={"idempotency_key": f"egide-product-{product_id}"},
            )
        wanted = {
            "base": {"unit_amount": plan.monthly_price_cents, "recurring": {"interval": "month"}},
            "doctors": {
                "unit_amount": plan.doctor_price_cents,
                "recurring": {
                    "interval": "month",
                    "usage_type": "metered",
                    "meter": meters["doctors"],
                },
            },
            "captures": {
                "unit_amount": plan.capture_price_cents,
                "recurring": {
                    "interval": "month",
                    "usage_type": "metered",
                    "meter": meters["captures"],
                },
            },
        }
        keys = {part: f"{product_id}_{part}" for part in wanted}
        found = {
            price.lookup_key: price.id
            for price in client.v1.prices.list(
                params={"lookup_keys": list(keys.values()), "limit": 10}
            )
        }
        ids: dict[str, str] = {}
        for part, params in wanted.items():
            if keys[part] in found:
                ids[part] = found[keys[part]]
                continue
            price = client.v1.prices.create(
                params={
                    "currency": CURRENCY,
                    "product": product_id,
                    "lookup_key": keys[part],
                    **params,  # type: ignore[typeddict-item]
                },
                options={"idempotency_key": f"egide-price-{keys[part]}"},
            )
            ids[part] = price.id
    except stripe.StripeError as exc:
        raise _unavailable(exc) from exc
    plan.stripe_product_id = product_id
    plan.stripe_price_base_id = ids["base"]
    plan.stripe_price_doctors_id = ids["doctors"]
    plan.stripe_price_captures_id = ids["captures"]
    plan.save(
        update_fields=[
            "stripe_product_id",
            "stripe_price_base_id",
            "stripe_price_doctors_id",
            "stripe_price_captures_id",
        ]
    )
    return plan


# ---------------------------------------------------------------------------------------------
# Subscriptions
# ---------------------------------------------------------------------------------------------


def _platform_url(path: str = "/") -> str:
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{settings.PLATFORM_DOMAIN}{port}{path}"


def insurer_subscription_start(*, insurer: Insurer, plan: PlatformPlan) -> InsurerSubscription:
    """Open a Stripe Checkout for the insurer to subscribe to ``plan``.

    The subscription stays ``INCOMPLETE`` with a payment link until Stripe's events (or a
    sync) report the paid subscription.
    """
    current = InsurerSubscription.objects.filter(insurer=insurer).first()
    if current is not None and current.status in {
        InsurerSubscription.Status.ACTIVE,
        InsurerSubscription.Status.PAST_DUE,
    }:
        raise BillingError(
            _("%(insurer)s a déjà un abonnement Égide en cours.") % {"insurer": insurer.name}
        )
    plan = platform_plan_prices_ensure(plan=plan)
    client = stripe_client()
    try:
        customer_id = current.stripe_customer_id if current else ""
        if not customer_id:
            customer_id = client.v1.customers.create(
                params={
                    "name": insurer.name,
                    "email": insurer.contact_email,
                    "metadata": {"egide_schema": insurer.schema_name},
                },
            ).id
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer_id,
                "line_items": [
                    {"price": plan.stripe_price_base_id, "quantity": 1},
                    {"price": plan.stripe_price_doctors_id},
                    {"price": plan.stripe_price_captures_id},
                ],
                "success_url": _platform_url("/"),
                "cancel_url": _platform_url("/"),
                "locale": "fr",
                "client_reference_id": insurer.schema_name,
                "metadata": {"egide_schema": insurer.schema_name, "egide_plan": plan.code},
                "subscription_data": {
                    "metadata": {"egide_schema": insurer.schema_name, "egide_plan": plan.code}
                },
            }
        )
    except stripe.StripeError as exc:
        raise _unavailable(exc) from exc
    subscription = current or InsurerSubscription(insurer=insurer)
    subscription.plan = plan
    subscription.status = InsurerSubscription.Status.INCOMPLETE
    subscription.stripe_customer_id = customer_id
    subscription.stripe_subscription_id = ""
    subscription.stripe_checkout_session_id = session.id
    subscription.checkout_url = session.url or ""
    subscription.current_period_end = None
    subscription.save()
    return subscription


STATUS_FROM_STRIPE: dict[str, str] = {
    "incomplete": InsurerSubscription.Status.INCOMPLETE,
    "active": InsurerSubscription.Status.ACTIVE,
    "trialing": InsurerSubscription.Status.ACTIVE,
    "past_due": InsurerSubscription.Status.PAST_DUE,
    "unpaid": InsurerSubscription.Status.PAST_DUE,
    "paused": InsurerSubscription.Status.PAST_DUE,
    "canceled": InsurerSubscription.Status.CANCELED,
    "incomplete_expired": InsurerSubscription.Status.CANCELED,
}


def insurer_subscription_sync(*, subscription: InsurerSubscription) -> InsurerSubscription:
    """Copy Stripe's current state of the subscription (re-read, never taken from an event)."""
    client = stripe_client()
    try:
        if not subscription.stripe_subscription_id and subscription.stripe_checkout_session_id:
            session = client.v1.checkout.sessions.retrieve(subscription.stripe_checkout_session_id)
            if session.subscription:
                subscription.stripe_subscription_id = str(session.subscription)
            elif session.status == "expired":
                subscription.checkout_url = ""
        if subscription.stripe_subscription_id:
            remote = client.v1.subscriptions.retrieve(subscription.stripe_subscription_id)
            subscription.status = STATUS_FROM_STRIPE.get(remote.status, subscription.status)
            items = remote["items"]["data"]
            if items:
                subscription.current_period_end = datetime.datetime.fromtimestamp(
                    items[0]["current_period_end"], tz=datetime.UTC
                )
            subscription.checkout_url = ""
    except stripe.StripeError as exc:
        raise _unavailable(exc) from exc
    subscription.save()
    return subscription


def platform_stripe_event_apply(*, event: dict) -> None:
    """Apply a platform-account event (or a connected account's ``account.*`` event).

    Runs in the public schema. It only says *which* local row to refresh; the state itself is
    re-read from Stripe, so duplicates and reordering cannot leave a stale status.
    """
    obj = (event.get("data") or {}).get("object") or {}
    event_type = str(event.get("type", ""))
    if event_type.startswith("account."):
        account_id = event.get("account") or obj.get("id")
        if not account_id:
            return
        for insurer in Insurer.objects.filter(stripe_account_id=account_id):
            insurer_stripe_account_sync(insurer=insurer)
        return
    kind = obj.get("object")
    if kind not in {"checkout.session", "customer", "subscription", "invoice"}:
        return
    customer_id = obj.get("id") if kind == "customer" else obj.get("customer")
    if not customer_id:
        return
    subscription = InsurerSubscription.objects.filter(stripe_customer_id=customer_id).first()
    if subscription is not None:
        insurer_subscription_sync(subscription=subscription)


# ---------------------------------------------------------------------------------------------
# Usage: daily meter events, and limits
# ---------------------------------------------------------------------------------------------


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return start, end


def month_start(day: datetime.date) -> datetime.datetime:
    return _day_bounds(day.replace(day=1))[0]


def _measure(*, resource: str, plan: PlatformPlan, day: datetime.date) -> tuple[int, int]:
    """``(quantity, billable)`` for one day in the current schema.

    Doctors: the count at the end of the day, billable beyond the plan's inclusion (the meter
    keeps the period's last value). Captures: the day's captures, billable for the part of the
    month-to-date total beyond the monthly inclusion, so a calendar month sums to
    ``max(0, month total - included)``.
    """
    since, until = _day_bounds(day)
    quantity = usage_count(resource=resource, since=since, until=until)
    if resource == "doctors":
        return quantity, max(0, quantity - plan.included_doctors)
    first = month_start(day)
    before = usage_count(resource=resource, since=first, until=since) if day.day > 1 else 0
    included = plan.included_captures
    return quantity, max(0, before + quantity - included) - max(0, before - included)


def usage_report_day(*, insurer: Insurer, day: datetime.date) -> list[UsageReport]:
    """Send the insurer's usage of ``day`` to Stripe, once per meter; returns the rows sent.

    Must run in the insurer's schema (the counters read it). A row already sent is skipped; a
    row written but not sent (Stripe failed) is sent again with its first figure.
    """
    if connection.schema_name != insurer.schema_name:
        raise RuntimeError("usage_report_day must run in the insurer's schema")
    subscription = (
        InsurerSubscription.objects.filter(insurer=insurer).select_related("plan").first()
    )
    if subscription is None or not subscription.stripe_customer_id:
        return []
    client = stripe_client()
    _since, until = _day_bounds(day)
    sent: list[UsageReport] = []
    for resource, meter in METERS.items():
        row = UsageReport.objects.filter(insurer=insurer, meter=resource, day=day).first()
        if row is not None and row.sent_at is not None:
            continue
        if row is None:
            try:
                quantity, billable = _measure(resource=resource, plan=subscription.plan, day=day)
            except UsageCounterMissing as exc:
                logger.warning("No counter for %s yet (%s): not reported", resource, exc)
                continue
            row = UsageReport.objects.create(
                insurer=insurer,
                meter=resource,
                day=day,
                quantity=quantity,
                billable=billable,
                # Insurer (through its customer), meter and day: Stripe keeps one per period.
                identifier=(
                    f"egide-{insurer.schema_name}-{resource}-{day:%Y%m%d}-"
                    f"{subscription.stripe_customer_id}"
                ),
            )
        try:
            client.v1.billing.meter_events.create(
                params={
                    "event_name": meter.event_name,
                    "identifier": row.identifier,
                    "timestamp": int(until.timestamp()) - 1,
                    "payload": {
                        "stripe_customer_id": subscription.stripe_customer_id,
                        "value": str(row.billable),
                    },
                }
            )
        except stripe.InvalidRequestError as exc:
            # Stripe already holds this identifier: a previous attempt got through.
            if getattr(exc, "param", None) != "identifier":
                raise _unavailable(exc) from exc
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        row.sent_at = timezone.now()
        row.save(update_fields=["sent_at"])
        sent.append(row)
    return sent


def usage_report_pending(*, insurer: Insurer, today: datetime.date) -> list[UsageReport]:
    """Report every closed day not yet reported, within the catch-up window, oldest first."""
    subscription = InsurerSubscription.objects.filter(insurer=insurer).first()
    if subscription is None or subscription.status == InsurerSubscription.Status.CANCELED:
        return []
    first = max(
        today - datetime.timedelta(days=USAGE_CATCH_UP_DAYS),
        timezone.localdate(subscription.created_at),
    )
    sent: list[UsageReport] = []
    day = first
    while day < today:
        sent += usage_report_day(insurer=insurer, day=day)
        day += datetime.timedelta(days=1)
    return sent


@dataclass(frozen=True)
class UsageMonth:
    doctors: int  # last reported count this month
    doctors_billable: int
    captures: int  # sum of the month's reported days
    captures_billable: int


def insurer_usage_month(*, insurer: Insurer, day: datetime.date) -> UsageMonth:
    """The month of ``day`` as reported to Stripe (what the operator sees in the admin)."""
    rows = UsageReport.objects.filter(
        insurer=insurer, day__gte=day.replace(day=1), day__lte=day
    ).order_by("day")
    doctors = [r for r in rows if r.meter == UsageReport.Meter.DOCTORS]
    captures = [r for r in rows if r.meter == UsageReport.Meter.CAPTURES]
    return UsageMonth(
        doctors=doctors[-1].quantity if doctors else 0,
        doctors_billable=doctors[-1].billable if doctors else 0,
        captures=sum(r.quantity for r in captures),
        captures_billable=sum(r.billable for r in captures),
    )


# ---------------------------------------------------------------------------------------------
# Invoices (read from Stripe for the platform admin)
# ---------------------------------------------------------------------------------------------

INVOICE_STATUS_FR = {
    "draft": "Brouillon",
    "open": "À payer",
    "paid": "Payée",
    "void": "Annulée",
    "uncollectible": "Irrécouvrable",
}


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    created: datetime.datetime
    amount: str
    status: str
    hosted_url: str
    pdf_url: str


def insurer_invoices(*, insurer: Insurer, limit: int = 24) -> list[InvoiceRow]:
    """The insurer's platform invoices, newest first, as Stripe has them now."""
    subscription = InsurerSubscription.objects.filter(insurer=insurer).first()
    if subscription is None or not subscription.stripe_customer_id:
        return []
    try:
        invoices = stripe_client().v1.invoices.list(
            params={"customer": subscription.stripe_customer_id, "limit": limit}
        )
    except stripe.StripeError as exc:
        raise _unavailable(exc) from exc
    return [
        InvoiceRow(
            number=invoice.number or invoice.id,
            created=datetime.datetime.fromtimestamp(invoice.created, tz=datetime.UTC),
            amount=euros(invoice.amount_due),
            status=INVOICE_STATUS_FR.get(invoice.status or "", invoice.status or ""),
            hosted_url=invoice.hosted_invoice_url or "",
            pdf_url=invoice.invoice_pdf or "",
        )
        for invoice in invoices.data
    ]
