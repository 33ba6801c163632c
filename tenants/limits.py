"""Platform limits: how many insured doctors and captures an insurer's Égide plan allows.

The apps call ``platform_limit_check_current`` right before they create an insured doctor's
policy or a capture. It reads the insurer's subscription (public schema) and the usage counters
(its schema), so it lives in ``tenants``, which the apps above may import.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tenants.utils import tenant_context

from tenants.billing import month_start
from tenants.db import connection
from tenants.models import Insurer, InsurerSubscription
from tenants.usage import METERS, usage_count


class PlatformLimitExceeded(Exception):
    """The insurer's platform plan does not allow one more doctor or capture (French message)."""


LIMIT_MESSAGES = {
    "doctors": gettext_noop(
        "Limite de la formule Égide « %(plan)s » atteinte pour %(insurer)s : %(limit)s "
        "médecins assurés au maximum. Contactez Égide pour changer de formule."
    ),
    "captures": gettext_noop(
        "Limite de la formule Égide « %(plan)s » atteinte pour %(insurer)s : %(limit)s "
        "constats par mois au maximum. Contactez Égide pour changer de formule."
    ),
}


def platform_limit_check(*, insurer: Insurer, resource: str, adding: int = 1) -> None:
    """Refuse one more insured doctor or capture beyond the insurer's plan, in French.

    Call it before creating the doctor's policy or the capture. An insurer without a platform
    subscription is not limited (demo, migration); a cancelled subscription blocks both.
    """
    if resource not in METERS:
        raise ValueError(f"Unknown resource: {resource}")
    subscription = (
        InsurerSubscription.objects.filter(insurer=insurer).select_related("plan").first()
    )
    if subscription is None:
        return
    if subscription.status == InsurerSubscription.Status.CANCELED:
        raise PlatformLimitExceeded(
            _(
                "Abonnement Égide résilié pour %(insurer)s : aucune nouvelle adhésion ni "
                "aucun nouveau constat n'est possible."
            )
            % {"insurer": insurer.name}
        )
    plan = subscription.plan
    limit = plan.max_doctors if resource == "doctors" else plan.max_captures_per_month
    if limit is None:
        return
    now = timezone.now()
    since = month_start(timezone.localdate(now)) if resource == "captures" else now
    if connection.schema_name == insurer.schema_name:
        used = usage_count(resource=resource, since=since, until=now)
    else:
        with tenant_context(insurer):
            used = usage_count(resource=resource, since=since, until=now)
    if used + adding > limit:
        raise PlatformLimitExceeded(
            _(LIMIT_MESSAGES[resource])
            % {"plan": plan.name, "insurer": insurer.name, "limit": limit}
        )


def platform_limit_check_current(*, resource: str, adding: int = 1) -> None:
    """``platform_limit_check`` for the insurer whose schema is active (no-op in public)."""
    if connection.schema_name == "public":
        return
    insurer = Insurer.objects.get(schema_name=connection.schema_name)
    platform_limit_check(insurer=insurer, resource=resource, adding=adding)
