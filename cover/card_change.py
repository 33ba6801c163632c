"""« Changer de carte »: the doctor saves a new card for a policy, and the premium due is paid.

Why: after a declined payment, paying once on Stripe's hosted invoice page leaves the
subscription's card as it was, so the next renewal fails again. Stripe Checkout in setup mode
saves a new card; ``policy_card_change_apply`` then makes it the customer's and the
subscription's default payment method and pays every open invoice with it, so the policy is in
force again (through the usual ``invoice.paid`` events) and later renewals use the new card.

Checkout in setup mode rather than the customer portal: it is one hosted page that does one
thing, it keeps the doctor in our own flow (our return page says what happened), and the
portal would not pay the open invoice with the new card by itself.

The change is applied from the ``checkout.session.completed`` webhook and from the return
page, whichever comes first, both under the policy's row lock. The subscription's default
payment method is set last and marks the change as done: a duplicate event, a retried job or a
reload of the page pays nothing twice.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common import stripe
from common.formatting import euros
from common.stripe import stripe_client
from cover.models import Policy
from tenants.db import connection

logger = logging.getLogger(__name__)

# ``metadata[purpose]`` of the Checkout sessions opened here.
PURPOSE = "card_change"
# Subscription statuses that still have a card to charge.
CHANGEABLE = frozenset({"active", "trialing", "past_due", "unpaid", "incomplete"})
BRAND_LABELS: dict[str, str] = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "cartes_bancaires": "CB",
}
UNAVAILABLE = gettext_lazy(
    "Le service de paiement est momentanément indisponible. Réessayez dans quelques minutes."
)
NOT_FOUND = gettext_lazy("Ce changement de carte est introuvable pour ce contrat.")
ENDED = gettext_lazy("Ce contrat a pris fin : il n'y a plus de carte à changer.")


class CardChangeError(Exception):
    """Why the card cannot be changed now, in French, safe to show to the doctor."""


@dataclasses.dataclass(frozen=True)
class CardChangeResult:
    """What the return page tells the doctor, read back from Stripe."""

    saved: bool
    card: str
    paid_cents: int
    due_cents: int

    @property
    def paid(self) -> str:
        return euros(self.paid_cents)

    @property
    def due(self) -> str:
        return euros(self.due_cents)


def _options() -> Any:
    account = getattr(getattr(connection, "tenant", None), "stripe_account_id", "") or ""
    if not account:
        raise CardChangeError(
            _(
                "Le paiement en ligne n'est pas encore ouvert chez votre assureur. "
                "Réessayez plus tard."
            )
        )
    return {"stripe_account": account}


def _subscription_id(*, client: stripe.StripeClient, policy: Policy, options: Any) -> str:
    """The policy's subscription, read from its first Checkout before Stripe's events land."""
    if policy.stripe_subscription_id:
        return policy.stripe_subscription_id
    if not policy.stripe_checkout_session_id:
        return ""
    session = client.v1.checkout.sessions.retrieve(
        policy.stripe_checkout_session_id, options=options
    )
    return str(session.subscription or "")


def policy_card_change_start(*, policy: Policy, success_url: str, cancel_url: str) -> str:
    """Open a Checkout session (setup mode) for a new card on this policy; return its URL."""
    if policy.status == Policy.Status.CANCELLED:
        raise CardChangeError(str(ENDED))
    options = _options()
    client = stripe_client()
    try:
        subscription_id = _subscription_id(client=client, policy=policy, options=options)
        if not subscription_id:
            raise CardChangeError(
                _(
                    "Aucun paiement n'est encore enregistré pour ce contrat : réglez d'abord "
                    "votre cotisation."
                )
            )
        subscription = client.v1.subscriptions.retrieve(subscription_id, options=options)
        if subscription.status not in CHANGEABLE:
            raise CardChangeError(str(ENDED))
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "setup",
                "customer": str(subscription.customer),
                "currency": "eur",
                "client_reference_id": policy.number,
                "metadata": {
                    "policy_number": policy.number,
                    "subscription": subscription_id,
                    "purpose": PURPOSE,
                },
                "setup_intent_data": {
                    "metadata": {"policy_number": policy.number, "subscription": subscription_id}
                },
                "success_url": success_url,
                "cancel_url": cancel_url,
                "locale": "fr",
            },
            options=options,
        )
    except stripe.StripeError as exc:
        logger.warning("Card change could not start for policy %s: %s", policy.number, exc)
        raise CardChangeError(str(UNAVAILABLE)) from exc
    return str(session.url)


def _is_card_change_of(session: Mapping[str, Any], policy: Policy) -> bool:
    metadata = session.get("metadata") or {}
    return (
        session.get("mode") == "setup"
        and metadata.get("purpose") == PURPOSE
        and metadata.get("policy_number") == policy.number
        and bool(metadata.get("subscription"))
    )


def policy_card_change_apply(*, policy: Policy, session: Mapping[str, Any]) -> None:
    """Make the card saved by a completed setup session the default, and pay what is due.

    The caller holds the policy's row lock. Raises ``stripe.StripeError`` when Stripe cannot be
    reached (the webhook job is retried); a declined card is no error: the invoice stays open,
    Stripe sends ``invoice.payment_failed`` and the return page says so.
    """
    if not _is_card_change_of(session, policy) or session.get("status") != "complete":
        logger.warning("Session %s is no card change of policy %s", session.get("id"), policy)
        return
    subscription_id = str(session["metadata"]["subscription"])
    known = policy.stripe_subscription_id
    if not session.get("setup_intent") or (known and known != subscription_id):
        return
    options = _options()
    client = stripe_client()
    intent = client.v1.setup_intents.retrieve(str(session["setup_intent"]), options=options)
    method_id = str(intent.payment_method or "")
    subscription = client.v1.subscriptions.retrieve(subscription_id, options=options)
    customer_id = str(subscription.customer)
    if (
        intent.status != "succeeded"
        or not method_id
        or str(intent.customer) != customer_id
        or policy.stripe_customer_id not in {"", customer_id}
    ):
        logger.warning("Setup intent %s cannot serve policy %s", intent.id, policy.number)
        return
    if str(subscription.default_payment_method or "") == method_id:
        return  # already applied (the other path, or a duplicate event)
    if subscription.status not in CHANGEABLE:
        return
    client.v1.customers.update(
        customer_id,
        params={"invoice_settings": {"default_payment_method": method_id}},
        options=options,
    )
    for invoice in _open_invoices(client=client, subscription_id=subscription_id, options=options):
        try:
            client.v1.invoices.pay(
                invoice.id, params={"payment_method": method_id}, options=options
            )
        except stripe.CardError as exc:
            logger.info("New card of policy %s declined on %s: %s", policy.number, invoice.id, exc)
            break
    client.v1.subscriptions.update(
        subscription_id, params={"default_payment_method": method_id}, options=options
    )
    policy.stripe_subscription_id = policy.stripe_subscription_id or subscription_id
    policy.stripe_customer_id = policy.stripe_customer_id or customer_id


def _open_invoices(
    *, client: stripe.StripeClient, subscription_id: str, options: Any
) -> list[stripe.Invoice]:
    invoices = client.v1.invoices.list(
        params={"subscription": subscription_id, "status": "open", "limit": 100},
        options=options,
    )
    return sorted(invoices.data, key=lambda invoice: invoice.created)


def policy_card_change_complete(*, policy: Policy, session_id: str) -> CardChangeResult:
    """The return page: apply the change if the webhook has not yet, then say what happened."""
    if not session_id.startswith("cs_"):
        raise CardChangeError(str(NOT_FOUND))
    options = _options()
    client = stripe_client()
    try:
        session = client.v1.checkout.sessions.retrieve(
            session_id, params={"expand": ["setup_intent.payment_method"]}, options=options
        )
    except stripe.InvalidRequestError as exc:
        raise CardChangeError(str(NOT_FOUND)) from exc
    except stripe.StripeError as exc:
        raise CardChangeError(str(UNAVAILABLE)) from exc
    raw = session.to_dict()
    if not _is_card_change_of(raw, policy):
        raise CardChangeError(str(NOT_FOUND))
    intent = session.setup_intent
    if session.status != "complete" or not isinstance(intent, stripe.SetupIntent):
        raise CardChangeError(_("La nouvelle carte n'a pas été enregistrée."))
    raw["setup_intent"] = intent.id
    try:
        with transaction.atomic():
            locked = Policy.objects.select_for_update().get(pk=policy.pk)
            policy_card_change_apply(policy=locked, session=raw)
            locked.save(
                update_fields=["stripe_subscription_id", "stripe_customer_id", "updated_at"]
            )
        subscription_id = str(raw["metadata"]["subscription"])
        subscription = client.v1.subscriptions.retrieve(subscription_id, options=options)
        invoices = client.v1.invoices.list(
            params={"subscription": subscription_id, "limit": 100}, options=options
        ).data
    except stripe.StripeError as exc:
        logger.warning("Card change of policy %s not applied yet: %s", policy.number, exc)
        raise CardChangeError(str(UNAVAILABLE)) from exc
    method = intent.payment_method
    if not isinstance(method, stripe.PaymentMethod):
        raise CardChangeError(_("La nouvelle carte n'a pas été enregistrée."))
    card = method.card
    label = f"{BRAND_LABELS.get(card.brand, card.brand.title())} •••• {card.last4}" if card else ""
    # Paid during this change: after the card was saved (Stripe stamps both in seconds).
    paid = [
        invoice.amount_paid
        for invoice in invoices
        if invoice.status == "paid" and (invoice.status_transitions.paid_at or 0) >= intent.created
    ]
    due = [invoice.amount_remaining for invoice in invoices if invoice.status == "open"]
    return CardChangeResult(
        saved=subscription.default_payment_method == method.id,
        card=label,
        paid_cents=sum(paid),
        due_cents=sum(due),
    )
