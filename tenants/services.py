"""Writes on insurers: the steps of onboarding that belong to ``tenants`` (schema name, roles,
staff accounts, Wagtail defaults, invitation), template schema upkeep.

Onboarding itself (``saas.onboarding.insurer_onboard``) sits above the apps: it calls these
steps and each app's provisioning step in one plain ordered list.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.core.management import call_command
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_tenants.utils import schema_exists, tenant_context
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Workflow,
)

from tenants.db import connection
from tenants.models import Domain, Insurer
from tenants.roles import INSURER_ADMIN, ROLES
from tenants.selectors import tenant_base_url

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


def wagtail_defaults_replace() -> None:
    """Drop Wagtail's stock English groups and route page moderation to the insurer's admins."""
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


def invitation_send(*, insurer_id: int, user_id: int) -> None:
    """E-mail a user a link, on their insurer's own domain, to choose a password."""
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
