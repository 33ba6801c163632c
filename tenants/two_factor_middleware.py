"""No page for a password-only session of someone who needs a second factor.

Placed after ``django_otp.middleware.OTPMiddleware``. A logged-in user who needs two factors
(``tenants.two_factor.user_needs_second_factor``) and whose session is not verified gets a
redirect for every URL — the Wagtail admin, the platform admin, downloads, private media, the
portal — except the two-factor pages themselves, logout, static files, public images (the
insurer's logo on the code page, ``common.media``), the browser's icon and
``robots.txt``, ``/healthz`` and ``/i18n/``: to the
code page when they have an authenticator, to the enrolment page otherwise. Guarding every URL
instead of a list of admin views means a view added later cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from common.media import media_url_public
from tenants import two_factor

# The two-factor pages (tenants/two_factor_urls.py), mounted at this prefix on every host.
TWO_FACTOR_PREFIX = "/compte/double-authentification/"
ALWAYS_OPEN_PREFIXES = (TWO_FACTOR_PREFIX, "/healthz", "/i18n/")
# The browser's own requests (icon, robots) are no page: redirecting them to the code page
# answered the icon with HTML and logged a bogus « next ».
ALWAYS_OPEN_PATHS = ("/compte/deconnexion/", "/admin/logout/", "/favicon.ico", "/robots.txt")
ADMIN_PREFIX = "/admin/"
# Cached per session outside the admin: does this (non-staff) user need a second factor?
SESSION_NEEDS_SECOND_FACTOR = "egide_2fa_needed"


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_verify(request):
            return self._redirect(request)
        return self.get_response(request)

    def _must_verify(self, request: HttpRequest) -> bool:
        user = request.user
        if not user.is_authenticated:
            return False
        path = request.path_info
        if path.startswith(ALWAYS_OPEN_PREFIXES) or path in ALWAYS_OPEN_PATHS:
            return False
        if path.startswith(settings.STATIC_URL):
            return False
        if media_url_public(path, media_url=settings.MEDIA_URL):
            return False  # a public image (the logo on the code page): anyone gets it anyway
        if two_factor.session_is_verified(request=request):
            return False
        if getattr(user, "is_superuser", False) or getattr(user, "is_staff", False):
            return True
        if path.startswith(ADMIN_PREFIX):
            # Always checked live on the admin: a role granted during the session counts at once.
            return two_factor.user_needs_second_factor(user=user)
        cached = request.session.get(SESSION_NEEDS_SECOND_FACTOR)
        if isinstance(cached, list) and len(cached) == 2 and cached[0] == user.pk:
            return bool(cached[1])
        needed = two_factor.user_needs_second_factor(user=user)
        request.session[SESSION_NEEDS_SECOND_FACTOR] = [user.pk, needed]
        return needed

    def _redirect(self, request: HttpRequest) -> HttpResponse:
        name = (
            "two_factor:verify"
            if two_factor.user_has_device(user=request.user)
            else "two_factor:enrol"
        )
        target = reverse(name)
        if request.method in ("GET", "HEAD"):
            target += "?" + urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
        return HttpResponseRedirect(target)
