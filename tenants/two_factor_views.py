"""Second login step and authenticator enrolment (``tenants.two_factor``), on every host.

The same pages serve an insurer's host (Wagtail admin, portal) and the platform host (Django
admin), so they use their own plain layout instead of the insurer-branded one.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tenants import two_factor
from tenants.landing import user_home_url
from tenants.two_factor_middleware import SESSION_NEEDS_SECOND_FACTOR


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return user_home_url(user=request.user)


def _login_url() -> str:
    try:
        return reverse("portal:login")
    except NoReverseMatch:  # the platform host has no portal
        return reverse("admin:login")


def _page(request: HttpRequest, template: str, context: dict, *, status: int = 200):
    context = {"next": _next_url(request), **context}
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The code asked after the password (or a recovery code)."""
    if not request.user.is_authenticated:
        return HttpResponseRedirect(_login_url())
    if two_factor.session_is_verified(request=request):
        return HttpResponseRedirect(_next_url(request))
    if not two_factor.user_has_device(user=request.user):
        request.session.pop(SESSION_NEEDS_SECOND_FACTOR, None)
        if two_factor.user_is_staff(user=request.user):
            return HttpResponseRedirect(_with_next(reverse("two_factor:enrol"), request))
        return HttpResponseRedirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.second_factor_verify(request=request, code=form.cleaned_data["code"]):
            return HttpResponseRedirect(_next_url(request))
        form.add_error(
            "code",
            _(
                "Code incorrect ou expiré. Attendez le code suivant de votre application, "
                "ou utilisez un code de secours non encore utilisé."
            ),
        )
    status = 400 if request.method == "POST" else 200
    return _page(request, "two_factor/verify.html", {"form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator: QR code and key, confirmed by a first code."""
    if not request.user.is_authenticated:
        return HttpResponseRedirect(_login_url())
    if two_factor.user_has_device(user=request.user):
        # Never a second authenticator from a password-only session.
        if two_factor.session_is_verified(request=request):
            return HttpResponseRedirect(_next_url(request))
        return HttpResponseRedirect(_with_next(reverse("two_factor:verify"), request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.enrolment_confirm(request=request, code=form.cleaned_data["code"])
        if codes is not None:
            request.session.pop(SESSION_NEEDS_SECOND_FACTOR, None)
            request.session[two_factor.SESSION_RECOVERY_CODES] = codes
            return HttpResponseRedirect(_with_next(reverse("two_factor:codes"), request))
        form.add_error(
            "code",
            _(
                "Ce code ne correspond pas. Vérifiez que l'heure de votre téléphone est exacte "
                "et saisissez le code affiché maintenant."
            ),
        )
    enrolment = two_factor.enrolment_start(user=request.user)
    context = {
        "form": form,
        "enrolment": enrolment,
        "required": two_factor.user_is_staff(user=request.user),
    }
    status = 400 if request.method == "POST" else 200
    return _page(request, "two_factor/enrol.html", context, status=status)


@never_cache
def codes(request: HttpRequest) -> HttpResponse:
    """The recovery codes, shown once right after the enrolment."""
    if not request.user.is_authenticated:
        return HttpResponseRedirect(_login_url())
    recovery = request.session.pop(two_factor.SESSION_RECOVERY_CODES, None)
    if not recovery or not two_factor.session_is_verified(request=request):
        return HttpResponseRedirect(_next_url(request))
    return _page(request, "two_factor/codes.html", {"codes": recovery})


@never_cache
@require_http_methods(["GET", "POST"])
def codes_renew(request: HttpRequest) -> HttpResponse:
    """New recovery codes for a user whose second factor is verified in this session: the old
    ones stop working at once; the new ones are shown once, like at the enrolment."""
    if not request.user.is_authenticated:
        return HttpResponseRedirect(_login_url())
    if not two_factor.user_has_device(user=request.user):
        return HttpResponseRedirect(_with_next(reverse("two_factor:enrol"), request))
    if not two_factor.session_is_verified(request=request):
        return HttpResponseRedirect(_with_next(reverse("two_factor:verify"), request))
    if request.method == "POST":
        codes = two_factor.recovery_codes_renew(user=request.user)
        request.session[two_factor.SESSION_RECOVERY_CODES] = codes
        return HttpResponseRedirect(_with_next(reverse("two_factor:codes"), request))
    left = two_factor.recovery_codes_left(user=request.user)
    return _page(request, "two_factor/codes_renew.html", {"left": left})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect(_login_url())


def _with_next(url: str, request: HttpRequest) -> str:
    return f"{url}?{urlencode({REDIRECT_FIELD_NAME: _next_url(request)})}"
