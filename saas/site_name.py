"""The name Wagtail shows as « the site »: the insurer's own, never the platform's, on its admin.

Wagtail reads ``settings.WAGTAIL_SITE_NAME`` at request time (page-deletion confirmation: the
admin types the site's name). One global string would show « Égide » in every insurer's admin;
the setting is a lazy string resolved in the current schema instead.
"""

from __future__ import annotations

from django.db import DatabaseError
from django.utils.functional import lazy

PLATFORM_NAME = "Égide"
NEUTRAL_NAME = "Espace de gestion"


def site_name_current() -> str:
    """The current insurer's display name (its Branding), the platform's name on the public
    schema, a neutral name when neither can be read (no tenant yet, no database)."""
    # The settings import this module: what reads settings or models is imported when called.
    from django_tenants.utils import get_public_schema_name  # lazy: reads settings at import

    from tenants.db import connection  # lazy: its backend imports models (settings load first)

    schema = getattr(connection, "schema_name", None)
    if not schema or schema == get_public_schema_name():
        return PLATFORM_NAME
    try:
        from wagtail.models import Site  # lazy: models, and the settings import this module

        from cover.models import Branding  # lazy: models, and the settings import this module

        site = Site.objects.filter(is_default_site=True).first()
        name = Branding.for_site(site).display_name if site is not None else ""
    except DatabaseError:
        return NEUTRAL_NAME
    return name or NEUTRAL_NAME


site_name_lazy = lazy(site_name_current, str)
