"""What became of a doctor's payment at Stripe, and where to pay again when it failed.

Why a module of its own: the Checkout return page and the contract page must tell a paid
policy from one whose payment was declined or is still being confirmed, and send the doctor to
the one Stripe page that settles *this* policy. Paying there sends the usual events
(``cover.services.policies.policy_stripe_event_apply``), which make the same policy active: a retry
never opens a second policy or subscription.

After a declined first payment on a subscription Checkout, the subscription is ``past_due``
(or ``incomplete``) with an open invoice: its hosted invoice page takes another card. Only
when there is no subscription to pay (the session was left or expired) does a new Checkout
session open, for the same pending policy.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common import stripe
from common.stripe import stripe_client
from cover.models import Policy
from cover.services.policies import (
    PolicyError,
    insurer_stripe_account,
    policy_checkout_session_open,
)

logger = logging.getLogger(__name__)

# Subscription statuses at Stripe whose open invoice is the way to pay.
SUBSCRIPTION_UNPAID = frozenset({"past_due", "unpaid", "incomplete"})
ENDED = gettext_lazy("Ce contrat a pris fin. Choisissez une formule pour souscrire à nouveau.")


class PaymentOutcome(enum.StrEnum):
    """What the Checkout return page tells the doctor."""

    PAID = "paid"
    CONFIRMING = "confirming"
    DECLINED = "declined"
    UNFINISHED = "unfinished"
    CANCELLED = "cancelled"


POLICY_OUTCOME: dict[str, PaymentOutcome] = {
    Policy.Status.ACTIVE: PaymentOutcome.PAID,
    Policy.Status.PAST_DUE: PaymentOutcome.DECLINED,
    Policy.Status.CANCELLED: PaymentOutcome.CANCELLED,
}


def _options() -> Any:
    return {"stripe_account": insurer_stripe_account()}


def policy_payment_outcome(*, policy: Policy) -> PaymentOutcome:
    """The payment outcome of a policy, from its status or, before Stripe's events, from Stripe.

    A pending policy is one whose events have not arrived yet: its Checkout session says
    whether the payment went through (still confirming) or was declined. When Stripe cannot be
    asked, the page keeps saying « en cours de confirmation » rather than guess.
    """
    if policy.status in POLICY_OUTCOME:
        return POLICY_OUTCOME[policy.status]
    if not policy.stripe_checkout_session_id:
        return PaymentOutcome.UNFINISHED
    try:
        options = _options()
        client = stripe_client()
        session = client.v1.checkout.sessions.retrieve(
            policy.stripe_checkout_session_id, options=options
        )
        if session.status != "complete":
            return PaymentOutcome.UNFINISHED
        if session.payment_status == "paid" or not session.subscription:
            return PaymentOutcome.CONFIRMING
        subscription = client.v1.subscriptions.retrieve(str(session.subscription), options=options)
    except (stripe.StripeError, PolicyError) as exc:
        logger.warning("Payment of policy %s could not be read: %s", policy.number, exc)
        return PaymentOutcome.CONFIRMING
    if subscription.status in SUBSCRIPTION_UNPAID:
        return PaymentOutcome.DECLINED
    return PaymentOutcome.CONFIRMING


def policy_payment_retry(*, policy: Policy, success_url: str, cancel_url: str) -> str:
    """The Stripe page where the doctor pays this policy again, with another card if need be.

    An unpaid subscription: the hosted page of its open invoice. No subscription yet: the
    Checkout session if it is still open, otherwise a new one for the same pending policy.
    """
    if policy.status == Policy.Status.ACTIVE:
        raise PolicyError(_("Votre cotisation est à jour : il n'y a rien à régler."))
    if policy.status == Policy.Status.CANCELLED:
        raise PolicyError(str(ENDED))
    options = _options()
    client = stripe_client()
    subscription_id, subscription_status = policy.stripe_subscription_id, ""
    try:
        if not subscription_id and policy.stripe_checkout_session_id:
            session = client.v1.checkout.sessions.retrieve(
                policy.stripe_checkout_session_id, options=options
            )
            if session.status == "open" and session.url:
                return str(session.url)
            subscription_id = str(session.subscription or "")
        if subscription_id:
            subscription = client.v1.subscriptions.retrieve(subscription_id, options=options)
            subscription_status = str(subscription.status)
            if subscription_status in SUBSCRIPTION_UNPAID:
                url = _open_invoice_url(
                    client=client, subscription_id=subscription_id, options=options
                )
                if url:
                    return url
    except stripe.StripeError as exc:
        logger.warning("Stripe retry failed for policy %s: %s", policy.number, exc)
        raise PolicyError(
            _("Le paiement est momentanément indisponible. Réessayez dans quelques minutes.")
        ) from exc
    if not subscription_id and policy.status == Policy.Status.PENDING:
        return policy_checkout_session_open(
            policy=policy, success_url=success_url, cancel_url=cancel_url
        )
    if subscription_status in {"canceled", "incomplete_expired"}:
        raise PolicyError(str(ENDED))
    raise PolicyError(
        _(
            "Aucune cotisation n'est à régler pour le moment ; la confirmation de votre "
            "paiement arrive dans quelques instants."
        )
    )


def _open_invoice_url(*, client: stripe.StripeClient, subscription_id: str, options: Any) -> str:
    """The hosted page of the subscription's oldest open invoice."""
    invoices = client.v1.invoices.list(
        params={"subscription": subscription_id, "status": "open", "limit": 100},
        options=options,
    )
    for invoice in sorted(invoices.data, key=lambda invoice: invoice.created):
        if invoice.hosted_invoice_url:
            return str(invoice.hosted_invoice_url)
    return ""
