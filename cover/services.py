"""Writes for the insurer's site and offer, doctors becoming insured, and their policies.

Stripe calls go through the official SDK on the insurer's own (connected) Stripe account; the
local Stripe server stands in for it in development and tests (``saas.embedded.stripe_server``).
"""

from __future__ import annotations

import datetime
import io
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core.files.images import ImageFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from wagtail.images import get_image_model
from wagtail.models import Page, Site

from cover.card_change import policy_card_change_apply
from cover.models import (
    Branding,
    Doctor,
    FAQPage,
    GuideIndexPage,
    GuidePage,
    HomePage,
    LegalContent,
    LegalPage,
    OfferPage,
    Plan,
    PlanVersion,
    Policy,
    PolicyInvoice,
)
from cover.terms import TERM_FIELDS, Terms
from evidence.pades import StampBox, pdf_seal
from evidence.services import evidence_seal_material
from mailing.kinds import MailKind
from mailing.services import mail_send
from tenants.db import connection
from tenants.roles import INSURED_DOCTOR

logger = logging.getLogger(__name__)


class PolicyError(Exception):
    """A sale or a certificate refused; the message is French and safe to show to the doctor."""


class SignupError(Exception):
    """A sign-up refused; the message is French and safe to show."""


@transaction.atomic
def site_provision(
    *,
    site_name: str,
    hostname: str,
    port: int,
    display_name: str,
    primary_colour: str,
    accent_colour: str,
    logo_png: bytes | None = None,
) -> Site:
    """Turn Wagtail's per-schema defaults into the insurer's own site.

    Wagtail's first migration leaves a ``localhost`` site whose root is a "Welcome" page; the
    cloned schema inherits both. We give the site the insurer's domain and a real home page.
    """
    root = Page.get_first_root_node()
    home = HomePage(
        title=site_name,
        slug="accueil",
        headline=_("Votre e-réputation, protégée par %(name)s") % {"name": display_name},
        intro=_(
            "<p>Avis injurieux, propos diffamatoires, atteinte à la vie privée : "
            "%(name)s surveille ce qui se dit de vous en ligne, fixe les preuves et "
            "vous accompagne jusqu'au retrait des contenus illicites.</p>"
        )
        % {"name": display_name},
    )
    root.add_child(instance=home)
    home.save_revision().publish()

    site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
    stock_root = site.root_page if site.pk else None
    site.hostname = hostname
    site.port = port
    site.site_name = site_name
    site.root_page = home
    site.save()
    if stock_root is not None and stock_root.pk != home.pk:
        stock_root.specific.delete()

    branding = Branding.for_site(site)
    branding.display_name = display_name
    branding.primary_colour = primary_colour
    branding.accent_colour = accent_colour
    if logo_png:
        image = get_image_model()(
            title=_("Logo %(name)s") % {"name": display_name},
            file=ImageFile(io.BytesIO(logo_png), name="logo.png"),
        )
        image.save()
        branding.logo = image
    branding.full_clean()
    branding.save()
    Site.clear_site_root_paths_cache()
    site_pages_ensure(home=home, display_name=display_name)
    plan_workflow_ensure()
    return site


# Prevention guides seeded at onboarding, from the 2019 talk's advice as corrected by
# DOMAIN.md §1 and §5 (commissaire de justice, GDPR articles, no solicited reviews).
SEED_GUIDES: tuple[tuple[str, str, str, str], ...] = (
    (
        "veille",
        "Surveiller sa réputation numérique",
        "Une veille mensuelle par mots-clés et des comptes sur les sites d'avis.",
        "cover/seed_guide_veille.html",
    ),
    (
        "repondre-aux-avis",
        "Répondre à un avis sans rompre le secret médical",
        "Répondre ou non, et comment le faire sans rien révéler.",
        "cover/seed_guide_avis.html",
    ),
    (
        "avis-illicites-et-fiches",
        "Avis illicites et fiches professionnelles : les recours",
        "Injure, diffamation, dénigrement, fiche non désirée : de l'amiable au judiciaire.",
        "cover/seed_guide_recours.html",
    ),
)

SEED_FAQ: tuple[tuple[str, str], ...] = (
    (
        "Qu'est-ce que la garantie e-réputation ?",
        "<p>Elle surveille ce qui est publié sur vous en ligne, fixe les preuves des contenus "
        "litigieux et prend en charge les démarches (signalements, mises en demeure, "
        "déréférencement) et, selon votre formule, les frais d'avocat et de commissaire de "
        "justice, dans la limite des plafonds de votre contrat.</p>",
    ),
    (
        "Un avis publié avant ma souscription est-il couvert ?",
        "<p>En général non : la plupart des garanties ne couvrent que les publications "
        "postérieures à la souscription. Les conditions de votre formule (antériorité, délai "
        "de carence) figurent sur la page des formules et sur votre attestation.</p>",
    ),
    (
        "Puis-je choisir mon avocat ?",
        "<p>Oui : le libre choix de l'avocat est prévu par le Code des assurances "
        "(article L127-2-3).</p>",
    ),
    (
        "Le retrait d'un contenu est-il garanti ?",
        "<p>Non. Le prestataire est tenu à une obligation de moyens : il met tout en œuvre "
        "pour obtenir la suppression ou le déréférencement, sans pouvoir le garantir.</p>",
    ),
    (
        "Comment déclarer un sinistre ?",
        "<p>Depuis votre espace, dans le délai de déclaration indiqué par votre formule. "
        "Conservez le lien de la publication : nous en fixons la preuve.</p>",
    ),
)


def site_pages_ensure(*, home: HomePage, display_name: str) -> None:
    """Give the insurer's site its offer, guides, FAQ and legal notices, where missing.

    Idempotent (by slug under the home page) so the demo seed can run it on older sites; the
    insurer edits and republishes these pages through the usual moderation afterwards.
    """
    existing = set(home.get_children().values_list("slug", flat=True))
    context = {"name": display_name}

    def add(page: Page) -> Page:
        page.show_in_menus = True
        home.add_child(instance=page)
        page.save_revision().publish()
        return page

    if "formules" not in existing:
        add(
            OfferPage(
                title=_("Nos formules"),
                slug="formules",
                intro=_(
                    "<p>Comparez les garanties e-réputation de %(name)s et souscrivez en "
                    "ligne en quelques minutes.</p>"
                )
                % context,
            )
        )
    if "guides" not in existing:
        index = add(
            GuideIndexPage(
                title=_("Guides de prévention"),
                slug="guides",
                intro=_(
                    "<p>Les bons réflexes pour préserver votre réputation numérique, "
                    "d'après les recommandations de l'Ordre des médecins.</p>"
                ),
            )
        )
        for slug, title, summary, template in SEED_GUIDES:
            guide = GuidePage(
                title=title, slug=slug, summary=summary, body=render_to_string(template, context)
            )
            index.add_child(instance=guide)
            guide.save_revision().publish()
    if "faq" not in existing:
        add(
            FAQPage(
                title=_("Questions fréquentes"),
                slug="faq",
                items=[
                    ("item", {"question": question, "answer": answer})
                    for question, answer in SEED_FAQ
                ],
            )
        )
    # Legal notices and privacy policy are generated from the « Informations légales »
    # settings (cover.documents); pages seeded before that with « à compléter » are upgraded.
    for slug, title, kind in (
        ("mentions-legales", _("Mentions légales"), LegalContent.LEGAL_NOTICE),
        ("confidentialite", _("Politique de confidentialité"), LegalContent.PRIVACY),
    ):
        if slug not in existing:
            legal = LegalPage(title=title, slug=slug, generated_content=kind, body="")
            home.add_child(instance=legal)
            legal.save_revision().publish()
            continue
        page = LegalPage.objects.child_of(home).filter(slug=slug).first()
        if page is not None and not page.generated_content and "à compléter" in page.body:
            page.generated_content, page.body = kind, ""
            page.save_revision().publish()


def plan_workflow_ensure() -> None:
    """Send plan changes through the same moderation workflow as the site's pages."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Workflow, WorkflowContentType

    content_type = ContentType.objects.get_for_model(Plan)
    if WorkflowContentType.objects.filter(content_type=content_type).exists():
        return
    workflow = Workflow.objects.filter(active=True).order_by("pk").first()
    if workflow is not None:
        WorkflowContentType.objects.create(content_type=content_type, workflow=workflow)


def plan_terms_snapshot(*, plan: Plan) -> Terms:
    return Terms(plan_name=plan.name, **{name: getattr(plan, name) for name in TERM_FIELDS})


@transaction.atomic
def plan_version_current(*, plan: Plan) -> PlanVersion:
    """The version matching the plan's terms now; a new one when the terms changed.

    Sales always go through here, so a policy keeps the terms it was sold with.
    """
    from cover.documents import general_conditions_freeze

    terms = plan_terms_snapshot(plan=plan).as_json()
    # The general conditions' id and SHA-256 (and a write-once copy): part of the version.
    terms.update(general_conditions_freeze(plan=plan))
    latest = PlanVersion.objects.select_for_update().filter(plan=plan).order_by("-number").first()
    if latest is not None and latest.terms == terms:
        return latest
    return PlanVersion.objects.create(
        plan=plan, number=(latest.number + 1) if latest else 1, terms=terms
    )


# ---------------------------------------------------------------------------------------------
# Doctors: sign-up with e-mail verification, profile, invitations
# ---------------------------------------------------------------------------------------------


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """One-use link proving the address: it stops working once the account is active.

    The schema is part of the hash so a link made for one insurer never works at another,
    even where user ids coincide.
    """

    key_salt = "cover.services.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        return f"{connection.schema_name}:{user.pk}:{user.is_active}:{user.email}:{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()


def doctor_signup(
    *, email: str, first_name: str, last_name: str, password: str, base_url: str
) -> Any:
    """Create an inactive doctor account and e-mail the link that activates it.

    Signing up again with an address never verified refreshes the account and resends the
    link. An address already in use by an active account changes nothing: its owner gets an
    e-mail saying so, and the caller sees exactly what a new sign-up sees (the page must not
    tell a visitor which addresses have an account). Returns the new or refreshed user, or
    ``None`` for an existing account.
    """
    from cover.documents import site_is_open

    if not site_is_open():
        raise SignupError(_("L'inscription en ligne n'est pas encore ouverte."))
    email = email.strip().lower()
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.select_for_update().filter(username=email).first()
        existing = user is not None and user.is_active
        if existing:
            make_password(password)  # the same work as a real sign-up: no timing difference
        else:
            if user is None:
                user = user_model(username=email, email=email, is_staff=False, is_active=False)
            user.first_name, user.last_name = first_name.strip(), last_name.strip()
            user.set_password(password)
            user.full_clean(exclude=["password"])
            user.save()
            user.groups.add(Group.objects.get(name=INSURED_DOCTOR))
    if existing:
        _signup_existing_notify(user=user, base_url=base_url)
        return None
    doctor_verification_send(user=user, base_url=base_url)
    return user


def _signup_existing_notify(*, user, base_url: str) -> None:
    link = base_url.rstrip("/") + reverse("portal:login")
    mail_send(to=user.email, kind=MailKind.ACCOUNT_EXISTS, context={}, link_path=link)


def doctor_verification_send(*, user, base_url: str) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = email_verification_token.make_token(user)
    link = base_url.rstrip("/") + reverse("portal:verify", args=[uid, token])
    mail_send(to=user.email, kind=MailKind.ACCOUNT_VERIFICATION, context={}, link_path=link)


def doctor_verify_email(*, uidb64: str, token: str) -> Any | None:
    """Activate the account the link was made for; ``None`` when the link is not valid."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = get_user_model().objects.filter(pk=pk).first()
    if user is None or not email_verification_token.check_token(user, token):
        return None
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def doctor_profile_save(
    *,
    user,
    rpps: str,
    specialty: str,
    practice_name: str = "",
    practice_address: str = "",
    city: str = "",
    phone: str = "",
) -> Doctor:
    """Create or update the doctor's professional identity (RPPS checked for format only)."""
    doctor = Doctor.objects.filter(user=user).first() or Doctor(user=user)
    doctor.rpps = rpps.strip()
    doctor.specialty = specialty.strip()
    doctor.practice_name = practice_name.strip()
    doctor.practice_address = practice_address.strip()
    doctor.city = city.strip()
    doctor.phone = phone.strip()
    doctor.full_clean()
    doctor.save()
    return doctor


def doctor_invitations_send(*, user_ids: Iterable[int]) -> int:
    """E-mail imported doctors a link, on the insurer's own domain, to claim their account.

    Skips accounts that already chose a password, so a retried job sends nothing twice.
    """
    from tenants.models import Insurer
    from tenants.selectors import tenant_base_url

    insurer = Insurer.objects.get(schema_name=connection.schema_name)
    base = tenant_base_url(insurer)
    sent = 0
    users = get_user_model().objects.filter(pk__in=list(user_ids)).select_related("doctor")
    for user in users:
        if user.has_usable_password():
            continue
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        link = base + reverse("portal:password-set", args=[uid, token])
        policy = Policy.objects.filter(doctor__user=user).order_by("-created_at").first()
        mail_send(
            to=user.email,
            kind=MailKind.ACCOUNT_INVITATION,
            context={"numero_contrat": policy.number if policy else ""},
            link_path=link,
        )
        sent += 1
    return sent


def _insurer_display_name() -> str:
    site = Site.objects.filter(is_default_site=True).first()
    if site is not None:
        branding = Branding.for_site(site)
        if branding.display_name:
            return branding.display_name
    tenant = getattr(connection, "tenant", None)
    return str(getattr(tenant, "name", "")) or "Égide"


# ---------------------------------------------------------------------------------------------
# Policies: online sale through Stripe Checkout, lifecycle from Stripe's events
# ---------------------------------------------------------------------------------------------


def _stripe_client():
    from saas.stripe import stripe_client

    return stripe_client()


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
    from cover.documents import site_is_open
    from cover.selectors import plans_published, policy_current

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
    _platform_doctors_check(adding=1)
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
    import stripe

    account = insurer_stripe_account()
    client = _stripe_client()
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
    import weasyprint

    from cover.selectors import guarantee_rows, policy_current, policy_terms

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
            "insurer_name": _insurer_display_name(),
            "logo_uri": logo_uri,
            "on": on,
        },
    )
    document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).render()
    name = _insurer_display_name()
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


# ---------------------------------------------------------------------------------------------
# Portfolio import (CSV of the insurer's existing RCP insured)
# ---------------------------------------------------------------------------------------------


@dataclass
class PortfolioReport:
    """What an import found: every bad row with its line number, or what was imported."""

    rows: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    imported: int = 0

    @property
    def clean(self) -> bool:
        return not self.errors


def _platform_doctors_check(*, adding: int) -> None:
    """Égide's plan for this insurer may cap insured doctors: refuse before creating any."""
    from tenants.billing import PlatformLimitExceeded
    from tenants.services import platform_limit_check_current

    try:
        platform_limit_check_current(resource="doctors", adding=adding)
    except PlatformLimitExceeded as exc:
        raise PolicyError(str(exc)) from exc


def portfolio_import(*, content: bytes | str, dry_run: bool) -> PortfolioReport:
    """Check a portfolio CSV and, when every row is valid and ``dry_run`` is false, import it.

    Nothing is imported while a single row is bad: the insurer fixes the file and sends it
    again. Imported doctors get an invitation e-mail (after commit, in the background).
    """
    from cover.imports import portfolio_check, portfolio_load

    report, dataset = portfolio_check(content=content)
    if report.clean:
        try:
            _platform_doctors_check(adding=report.rows)
        except PolicyError as exc:
            # Not a bad row but the insurer's platform plan: reported as line 0, nothing imported.
            report.errors.append((0, str(exc)))
    if dry_run or not report.clean:
        return report
    from cover.tasks import doctor_invitations_send_task
    from tenants.services import task_enqueue_on_commit

    with transaction.atomic():
        user_ids = portfolio_load(dataset=dataset)
        task_enqueue_on_commit(actor=doctor_invitations_send_task, kwargs={"user_ids": user_ids})
    report.imported = len(user_ids)
    return report


# ---------------------------------------------------------------------------------------------
# Demo
# ---------------------------------------------------------------------------------------------

DEMO_PLANS: tuple[dict[str, Any], ...] = (
    {
        "name": "Essentielle",
        "slug": "essentielle",
        "summary": "La veille mensuelle et l'assistance juridique pour les premiers avis.",
        "sort_order": 1,
        "monitoring_frequency": "monthly",
        "max_keywords": 3,
        "max_watched_pages": 2,
        "removal_requests_per_year": 2,
        "positive_content_campaigns_per_year": 0,
        "per_claim_ceiling_cents": 300_000,
        "annual_ceiling_cents": 600_000,
        "cleanup_subceiling_cents": 100_000,
        "deductible_cents": 15_000,
        "intervention_threshold_cents": 30_000,
        "waiting_period_days": 30,
        "price_cents": 990,
        "billing_period": "month",
    },
    {
        "name": "Sérénité",
        "slug": "serenite",
        "summary": "Veille hebdomadaire, nettoyage et prise en charge du constat.",
        "sort_order": 2,
        "monitoring_frequency": "weekly",
        "max_keywords": 10,
        "max_watched_pages": 5,
        "removal_requests_per_year": 6,
        "positive_content_campaigns_per_year": 1,
        "per_claim_ceiling_cents": 800_000,
        "annual_ceiling_cents": 1_500_000,
        "cleanup_subceiling_cents": 300_000,
        "deductible_cents": 0,
        "intervention_threshold_cents": 15_000,
        "waiting_period_days": 0,
        "price_cents": 1990,
        "billing_period": "month",
    },
    {
        "name": "Intégrale",
        "slug": "integrale",
        "summary": "Veille quotidienne, rétroactivité d'un an et plafonds élevés.",
        "sort_order": 3,
        "monitoring_frequency": "daily",
        "max_keywords": 25,
        "max_watched_pages": 15,
        "removal_requests_per_year": 12,
        "positive_content_campaigns_per_year": 2,
        "per_claim_ceiling_cents": 1_500_000,
        "annual_ceiling_cents": 3_000_000,
        "cleanup_subceiling_cents": 600_000,
        "deductible_cents": 0,
        "intervention_threshold_cents": 0,
        "waiting_period_days": 0,
        "anteriority": "retroactive_years",
        "anteriority_years": 1,
        "territory": "Union européenne",
        "price_cents": 34_900,
        "billing_period": "year",
    },
)


def demo_offer_seed(*, doctor_email: str | None = None, variant: str = "standard") -> None:
    """Site pages, published plans and the demo doctor's active policy, where missing.

    ``variant="second"`` gives the second demo insurer its own copy, guides, two other plans and
    prices (cover.demo_content), so the two demo sites are not the same site renamed.
    """
    from cover.demo_content import (
        DEMO_VARIANT_SECOND,
        SECOND_PLANS,
        SECOND_POLICY_PLAN,
        SECOND_SITE,
        demo_site_copy_apply,
    )

    second = variant == DEMO_VARIANT_SECOND
    site = Site.objects.filter(is_default_site=True).first()
    if site is not None:
        home = site.root_page.specific
        if isinstance(home, HomePage):
            display_name = _insurer_display_name()
            site_pages_ensure(home=home, display_name=display_name)
            if second:
                demo_site_copy_apply(home=home, copy=SECOND_SITE, display_name=display_name)
    plan_workflow_ensure()
    for data in SECOND_PLANS if second else DEMO_PLANS:
        if Plan.objects.filter(slug=data["slug"]).exists():
            continue
        plan = Plan(published=True, **data)
        plan.full_clean()
        plan.save()
        plan.save_revision().publish()
    from cover.documents import demo_documents_seed

    demo_documents_seed(insurer_name=_insurer_display_name())
    user_model = get_user_model()
    users = user_model.objects.filter(groups__name=INSURED_DOCTOR)
    user = (users.filter(username=doctor_email) if doctor_email else users).order_by("pk").first()
    if user is None or Policy.objects.filter(doctor__user=user).exists():
        return
    doctor = Doctor.objects.filter(user=user).first() or Doctor.objects.create(
        user=user,
        rpps=f"1000000{user.pk:04d}"[-11:],
        specialty="Médecine générale",
        practice_name=_("Cabinet du Dr %(name)s") % {"name": user.get_full_name()},
        practice_address="12 rue de la République",
        city="Créteil",
    )
    Policy.objects.create(
        number=f"DEMO-{user.pk:05d}",
        doctor=doctor,
        plan_version=plan_version_current(
            plan=Plan.objects.get(slug=SECOND_POLICY_PLAN if second else "serenite")
        ),
        status=Policy.Status.ACTIVE,
        start_date=timezone.localdate() - datetime.timedelta(days=30),
        source=Policy.Source.PORTFOLIO,
    )
