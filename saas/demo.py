"""Demo data: the platform host and two insurers, each with an admin, a handler and a doctor.

Idempotent: a second run finds everything in place and changes nothing. It sits above the apps
(it seeds each app through its ``demo`` module) and is run by the ``demo_seed`` command.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context
from PIL import Image, ImageDraw, ImageFont
from wagtail.models import Site

from cleanup.demo import content_demo_seed, monitoring_demo_seed
from common.stripe import StripeUnavailable
from cover.claims.demo import claims_demo_seed
from cover.demo import demo_offer_seed
from cover.documents import GoLiveError, site_open
from cover.models import Branding as BrandingSetting
from saas.embedded.review_content import (
    LISTING_PLATFORM_NAME,
    LISTING_PROFILE,
    LISTINGS,
    PLATFORM_NAME,
    doctor_slug,
    listing_path,
    page_path,
)
from saas.onboarding import insurer_onboard
from saas.totp_code import DEMO_TOTP_SECRET, secret_key_bytes
from tenants.billing import (
    BillingError,
    insurer_stripe_account_ensure,
    insurer_subscription_start,
    insurer_subscription_sync,
)
from tenants.db import connection
from tenants.models import Domain, Insurer, InsurerSubscription, PlatformPlan
from tenants.roles import CLAIMS_HANDLER, INSURED_DOCTOR
from tenants.services import Branding, platform_ensure, staff_user_create
from tenants.two_factor import totp_device_set

DEMO_PASSWORD = "egide-demo-2026"  # noqa: S105 - published demo credentials
# Staff must enter a second factor: the demo staff share one published TOTP secret
# (saas.totp_code prints its current code). Doctors have none (optional for them).
DEMO_TOTP_KEY_HEX = secret_key_bytes(secret=DEMO_TOTP_SECRET).hex()


@dataclass(frozen=True)
class DemoInsurer:
    name: str
    schema: str
    domain: str
    primary: str
    accent: str
    initials: str
    admin: str
    handler: str
    doctor: str
    doctor_name: tuple[str, str]
    # cover.demo_content: which copy, plans and guides; cover.models.SiteStyle: typography/layout.
    variant: str = "standard"
    site_style: str = "modern"
    # an information article proposed by the handler, waiting for the doctor's approval (only
    # where the doctor's plan includes a positive-content campaign)
    content_proposed: bool = False


DEMO_INSURERS = (
    DemoInsurer(
        name="Mutuelle Asclépios",
        schema="assureur_a",
        domain="assureur-a.localhost",
        primary="#0b4f6c",
        accent="#f4a259",
        initials="MA",
        admin="admin@assureur-a.localhost",
        handler="gestion@assureur-a.localhost",
        doctor="dr.martin@exemple.fr",
        doctor_name=("Claire", "Martin"),
        content_proposed=True,
    ),
    DemoInsurer(
        name="Hygie Assurances",
        schema="assureur_b",
        domain="assureur-b.localhost",
        primary="#5b2a86",
        accent="#2ec4b6",
        initials="HA",
        admin="admin@assureur-b.localhost",
        handler="gestion@assureur-b.localhost",
        doctor="dr.bernard@exemple.fr",
        doctor_name=("Paul", "Bernard"),
        variant="second",
        site_style="classic",
    ),
)
OPERATOR_EMAIL = "operateur@egide.localhost"


def logo_png(*, initials: str, colour: str) -> bytes:
    """A simple square logo with the insurer's initials, so each demo brand looks its own."""
    image = Image.new("RGB", (192, 192), colour)
    draw = ImageDraw.Draw(image)
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", 88)
    except OSError:
        font = ImageFont.load_default()
    draw.text((96, 96), initials, fill="white", font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def demo_seed(*, platform_domain: str) -> list[str]:
    """Create what is missing and return human-readable lines describing the demo."""
    connection.set_schema_to_public()
    platform_ensure(domain=platform_domain)
    user_model = get_user_model()
    if not user_model.objects.filter(username=OPERATOR_EMAIL).exists():
        user_model.objects.create_superuser(
            username=OPERATOR_EMAIL, email=OPERATOR_EMAIL, password=DEMO_PASSWORD
        )
    totp_device_set(user=user_model.objects.get(username=OPERATOR_EMAIL), key_hex=DEMO_TOTP_KEY_HEX)
    for demo in DEMO_INSURERS:
        insurer = Insurer.objects.filter(schema_name=demo.schema).first()
        if insurer is None:
            insurer = insurer_onboard(
                name=demo.name,
                domain=demo.domain,
                admin_email=demo.admin,
                admin_password=DEMO_PASSWORD,
                schema_name=demo.schema,
                branding=Branding(
                    display_name=demo.name,
                    primary_colour=demo.primary,
                    accent_colour=demo.accent,
                    logo_png=logo_png(initials=demo.initials, colour=demo.accent),
                ),
            )
        with tenant_context(insurer):
            if not user_model.objects.filter(username=demo.handler).exists():
                staff_user_create(
                    email=demo.handler, group_name=CLAIMS_HANDLER, password=DEMO_PASSWORD
                )
            for staff in user_model.objects.filter(username__in=[demo.admin, demo.handler]):
                totp_device_set(user=staff, key_hex=DEMO_TOTP_KEY_HEX)
            if not user_model.objects.filter(username=demo.doctor).exists():
                first, last = demo.doctor_name
                staff_user_create(
                    email=demo.doctor,
                    group_name=INSURED_DOCTOR,
                    password=DEMO_PASSWORD,
                    first_name=first,
                    last_name=last,
                )
            demo_site_style_set(site_style=demo.site_style)
            demo_offer_seed(doctor_email=demo.doctor, variant=demo.variant)
            claims_demo_seed(doctor_email=demo.doctor)
            demo_monitoring_seed(demo=demo)
    billing = demo_platform_billing_seed()
    return demo_summary() + billing + demo_sites_open()


def demo_monitoring_seed(*, demo: DemoInsurer) -> None:
    """The demo doctor watches their page on the demo review site (and, for one doctor, a
    directory listing in the PagesJaunes layout), baseline recorded, and has an information
    article proposed by the handler to approve (only where the settings define that site:
    development)."""
    base = getattr(settings, "EGIDE_DEMO_REVIEWS_URL", "")
    if not base:
        return

    slug = doctor_slug(*demo.doctor_name)
    # The listing first: a baseline scan reads every watched page, and the review page must be
    # read only once before the doctor's first scan (its second read shows the changes).
    if slug in LISTINGS:  # a directory listing read through its platform profile (2 pages)
        monitoring_demo_seed(
            doctor_email=demo.doctor,
            page_url=base + listing_path(slug),
            label=LISTING_PLATFORM_NAME,
            platform=LISTING_PROFILE,
        )
    monitoring_demo_seed(
        doctor_email=demo.doctor, page_url=base + page_path(slug), label=PLATFORM_NAME
    )
    if demo.content_proposed:
        content_demo_seed(doctor_email=demo.doctor, staff_email=demo.handler)


def demo_sites_open() -> list[str]:
    """Open each demo insurer's public site once its go-live checklist is complete (legal
    information, general conditions, Stripe account from the billing seed, plans, branding)."""
    lines = []
    for demo in DEMO_INSURERS:
        insurer = Insurer.objects.filter(schema_name=demo.schema).first()
        if insurer is None:
            continue
        with tenant_context(insurer):
            try:
                site_open()
            except GoLiveError as exc:
                lines.append(f"{demo.name} : {exc}")
    connection.set_schema_to_public()
    return lines


def demo_site_style_set(*, site_style: str) -> None:
    """The demo insurer's site style (typography and layout), set once in its Branding."""
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return
    branding = BrandingSetting.for_site(site)
    if branding.site_style != site_style:
        branding.site_style = site_style
        branding.save(update_fields=["site_style"])


# Platform plan of each demo insurer (PLATFORM_DEMO_PLANS below).
DEMO_PLATFORM_PLANS = {"assureur_a": "essentiel", "assureur_b": "integral"}


def demo_platform_billing_seed() -> list[str]:
    """Two platform plans and a paid Égide subscription per demo insurer (local Stripe)."""
    connection.set_schema_to_public()
    return platform_billing_demo_seed(assignments=DEMO_PLATFORM_PLANS)


def demo_summary() -> list[str]:
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    base = f"{settings.SITE_SCHEME}://"
    platform = Domain.objects.filter(tenant__schema_name="public").first()
    lines = [
        f"Plateforme : {base}{platform.domain if platform else 'localhost'}{port}/ "
        f"(admin : /admin/, {OPERATOR_EMAIL})",
    ]
    for demo in DEMO_INSURERS:
        lines.append(
            f"{demo.name} : {base}{demo.domain}{port}/  admin Wagtail {base}{demo.domain}{port}"
            f"/admin/ ({demo.admin} ; gestionnaire {demo.handler}) ; portail médecin "
            f"{base}{demo.domain}{port}/compte/connexion/ ({demo.doctor})"
        )
    if reviews := getattr(settings, "EGIDE_DEMO_REVIEWS_URL", ""):
        lines.append(
            f"Site d'avis de démonstration (veille des médecins de démonstration) : {reviews}/"
        )
    lines.append(f"Mot de passe de tous les comptes de démonstration : {DEMO_PASSWORD}")
    lines.append(
        "Double authentification des comptes admin, gestionnaire et opérateur : clé TOTP "
        f"{DEMO_TOTP_SECRET} (à saisir dans une application d'authentification), "
        "ou code du moment : python -m saas.totp_code"
    )
    return lines


PLATFORM_DEMO_PLANS = (
    {
        "code": "essentiel",
        "name": "Essentiel",
        "monthly_price_cents": 49_000,
        "included_doctors": 50,
        "doctor_price_cents": 400,
        "included_captures": 20,
        "capture_price_cents": 900,
        "max_doctors": 500,
        "max_captures_per_month": 200,
    },
    {
        "code": "integral",
        "name": "Intégral",
        "monthly_price_cents": 149_000,
        "included_doctors": 300,
        "doctor_price_cents": 300,
        "included_captures": 100,
        "capture_price_cents": 700,
        "max_doctors": None,
        "max_captures_per_month": None,
    },
)


def platform_billing_demo_seed(*, assignments: dict[str, str]) -> list[str]:
    """Two platform plans, and a paid subscription for each demo insurer (schema -> plan code).

    Idempotent. Against the local stand-in the demo Checkout is paid with the test card, and
    the state is synced at once rather than waiting for webhooks (the web server is not up yet).
    """
    try:
        from devtools.stripe_standin.demo import (  # lazy: devtools/ is optional
            demo_checkout_pay,
            stripe_local_running,
        )
    except ImportError as exc:  # the production image leaves devtools/ out
        raise BillingError(
            _(
                "La démonstration de facturation a besoin des outils de développement "
                "(dossier devtools/), absents de cette installation."
            )
        ) from exc

    plans = {}
    for spec in PLATFORM_DEMO_PLANS:
        defaults = {key: value for key, value in spec.items() if key != "code"}
        plans[spec["code"]], _created = PlatformPlan.objects.get_or_create(
            code=spec["code"], defaults=defaults
        )
    lines = []
    with stripe_local_running():
        for schema, code in assignments.items():
            insurer = Insurer.objects.filter(schema_name=schema).first()
            if insurer is None:
                continue
            try:
                insurer_stripe_account_ensure(insurer=insurer)
                subscription = InsurerSubscription.objects.filter(insurer=insurer).first()
                if subscription is None:
                    subscription = insurer_subscription_start(insurer=insurer, plan=plans[code])
                    demo_checkout_pay(url=subscription.checkout_url, email=insurer.contact_email)
                    subscription = insurer_subscription_sync(subscription=subscription)
            except (StripeUnavailable, BillingError) as exc:
                lines.append(
                    _("Facturation Égide — %(insurer)s : non préparée (%(error)s)")
                    % {"insurer": insurer.name, "error": exc}
                )
                continue
            lines.append(
                _("Facturation Égide — %(insurer)s : formule %(plan)s, %(status)s")
                % {
                    "insurer": insurer.name,
                    "plan": subscription.plan.name,
                    "status": subscription.get_status_display(),
                }
            )
    return lines
