"""Policies: online sale through Stripe Checkout, lifecycle from Stripe's events, certificate.

Stripe calls go through ``common.stripe`` on the insurer's own (connected) Stripe account; the
local Stripe server stands in for it in development and tests.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Site

from common import stripe
from common.stripe import stripe_client
from cover.card_change import policy_card_change_apply
from cover.documents import site_is_open
from cover.models import Branding, Doctor, Plan, PlanVersion, Policy, PolicyInvoice
from cover.selectors import guarantee_rows, plans_published, policy_current, policy_terms
from cover.services.site import insurer_display_name, plan_version_current
from cover.terms import Terms
from evidence.pades import StampBox, pdf_seal
from evidence.services.provisioning import evidence_seal_material
from tenants.db import connection
from tenants.limits import PlatformLimitExceeded, platform_limit_check_current

logger = logging.getLogger(__name__)


class PolicyError(Exception):
    """A sale or a certificate refused; the message is French and safe to show to the doctor."""


def insurer_stripe_account() -> str:
    """The insurer's connected Stripe account, which receives the doctors' payments."""
    account = getattr(getattr(connection, "tenant", None), "stripe_account_id", "") or ""
    if not account:
        raise PolicyError(
            _(
                "Le paiement en ligne n'est pas encore ouvert chez votre assureur. Réessayez plus tard."
            )
        )
    return account


def _policy_number_new() -> str:
    year = timezone.localdate().year
    while True:
        number = f"ER-{year}-{secrets.token_hex(3).upper()}"
        if not Policy.objects.filter(number=number).exists():
            return number


def _plan_version_price(*, client, version: PlanVersion, account: str) -> str:
    """The Stripe price selling this plan version, created once per connected account."""
    if version.stripe_price_id and version.stripe_account_id == account:
        return version.stripe_price_id
    terms = Terms.from_json(version.terms)
    options: Any = {"stripe_account": account}
    product = client.v1.products.create(
        params={
            "name": f"{terms.plan_name} (v{version.number})",
            "metadata": {"plan_version": str(version.pk)},
        },
        options={**options, "idempotency_key": f"plan-version-{version.pk}-{account}-product"},
    )
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "unit_amount": terms.price_cents,
            "currency": "eur",
            "recurring": {"interval": terms.billing_period},
        },
        options={**options, "idempotency_key": f"plan-version-{version.pk}-{account}-price"},
    )
    version.stripe_account_id, version.stripe_price_id = account, price.id
    version.save(update_fields=["stripe_account_id", "stripe_price_id"])
    return price.id


def policy_checkout_start(*, doctor: Doctor, plan: Plan, success_url: str, cancel_url: str) -> str:
    """Open a pending policy on the plan's current version and return the Checkout page URL.

    The policy becomes active from Stripe's events (``policy_stripe_event_apply``), never from
    the redirect back, which a doctor could forge or never reach.
    """
    if not site_is_open():
        raise PolicyError(_("La souscription en ligne n'est pas encore ouverte."))
    if not plans_published().filter(pk=plan.pk).exists():
        raise PolicyError(_("Cette formule n'est plus proposée."))
    if policy_current(doctor=doctor, on=timezone.localdate()) is not None:
        raise PolicyError(_("Vous êtes déjà couvert par un contrat en cours."))
    unpaid = Policy.objects.filter(doctor=doctor, status=Policy.Status.PAST_DUE).first()
    if unpaid is not None:
        # Settling that policy's open invoice reactivates it; a second one would bill twice.
        raise PolicyError(
            _(
                "La cotisation de votre contrat n° %(number)s n'est pas réglée : réglez-la depuis "
                "la page « Mon contrat » pour retrouver vos garanties."
            )
            % {"number": unpaid.number}
        )
    platform_doctors_check(adding=1)
    insurer_stripe_account()  # refuse before opening a policy that could never be paid
    version = plan_version_current(plan=plan)
    policy = Policy.objects.filter(
        doctor=doctor, plan_version=version, status=Policy.Status.PENDING
    ).first() or Policy.objects.create(
        number=_policy_number_new(),
        doctor=doctor,
        plan_version=version,
        status=Policy.Status.PENDING,
        source=Policy.Source.ONLINE,
    )
    return policy_checkout_session_open(
        policy=policy, success_url=success_url, cancel_url=cancel_url
    )


def policy_checkout_session_open(*, policy: Policy, success_url: str, cancel_url: str) -> str:
    """Open a Stripe Checkout session that pays this very policy; return the page's URL.

    Used for the first sale and when a pending policy must be paid again (its session expired):
    the session always names the same policy number, so its events update this policy.
    """
    account = insurer_stripe_account()
    client = stripe_client()
    options: Any = {"stripe_account": account}
    try:
        price_id = _plan_version_price(client=client, version=policy.plan_version, account=account)
        if not policy.stripe_customer_id:
            doctor = policy.doctor
            customer = client.v1.customers.create(
                params={
                    "email": doctor.user.email,
                    "name": str(doctor),
                    "metadata": {"rpps": doctor.rpps, "policy_number": policy.number},
                },
                options={**options, "idempotency_key": f"policy-{policy.number}-customer"},
            )
            policy.stripe_customer_id = customer.id
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "line_items": [{"price": price_id, "quantity": 1}],
                "customer": policy.stripe_customer_id,
                "client_reference_id": policy.number,
                "metadata": {"policy_number": policy.number},
                "subscription_data": {"metadata": {"policy_number": policy.number}},
                "success_url": success_url,
                "cancel_url": cancel_url,
                "locale": "fr",
            },
            options=options,
        )
    except stripe.StripeError as exc:
        logger.warning("Stripe Checkout failed for policy %s: %s", policy.number, exc)
        raise PolicyError(
            _("Le paiement est momentanément indisponible. Réessayez dans quelques minutes.")
        ) from exc
    policy.stripe_checkout_session_id = session.id
    policy.save(update_fields=["stripe_customer_id", "stripe_checkout_session_id", "updated_at"])
    return str(session.url)


# Stripe subscription status -> policy status. Anything not listed leaves the status alone.
SUBSCRIPTION_STATUS: dict[str, str] = {
    "active": Policy.Status.ACTIVE,
    "trialing": Policy.Status.ACTIVE,
    "past_due": Policy.Status.PAST_DUE,
    "unpaid": Policy.Status.PAST_DUE,
    "paused": Policy.Status.PAST_DUE,
    "canceled": Policy.Status.CANCELLED,
    "incomplete_expired": Policy.Status.CANCELLED,
    "incomplete": Policy.Status.PENDING,
}
# Between events of the same second, which comes later in a subscription's life.
STATUS_RANK: dict[str, int] = {
    Policy.Status.PENDING: 0,
    Policy.Status.ACTIVE: 1,
    Policy.Status.PAST_DUE: 2,
    Policy.Status.CANCELLED: 3,
}
INVOICE_RANK: dict[str, int] = {"draft": 0, "open": 1, "uncollectible": 2, "paid": 3, "void": 3}


def _date_of(timestamp: int | None) -> datetime.date | None:
    if not timestamp:
        return None
    return timezone.localtime(
        datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.UTC)
    ).date()


def _policy_for(obj: dict[str, Any]) -> Policy | None:
    """Find the policy an object of Stripe belongs to, whatever event arrives first."""
    kind = obj.get("object")
    number = ""
    subscription_id = ""
    if kind == "checkout.session":
        number = obj.get("client_reference_id") or (obj.get("metadata") or {}).get(
            "policy_number", ""
        )
        subscription_id = obj.get("subscription") or ""
    elif kind == "subscription":
        number = (obj.get("metadata") or {}).get("policy_number", "")
        subscription_id = obj.get("id") or ""
    elif kind == "invoice":
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        number = (details.get("metadata") or {}).get("policy_number", "")
        subscription_id = details.get("subscription") or obj.get("subscription") or ""
    queryset = Policy.objects.select_for_update()
    if number:
        policy = queryset.filter(number=number).first()
        if policy is not None:
            return policy
    if subscription_id:
        return queryset.filter(stripe_subscription_id=subscription_id).first()
    return None


def policy_stripe_event_apply(*, event: dict) -> None:
    """Apply one Stripe event of the insurer's account to the policy it concerns.

    Idempotent and order-proof: the status only follows an event newer than the last one
    applied (``created``), or of the same second and further along in the subscription's life;
    a cancelled subscription never comes back. Invoices are kept for the doctor's page.
    """
    type_ = str(event.get("type", ""))
    obj = (event.get("data") or {}).get("object") or {}
    at = int(event.get("created") or 0)
    with transaction.atomic():
        policy = _policy_for(obj)
        if policy is None:
            logger.info("Stripe event %s (%s) concerns no policy", event.get("id"), type_)
            return
        kind = obj.get("object")
        status: str | None = None
        start: int | None = None
        end: int | None = None
        if kind == "checkout.session":
            policy.stripe_customer_id = obj.get("customer") or policy.stripe_customer_id
            policy.stripe_subscription_id = obj.get("subscription") or policy.stripe_subscription_id
            if type_ == "checkout.session.completed" and obj.get("mode") == "setup":
                policy_card_change_apply(policy=policy, session=obj)
            if type_ == "checkout.session.completed" and obj.get("payment_status") == "paid":
                status, start = Policy.Status.ACTIVE, at
        elif kind == "subscription":
            policy.stripe_subscription_id = policy.stripe_subscription_id or obj.get("id", "")
            policy.stripe_customer_id = policy.stripe_customer_id or obj.get("customer") or ""
            status = SUBSCRIPTION_STATUS.get(str(obj.get("status")))
            if type_ == "customer.subscription.deleted":
                status = Policy.Status.CANCELLED
            start = obj.get("start_date") or obj.get("created")
            end = obj.get("ended_at") or at
        elif kind == "invoice":
            _policy_invoice_record(policy=policy, invoice=obj, at=at)
            if type_ in {"invoice.paid", "invoice.payment_succeeded"}:
                status, start = Policy.Status.ACTIVE, obj.get("created")
            elif type_ == "invoice.payment_failed":
                status = Policy.Status.PAST_DUE
        newest = policy.stripe_status_at is None or at >= policy.stripe_status_at
        if status is not None:
            _policy_status_apply(policy=policy, status=status, at=at, start=start, end=end)
        if kind == "subscription" and newest and policy.status != Policy.Status.CANCELLED:
            _policy_dates_apply(policy=policy, subscription=obj, at=at)
        policy.save()


def _policy_dates_apply(*, policy: Policy, subscription: dict[str, Any], at: int) -> None:
    """Renewal and end dates as the subscription states them (its newest event wins).

    A subscription set to cancel (``cancel_at``, e.g. ``cancel_at_period_end``) ends the cover
    on that day and will not renew; otherwise it renews at the end of the current period,
    carried by the items since Stripe's 2025 API versions (on the subscription before).
    """
    items = (subscription.get("items") or {}).get("data") or []
    period_end = subscription.get("current_period_end") or (
        items[0].get("current_period_end") if items else None
    )
    cancel_at = subscription.get("cancel_at")
    if cancel_at:
        policy.end_date = _date_of(int(cancel_at))
        policy.renewal_date = None
        policy.cancel_requested_at = policy.cancel_requested_at or (
            datetime.datetime.fromtimestamp(
                int(subscription.get("canceled_at") or cancel_at), tz=datetime.UTC
            )
        )
    elif policy.cancel_requested_at is None:
        policy.renewal_date = _date_of(period_end)
    elif at > policy.cancel_requested_at.timestamp():
        # The cancellation was withdrawn at Stripe after it was asked for: renewing again.
        # (An older event, delivered late, does not undo a cancellation.)
        policy.renewal_date = _date_of(period_end)
        policy.end_date, policy.cancel_requested_at = None, None


def _policy_status_apply(
    *, policy: Policy, status: str, at: int, start: int | None, end: int | None
) -> None:
    last = policy.stripe_status_at
    if policy.status == Policy.Status.CANCELLED and last is not None:
        return
    newer = last is None or at > last
    if not (newer or (at == last and _later_in_same_second(policy=policy, status=status))):
        return
    policy.status = status
    policy.stripe_status_at = at
    if status == Policy.Status.ACTIVE:
        policy.start_date = policy.start_date or _date_of(start or at)
        if policy.cancel_requested_at is None:
            policy.end_date = None
    elif status == Policy.Status.CANCELLED:
        policy.end_date = _date_of(end or at)
        policy.renewal_date = None


def _later_in_same_second(*, policy: Policy, status: str) -> bool:
    """Whether ``status`` follows the policy's status when both come from the same second.

    Stripe's ``created`` counts seconds. Past due and active follow each other both ways (a
    declined first payment paid again at once on the hosted invoice page), so between those two
    the invoices recorded decide: one still open means unpaid, none means paid.
    """
    if {status, policy.status} == {Policy.Status.ACTIVE, Policy.Status.PAST_DUE}:
        invoices = PolicyInvoice.objects.filter(policy=policy)
        if invoices.exists():
            unpaid = invoices.filter(status="open").exists()
            return status == (Policy.Status.PAST_DUE if unpaid else Policy.Status.ACTIVE)
    return STATUS_RANK[status] > STATUS_RANK[policy.status]


def _policy_invoice_record(*, policy: Policy, invoice: dict[str, Any], at: int) -> None:
    status = str(invoice.get("status") or "draft")
    record = PolicyInvoice.objects.select_for_update().filter(
        stripe_invoice_id=invoice["id"]
    ).first() or PolicyInvoice(
        policy=policy, stripe_invoice_id=invoice["id"], issued_at=timezone.now()
    )
    if record.pk is not None and (
        at < record.stripe_event_at
        or (
            at == record.stripe_event_at
            and INVOICE_RANK.get(status, 0) < INVOICE_RANK.get(record.status, 0)
        )
    ):
        return
    record.status = status
    record.number = invoice.get("number") or record.number
    record.amount_due_cents = int(invoice.get("amount_due") or 0)
    record.amount_paid_cents = int(invoice.get("amount_paid") or 0)
    record.currency = str(invoice.get("currency") or "eur")
    record.hosted_invoice_url = invoice.get("hosted_invoice_url") or record.hosted_invoice_url
    record.invoice_pdf = invoice.get("invoice_pdf") or record.invoice_pdf
    created = invoice.get("created")
    if created:
        record.issued_at = datetime.datetime.fromtimestamp(int(created), tz=datetime.UTC)
    record.stripe_event_at = at
    record.save()


# ---------------------------------------------------------------------------------------------
# Certificate of cover
# ---------------------------------------------------------------------------------------------


def certificate_render(*, policy: Policy, on: datetime.date) -> bytes:
    """The certificate of cover (attestation d'assurance) as a PDF, for a policy in force."""
    import weasyprint  # lazy: heavy (Pango, fonts), only where a PDF is rendered

    if policy_current(doctor=policy.doctor, on=on) != policy:
        raise PolicyError(
            _("Ce contrat n'est pas en vigueur : aucune attestation ne peut être délivrée.")
        )
    site = Site.objects.filter(is_default_site=True).first()
    branding = Branding.for_site(site) if site else None
    logo_uri = ""
    if branding is not None and branding.logo_id:
        try:
            logo_uri = "file://" + branding.logo.file.path
        except (NotImplementedError, ValueError, OSError):
            logo_uri = ""
    html = render_to_string(
        "cover/certificate.html",
        {
            "policy": policy,
            "doctor": policy.doctor,
            "terms": policy_terms(policy=policy),
            "rows": guarantee_rows(terms=policy_terms(policy=policy)),
            "plan_version": policy.plan_version,
            "branding": branding,
            "insurer_name": insurer_display_name(),
            "logo_uri": logo_uri,
            "on": on,
        },
    )
    document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).render()
    name = insurer_display_name()
    seal = evidence_seal_material(organisation=name)
    return pdf_seal(
        pdf=document.write_pdf(),
        key_pem=seal.key_pem,
        cert_pem=seal.cert_pem,
        ca_cert_pem=seal.ca_pem,
        reason=_("Attestation d'assurance n° %(number)s") % {"number": policy.number},
        location=name,
        stamp_text=_("Cachet électronique\n%(signer)s\nLe %(ts)s"),
        stamp=_seal_box(document=document),
    )


def _seal_box(*, document) -> StampBox | None:
    """Where the template's ``#seal-box`` landed on the page, in PDF points (origin bottom left).

    Read from WeasyPrint's layout so that the visible seal never covers the text; ``None``
    (an invisible seal, just as valid) if the template has no such box.
    """
    css_px_to_pt = 0.75
    for index, page in enumerate(document.pages):
        stack = [page._page_box]
        while stack:
            box = stack.pop()
            element = getattr(box, "element", None)
            if element is not None and element.get("id") == "seal-box":
                height = page.height
                x1 = box.position_x * css_px_to_pt
                y2 = (height - box.position_y) * css_px_to_pt
                x2 = x1 + box.margin_width() * css_px_to_pt
                y1 = y2 - box.margin_height() * css_px_to_pt
                return StampBox(page=index, box=(int(x1), int(y1), int(x2), int(y2)))
            stack.extend(getattr(box, "children", None) or [])
    return None


def platform_doctors_check(*, adding: int) -> None:
    """Égide's plan for this insurer may cap insured doctors: refuse before creating any."""
    try:
        platform_limit_check_current(resource="doctors", adding=adding)
    except PlatformLimitExceeded as exc:
        raise PolicyError(str(exc)) from exc
