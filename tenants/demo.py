"""Demo data: the platform host and two insurers, each with an admin, a handler and a doctor.

Idempotent: a second run finds everything in place and changes nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from saas.totp_code import DEMO_TOTP_SECRET, secret_key_bytes
from tenants.db import connection
from tenants.models import Domain, Insurer
from tenants.roles import CLAIMS_HANDLER, INSURED_DOCTOR
from tenants.services import Branding, insurer_onboard, platform_ensure, staff_user_create
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
    from PIL import Image, ImageDraw, ImageFont

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
            from cover.services import demo_offer_seed

            demo_site_style_set(site_style=demo.site_style)
            demo_offer_seed(doctor_email=demo.doctor, variant=demo.variant)
            from cover.claims.services import claims_demo_seed

            claims_demo_seed(doctor_email=demo.doctor)
            demo_monitoring_seed(demo=demo)
    billing = demo_platform_billing_seed()
    return demo_summary() + billing + demo_sites_open()


def demo_monitoring_seed(*, demo: DemoInsurer) -> None:
    """The demo doctor watches their page on the demo review site, baseline recorded (only
    where the settings define that site: development)."""
    from django.conf import settings

    base = getattr(settings, "EGIDE_DEMO_REVIEWS_URL", "")
    if not base:
        return
    from cleanup.demo import monitoring_demo_seed
    from saas.embedded.review_site import PLATFORM_NAME, doctor_slug, page_path

    monitoring_demo_seed(
        doctor_email=demo.doctor,
        page_url=base + page_path(doctor_slug(*demo.doctor_name)),
        label=PLATFORM_NAME,
    )


def demo_sites_open() -> list[str]:
    """Open each demo insurer's public site once its go-live checklist is complete (legal
    information, general conditions, Stripe account from the billing seed, plans, branding)."""
    from cover.documents import GoLiveError, site_open

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
    from wagtail.models import Site

    from cover.models import Branding as BrandingSetting

    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return
    branding = BrandingSetting.for_site(site)
    if branding.site_style != site_style:
        branding.site_style = site_style
        branding.save(update_fields=["site_style"])


# Platform plan of each demo insurer (tenants.billing.DEMO_PLANS).
DEMO_PLATFORM_PLANS = {"assureur_a": "essentiel", "assureur_b": "integral"}


def demo_platform_billing_seed() -> list[str]:
    """Two platform plans and a paid Égide subscription per demo insurer (local Stripe)."""
    from tenants.billing import platform_billing_demo_seed

    connection.set_schema_to_public()
    return platform_billing_demo_seed(assignments=DEMO_PLATFORM_PLANS)


def demo_summary() -> list[str]:
    from django.conf import settings

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
