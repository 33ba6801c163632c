"""Online cancellation of a policy by the doctor (« résiliation en trois clics »).

Why a module of its own: the French insurance code (art. L113-14, décret n° 2023-182) requires
that a contract sold online can be cancelled online, in a few clicks, with a confirmation that
states when the cancellation takes effect. The rule fixing that date is the insurer's
(``CancellationSettings``, « à vérifier »: DOMAIN.md gives none); by default the cover ends with
the period already paid.

The subscription at Stripe is set to cancel (``cancel_at_period_end`` or ``cancel_at``); Stripe
then sends ``customer.subscription.deleted`` on the day, which marks the policy cancelled
(``cover.services.policies.policy_stripe_event_apply``). Asking twice changes nothing and sends one
e-mail: the row lock and ``cancel_requested_at`` make the request idempotent.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from wagtail.models import Site

from common import stripe
from common.stripe import stripe_client
from cover.models import CancellationSettings, Policy
from cover.services.policies import PolicyError, insurer_stripe_account
from mailing.kinds import MailKind
from mailing.services import mail_send

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CancellationTerms:
    """What the confirmation form shows: the day the cover ends, and why that day."""

    effective_date: datetime.date
    period_end: datetime.date
    rule: str
    # Stripe's ``cancel_at`` for a notice shorter than the period; None: at the period's end.
    cancel_at: int | None


def cancellation_settings() -> CancellationSettings:
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return CancellationSettings(effective_rule=CancellationSettings.Rule.PERIOD_END)
    return CancellationSettings.for_site(site)


def _local_date(timestamp: int) -> datetime.date:
    return timezone.localtime(datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)).date()


def _day_end(day: datetime.date) -> int:
    """The last second of ``day`` in the site's time zone, as a Unix timestamp."""
    naive = datetime.datetime.combine(day, datetime.time(23, 59, 59))
    return int(timezone.make_aware(naive).timestamp())


def policy_cancellable_check(*, policy: Policy) -> None:
    """Refuse, with a French reason, a policy that cannot be cancelled online."""
    if policy.cancel_requested_at is not None:
        return
    if policy.status != Policy.Status.ACTIVE:
        raise PolicyError(_("Seul un contrat en vigueur peut être résilié en ligne."))
    if not policy.stripe_subscription_id:
        raise PolicyError(
            _(
                "Ce contrat n'a pas été souscrit en ligne : pour le résilier, adressez votre "
                "demande à votre assureur."
            )
        )


def _subscription_period_end(*, policy: Policy, options: Any) -> int:
    subscription = (
        stripe_client()
        .v1.subscriptions.retrieve(policy.stripe_subscription_id, options=options)
        .to_dict()
    )
    items = (subscription.get("items") or {}).get("data") or []
    period_end = subscription.get("current_period_end") or (
        items[0].get("current_period_end") if items else None
    )
    if not period_end:
        raise PolicyError(_("La période de cotisation en cours n'a pas pu être lue."))
    return int(period_end)


def policy_cancellation_terms(*, policy: Policy, on: datetime.date) -> CancellationTerms:
    """The effective date a cancellation asked for on ``on`` would have, read from Stripe."""
    policy_cancellable_check(policy=policy)
    options: Any = {"stripe_account": insurer_stripe_account()}
    try:
        period_end_at = _subscription_period_end(policy=policy, options=options)
    except stripe.StripeError as exc:
        logger.warning("Stripe unreadable for the cancellation of %s: %s", policy.number, exc)
        raise PolicyError(
            _("La résiliation est momentanément indisponible. Réessayez dans quelques minutes.")
        ) from exc
    period_end = _local_date(period_end_at)
    config = cancellation_settings()
    if config.effective_rule == CancellationSettings.Rule.NOTICE and config.notice_days:
        noticed = on + datetime.timedelta(days=config.notice_days)
        if noticed < period_end:
            return CancellationTerms(
                effective_date=noticed,
                period_end=period_end,
                rule=config.effective_rule,
                cancel_at=_day_end(noticed),
            )
    return CancellationTerms(
        effective_date=period_end,
        period_end=period_end,
        rule=CancellationSettings.Rule.PERIOD_END,
        cancel_at=None,
    )


def policy_cancel(*, policy: Policy) -> Policy:
    """Set the policy's subscription to cancel on the effective date; confirm by e-mail.

    Idempotent: a policy whose cancellation was already asked for is returned unchanged, no
    second call to Stripe and no second e-mail.
    """
    with transaction.atomic():
        locked = Policy.objects.select_for_update().select_related("doctor__user").get(pk=policy.pk)
        if locked.cancel_requested_at is not None:
            return locked
        terms = policy_cancellation_terms(policy=locked, on=timezone.localdate())
        params: Any = (
            {"cancel_at_period_end": True}
            if terms.cancel_at is None
            else {"cancel_at": terms.cancel_at, "proration_behavior": "none"}
        )
        params["cancellation_details"] = {"comment": "Résiliation en ligne par l'assuré"}
        try:
            subscription = stripe_client().v1.subscriptions.update(
                locked.stripe_subscription_id,
                params=params,
                options={
                    "stripe_account": insurer_stripe_account(),
                    "idempotency_key": f"policy-{locked.number}-cancel",
                },
            )
        except stripe.StripeError as exc:
            logger.warning("Stripe refused the cancellation of %s: %s", locked.number, exc)
            raise PolicyError(
                _("La résiliation est momentanément indisponible. Réessayez dans quelques minutes.")
            ) from exc
        cancel_at = subscription.to_dict().get("cancel_at")
        locked.end_date = _local_date(int(cancel_at)) if cancel_at else terms.effective_date
        locked.renewal_date = None
        locked.cancel_requested_at = timezone.now()
        locked.save(update_fields=["end_date", "renewal_date", "cancel_requested_at", "updated_at"])
        number, email = locked.number, locked.doctor.user.email
        asked, end = locked.cancel_requested_at, locked.end_date
        transaction.on_commit(
            lambda: policy_cancellation_email_send(number=number, email=email, asked=asked, end=end)
        )
    return locked


def policy_cancellation_email_send(
    *, number: str, email: str, asked: datetime.datetime, end: datetime.date
) -> None:
    """The confirmation the law requires: what was cancelled, and the day the cover ends.

    Sent at once in the insurer's name and wording (``mailing``, kind « confirmation de
    résiliation »), never held for a digest.
    """
    mail_send(
        to=email,
        kind=MailKind.CANCELLATION_CONFIRMATION,
        context={
            "numero_contrat": f"n° {number}",
            "date_demande": dateformat.format(timezone.localtime(asked), "d/m/Y"),
            "date_effet": dateformat.format(end, "d/m/Y"),
        },
        link_path=reverse("portal:policy"),
    )
