"""Reads on insurers."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from tenants.models import Insurer


def insurers_ready() -> QuerySet[Insurer]:
    return Insurer.objects.filter(status=Insurer.Status.READY).exclude(schema_name="public")


def tenant_base_url(insurer: Insurer) -> str:
    """Absolute base URL on the insurer's own domain (WAGTAILADMIN_BASE_URL is global)."""
    domain = insurer.get_primary_domain()
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{domain.domain}{port}"
