"""Request middleware wiring."""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.db import connection
from django_tenants.utils import get_public_schema_name
from wagtail.contrib.redirects.middleware import RedirectMiddleware

# Production Checkout pages (Stripe's hosted payment page).
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
ADMIN_PREFIX = "/admin/"


class TenantSafeRedirectMiddleware(RedirectMiddleware):
    """Wagtail's redirects, only where Wagtail exists.

    The public schema has no ``wagtailredirects_redirect`` table: the stock middleware turns
    every public 404 into a 500. Insurer schemas get the normal behaviour.
    """

    def process_response(self, request, response):
        if connection.schema_name == get_public_schema_name():  # type: ignore[attr-defined]  # django-tenants
            return response
        return super().process_response(request, response)


def stripe_checkout_origin() -> str:
    """Where « Payer » forms are redirected: Stripe, or the local stand-in (STRIPE_API_BASE)."""
    base = settings.STRIPE_API_BASE
    if not base:
        return STRIPE_CHECKOUT_ORIGIN
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (``CONTENT_SECURITY_POLICY``), with two per-request adjustments.

    - ``form-action`` also allows the Stripe Checkout origin: the plan and payment forms post
      here and are redirected there, and browsers apply ``form-action`` to that redirect.
    - The admins (Wagtail's under ``/admin/`` on insurer hosts, Django's on the platform host)
      get ``script-src 'self' 'unsafe-inline'`` instead of nonces: Wagtail 8 still writes inline
      scripts without a nonce (date pickers, inline panels). Everything else stays strict there
      (no foreign origin, no ``eval``, no framing, no ``<base>``, no plugins).
    """

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        parts.update = {**(parts.update or {}), "form-action": [stripe_checkout_origin()]}
        if request.path_info.startswith(ADMIN_PREFIX):
            parts.replace = {**(parts.replace or {}), "script-src": [SELF, UNSAFE_INLINE]}
        return parts
