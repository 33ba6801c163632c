"""Request middleware wiring."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name
from wagtail.contrib.redirects.middleware import RedirectMiddleware


class TenantSafeRedirectMiddleware(RedirectMiddleware):
    """Wagtail's redirects, only where Wagtail exists.

    The public schema has no ``wagtailredirects_redirect`` table: the stock middleware turns
    every public 404 into a 500. Insurer schemas get the normal behaviour.
    """

    def process_response(self, request, response):
        if connection.schema_name == get_public_schema_name():
            return response
        return super().process_response(request, response)
