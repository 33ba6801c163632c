"""Onboarding: the one way an insurer comes to exist.

Used by the ``create_insurer`` command, the platform admin (``saas.admin``) and the demo seed
(``saas.demo``). It sits above every app because it calls each app's provisioning step, in the
plain ordered list ``STEPS`` below (no signals): add a step there when an app needs one.

It runs in one database transaction (PostgreSQL DDL is transactional), so any failure leaves
neither the row, the domain nor the schema.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from cover.claims.services.provisioning import claims_provision
from cover.services.site import site_provision
from evidence.services.provisioning import evidence_provision
from tenants.billing import insurer_stripe_account_try
from tenants.db import connection
from tenants.models import Domain, Insurer
from tenants.roles import INSURER_ADMIN
from tenants.services import (
    HOSTNAME_RE,
    RESERVED_SCHEMAS,
    Branding,
    OnboardingError,
    invitation_send,
    roles_apply,
    schema_name_for,
    staff_user_create,
    wagtail_defaults_replace,
)

logger = logging.getLogger(__name__)


@dataclass
class Onboarding:
    """What the steps need, filled in as they run (``admin`` by ``_admin_create``)."""

    name: str
    domain: str
    admin_email: str
    admin_password: str | None
    branding: Branding
    admin: Any = None


def _site_provision(onboarding: Onboarding) -> None:
    branding = onboarding.branding
    site_provision(
        site_name=onboarding.name,
        hostname=onboarding.domain,
        port=int(settings.SITE_PORT or 80),
        display_name=branding.display_name or onboarding.name,
        primary_colour=branding.primary_colour,
        accent_colour=branding.accent_colour,
        logo_png=branding.logo_png,
    )


def _admin_create(onboarding: Onboarding) -> None:
    onboarding.admin = staff_user_create(
        email=onboarding.admin_email,
        group_name=INSURER_ADMIN,
        password=onboarding.admin_password,
    )


# In order, inside the new insurer's schema and the onboarding transaction: the site first (the
# roles give permissions on its root page), the roles before the Wagtail defaults (moderation is
# routed to the admins' group) and the admin account.
STEPS: tuple[Callable[[Onboarding], object], ...] = (
    _site_provision,  # cover: Wagtail site, home page, branding
    lambda onboarding: roles_apply(),  # tenants: staff groups and their permissions
    lambda onboarding: claims_provision(),  # cover.claims: letter templates
    lambda onboarding: wagtail_defaults_replace(),  # tenants: Wagtail's stock groups, workflow
    _admin_create,  # tenants: the insurer's first admin
    lambda onboarding: evidence_provision(organisation=onboarding.name),  # evidence: seal key
)


def insurer_onboard(
    *,
    name: str,
    domain: str,
    admin_email: str,
    admin_password: str | None = None,
    schema_name: str | None = None,
    branding: Branding | None = None,
) -> Insurer:
    """Create a ready insurer: schema, domain, Wagtail site and home page, roles, admin account.

    Without ``admin_password`` the admin gets an invitation e-mail to choose one.
    """
    onboarding = _onboarding_check(
        name=name,
        domain=domain,
        admin_email=admin_email,
        admin_password=admin_password,
        branding=branding,
    )
    name = onboarding.name
    connection.set_schema_to_public()
    schema = schema_name or schema_name_for(name)
    if schema in RESERVED_SCHEMAS:
        raise OnboardingError(_("Nom de schéma réservé : %(schema)s") % {"schema": schema})

    try:
        insurer = Insurer.objects.create(
            schema_name=schema, name=name, contact_email=admin_email.lower()
        )
    except ValidationError as exc:
        raise OnboardingError(
            _("Création impossible : %(error)s") % {"error": "; ".join(exc.messages)}
        ) from exc
    _insurer_provision(insurer=insurer, onboarding=onboarding)

    if not admin_password:
        insurer_id, admin_id = insurer.pk, onboarding.admin.pk
        transaction.on_commit(lambda: invitation_send(insurer_id=insurer_id, user_id=admin_id))
    # Last step, after the commit and best effort: the insurer's Stripe connected account. If
    # Stripe is unreachable the insurer is still onboarded with its account "À créer" (and the
    # error kept); tenants.tasks.stripe_accounts_provision, the platform admin and any payment
    # flow (insurer_stripe_account_ensure) create it later. A payment platform's outage must
    # not block onboarding, and a rolled-back onboarding must not leave a Stripe account.
    onboarded_id = insurer.pk
    transaction.on_commit(lambda: _stripe_account_after_onboarding(insurer_id=onboarded_id))
    logger.info("Insurer %s onboarded in schema %s", name, schema)
    return insurer


def _onboarding_check(
    *,
    name: str,
    domain: str,
    admin_email: str,
    admin_password: str | None,
    branding: Branding | None,
) -> Onboarding:
    """The onboarding's inputs, normalised and checked before anything is written."""
    domain = domain.strip().lower()
    name = name.strip()
    if not name:
        raise OnboardingError(_("Le nom de l'assureur est obligatoire."))
    if not HOSTNAME_RE.match(domain):
        raise OnboardingError(_("Domaine invalide : %(domain)s") % {"domain": domain})
    try:
        validate_email(admin_email)
    except ValidationError as exc:
        raise OnboardingError(
            _("Adresse e-mail invalide : %(email)s") % {"email": admin_email}
        ) from exc
    return Onboarding(
        name=name,
        domain=domain,
        admin_email=admin_email,
        admin_password=admin_password,
        branding=branding or Branding(display_name=name),
    )


def _insurer_provision(*, insurer: Insurer, onboarding: Onboarding) -> None:
    """The insurer's schema, then its domain and every step of ``STEPS`` in one transaction;
    on any failure the insurer and its schema are dropped and the error told in French."""
    domain = onboarding.domain
    try:
        # Outside the transaction below: replaying Wagtail's migrations (when no template
        # schema exists) mixes data and DDL, which PostgreSQL refuses in one transaction.
        insurer.create_schema(check_if_exists=True, verbosity=0)
        connection.set_schema_to_public()
        with transaction.atomic():
            # The domain comes last-but-one: until it exists no request can reach the tenant.
            Domain.objects.create(domain=domain, tenant=insurer, is_primary=True)
            with tenant_context(insurer):
                for step in STEPS:
                    step(onboarding)
            insurer.status = Insurer.Status.READY
            insurer.ready_at = timezone.now()
            insurer.save(update_fields=["status", "ready_at"])
    except Exception as exc:
        connection.set_schema_to_public()
        insurer.delete(force_drop=True)
        if isinstance(exc, IntegrityError) and Domain.objects.filter(domain=domain).exists():
            raise OnboardingError(
                _("Le domaine %(domain)s est déjà utilisé.") % {"domain": domain}
            ) from exc
        if isinstance(exc, ValidationError):
            raise OnboardingError(
                _("Création impossible : %(error)s") % {"error": "; ".join(exc.messages)}
            ) from exc
        if isinstance(exc, IntegrityError):
            raise OnboardingError(_("Création impossible : %(error)s") % {"error": exc}) from exc
        raise
    finally:
        connection.set_schema_to_public()


def _stripe_account_after_onboarding(*, insurer_id: int) -> None:
    insurer = Insurer.objects.filter(pk=insurer_id).first()
    if insurer is not None:
        insurer_stripe_account_try(insurer=insurer)
