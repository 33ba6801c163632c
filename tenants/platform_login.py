"""The platform admin's login page (public schema).

Django's admin login falls back to ``LOGIN_REDIRECT_URL`` (the insurers' portal) when the form
comes without ``next``; the platform host has no portal, so that was a 500 (``NoReverseMatch``).
Here the admin index is the default landing page.
"""

from __future__ import annotations

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from tenants.admin import platform_admin


def platform_admin_login(request: HttpRequest) -> HttpResponse:
    if not (request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)):
        index = reverse("admin:index")
        query = request.GET.copy()
        query[REDIRECT_FIELD_NAME] = index
        request.GET = query  # type: ignore[assignment]
        if request.method == "POST":
            form = request.POST.copy()
            form[REDIRECT_FIELD_NAME] = index
            request.POST = form  # type: ignore[assignment]
    return platform_admin.login(request)
