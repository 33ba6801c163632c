"""Writes on insurers: onboarding, template schema upkeep, roles.

``insurer_onboard`` is the one way an insurer comes to exist, used by the ``create_insurer``
command, the platform admin and the demo seed. It runs in one database transaction (PostgreSQL
DDL is transactional), so any failure leaves neither the row, the domain nor the schema.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_tenants.utils import schema_exists, tenant_context

from tenants.billing import PlatformLimitExceeded, platform_limit_check  # noqa: F401 - API
from tenants.db import connection
from tenants.models import Domain, Insurer
from tenants.roles import INSURER_ADMIN, ROLES

logger = logging.getLogger(__name__)

HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
RESERVED_SCHEMAS = {"public", "information_schema", settings.TENANT_BASE_SCHEMA}


class OnboardingError(Exception):
    """Onboarding refused or failed; the message is French and safe to show to the operator."""


@dataclass(frozen=True)
class Branding:
    display_name: str = ""
    primary_colour: str = "#1d3557"
    accent_colour: str = "#e63946"
    logo_png: bytes | None = None


def schema_name_for(name: str) -> str:
    base = slugify(name).replace("-", "_")[:50] or "assureur"
    if not base[0].isalpha():
        base = f"a_{base}"
    candidate, n = base, 1
    while candidate in RESERVED_SCHEMAS or Insurer.objects.filter(schema_name=candidate).exists():
        n += 1
        candidate = f"{base}_{n}"
    return candidate


def template_schema_ensure(*, verbosity: int = 0) -> None:
    """Create or migrate the schema new insurers are cloned from.

    It is never a tenant: ``migrate_schemas`` does not see it, so it is migrated here.
    """
    name = settings.TENANT_BASE_SCHEMA
    if not schema_exists(name):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{name}"')
    call_command(
        "migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=verbosity
    )


def platform_ensure(*, domain: str) -> Insurer:
    """The public-schema tenant that serves the operator's site and admin."""
    public, _created = Insurer.objects.get_or_create(
        schema_name="public",
        defaults={"name": "Égide", "status": Insurer.Status.READY, "ready_at": timezone.now()},
    )
    Domain.objects.get_or_create(domain=domain, defaults={"tenant": public, "is_primary": True})
    return public


def roles_apply() -> dict[str, Group]:
    """Make the current schema's staff groups match ``tenants.roles.ROLES`` exactly."""
    from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

    groups: dict[str, Group] = {}
    site_root = Page.objects.filter(depth=2).first()
    root_collection = Collection.get_first_root_node()
    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role.name)
        group.permissions.set([_permission(code) for code in role.model_permissions])
        GroupPagePermission.objects.filter(group=group).delete()
        if site_root is not None:
            for codename in role.page_permissions:
                GroupPagePermission.objects.create(
                    group=group,
                    page=site_root,
                    permission=_permission(f"wagtailcore.{codename}"),
                )
        GroupCollectionPermission.objects.filter(group=group).delete()
        for code in role.collection_permissions:
            GroupCollectionPermission.objects.create(
                group=group, collection=root_collection, permission=_permission(code)
            )
        groups[role.name] = group
    return groups


def _permission(code: str) -> Permission:
    app_label, codename = code.split(".", 1)
    try:
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)
    except Permission.DoesNotExist as exc:
        raise OnboardingError(f"Permission inconnue : {code}") from exc


def _wagtail_defaults_replace() -> None:
    """Drop Wagtail's stock English groups and route page moderation to the insurer's admins."""
    from wagtail.models import GroupApprovalTask, Workflow

    admin_group = Group.objects.get(name=INSURER_ADMIN)
    for task in GroupApprovalTask.objects.all():
        task.groups.set([admin_group])
        task.name = _("Validation par l'administrateur assureur")
        task.save()
    Workflow.objects.filter(name="Moderators approval").update(
        name=_("Validation avant publication")
    )
    Group.objects.filter(name__in=["Moderators", "Editors"]).delete()


def staff_user_create(
    *, email: str, group_name: str, password: str | None, first_name: str = "", last_name: str = ""
):
    """Create a user in the current schema, in one staff or doctor group."""
    user_model = get_user_model()
    user = user_model(
        username=email.lower(),
        email=email.lower(),
        first_name=first_name,
        last_name=last_name,
        is_staff=group_name != "Médecin assuré",
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.add(Group.objects.get(name=group_name))
    return user


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
    from cover.claims.services import claims_provision
    from cover.services import site_provision
    from evidence.services import evidence_provision

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
    branding = branding or Branding(display_name=name)
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
    try:
        # Outside the transaction below: replaying Wagtail's migrations (when no template
        # schema exists) mixes data and DDL, which PostgreSQL refuses in one transaction.
        insurer.create_schema(check_if_exists=True, verbosity=0)
        connection.set_schema_to_public()
        with transaction.atomic():
            # The domain comes last-but-one: until it exists no request can reach the tenant.
            Domain.objects.create(domain=domain, tenant=insurer, is_primary=True)
            with tenant_context(insurer):
                site_provision(
                    site_name=name,
                    hostname=domain,
                    port=int(settings.SITE_PORT or 80),
                    display_name=branding.display_name or name,
                    primary_colour=branding.primary_colour,
                    accent_colour=branding.accent_colour,
                    logo_png=branding.logo_png,
                )
                roles_apply()
                claims_provision()
                _wagtail_defaults_replace()
                admin = staff_user_create(
                    email=admin_email, group_name=INSURER_ADMIN, password=admin_password
                )
                evidence_provision(organisation=name)
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

    if not admin_password:
        insurer_id, admin_id = insurer.pk, admin.pk
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


def _stripe_account_after_onboarding(*, insurer_id: int) -> None:
    from tenants.billing import insurer_stripe_account_try

    insurer = Insurer.objects.filter(pk=insurer_id).first()
    if insurer is not None:
        insurer_stripe_account_try(insurer=insurer)


def invitation_send(*, insurer_id: int, user_id: int) -> None:
    """E-mail a user a link, on their insurer's own domain, to choose a password."""
    from django.contrib.auth.tokens import default_token_generator
    from django.core.mail import send_mail
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from tenants.selectors import tenant_base_url

    insurer = Insurer.objects.get(pk=insurer_id)
    with tenant_context(insurer):
        user = get_user_model().objects.get(pk=user_id)
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        link = f"{tenant_base_url(insurer)}/compte/mot-de-passe/{uid}/{token}/"
        send_mail(
            subject=_("Votre accès à %(name)s") % {"name": insurer.name},
            message=_(
                "Bonjour,\n\nUn compte a été créé pour vous sur l'espace %(name)s.\n"
                "Choisissez votre mot de passe en suivant ce lien :\n%(link)s\n"
            )
            % {"name": insurer.name, "link": link},
            from_email=None,
            recipient_list=[user.email],
        )


def tenants_fan_out(*, actor, kwargs: dict | None = None) -> list[str]:
    """Send one message of ``actor`` per ready insurer, each bound to that insurer's schema."""
    from tenants.selectors import insurers_ready
    from tenants.task_middleware import SCHEMA_OPTION

    schemas = list(insurers_ready().values_list("schema_name", flat=True))
    for schema in schemas:
        actor.send_with_options(kwargs=kwargs or {}, **{SCHEMA_OPTION: schema})
    return schemas


def task_enqueue_on_commit(*, actor, kwargs: dict | None = None) -> None:
    """Enqueue ``actor`` once the current transaction commits, bound to the current schema.

    The schema is read now, not at commit time, so the message runs where it was asked for.
    """
    from tenants.task_middleware import SCHEMA_OPTION

    schema = connection.schema_name
    transaction.on_commit(
        lambda: actor.send_with_options(kwargs=kwargs or {}, **{SCHEMA_OPTION: schema})
    )


def platform_limit_check_current(*, resource: str, adding: int = 1) -> None:
    """``platform_limit_check`` for the insurer whose schema is active (no-op in public).

    Called by the apps right before they create an insured doctor's policy or a capture.
    """

    if connection.schema_name == "public":
        return
    insurer = Insurer.objects.get(schema_name=connection.schema_name)
    platform_limit_check(insurer=insurer, resource=resource, adding=adding)
