"""Login throttling with django-axes: callables named in the ``AXES_*`` settings.

Failed logins are counted per account and per client address (``AXES_LOCKOUT_PARAMETERS``) on
every login form (portal, Wagtail admin, platform admin): they all authenticate through
``django.contrib.auth.authenticate``, which axes watches. Axes' tables are in each insurer's
schema (``axes`` is a tenant app too) so a lock at one insurer never blocks the same e-mail or
address at another; the platform host has its own in the public schema.

Unknown e-mails are counted and locked exactly like real ones, and the lock page says nothing
about the account: it cannot tell an attacker which e-mails exist.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django_tenants.utils import get_public_schema_name

from tenants.db import connection


def username_normalise(request: HttpRequest, credentials: dict | None) -> str:
    """The e-mail as the login forms match it (``Admin@X`` and ``admin@x`` are one account)."""
    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")
    value = (credentials or {}).get(field)
    if value is None:
        value = request.POST.get(field, "")
    return str(value).strip().lower()


def client_ip(request: HttpRequest) -> str:
    """The address that sent the request, as axes counts it (``AXES_CLIENT_IP_CALLABLE``).

    Behind ``EGIDE_TRUSTED_PROXY_COUNT`` reverse proxies that each append the address they saw
    to ``X-Forwarded-For``, the client is the entry that many places from the right: what the
    proxies wrote, not what the client sent. Without proxies (the default) the header is
    ignored, so a client cannot pick the address its failures are counted against; with them,
    ``REMOTE_ADDR`` would be the proxy's and one attacker would lock every user out.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.EGIDE_TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The same neutral page for every locked login, whatever the e-mail typed."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    if request.path.startswith("/admin/"):
        login_url = reverse("admin:login") if _is_platform() else reverse("wagtailadmin_login")
    else:
        try:
            login_url = reverse("portal:login")
        except NoReverseMatch:
            login_url = "/"
    response = render(
        request,
        "two_factor/locked.html",
        {"minutes": minutes, "login_url": login_url},
        status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429),
    )
    response["Cache-Control"] = "no-store"
    return response


def _is_platform() -> bool:
    return connection.schema_name == get_public_schema_name()
