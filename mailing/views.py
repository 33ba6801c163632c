"""« Notifications »: a doctor's channels in the portal and the insurer's in the Wagtail admin.

One set of views, two owners: the doctor's channels (``owner`` = the user) and the insurer's
(``owner`` empty, insurer admins only). A channel of another owner is a 404, never shown."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from common.http import AuthenticatedHttpRequest
from mailing.channels import (
    CHANNEL_KINDS,
    ChannelInvalid,
    ChannelSendFailed,
    channel_create,
    channel_delete,
    channel_get_for_owner,
    channel_test_send,
    channels_for_owner,
    notify_schemes,
)
from mailing.kinds import MAIL_KINDS
from mailing.selectors import mail_insurer_name

ADMIN_PERMISSION = "mailing.add_notificationchannel"


class ChannelForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Nom"), max_length=100)
    url = forms.CharField(
        label=gettext_lazy("Adresse Apprise"),
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy(
            "Par exemple slack://…, msteams://…, twilio://… (SMS) ou json://exemple.fr/webhook. "
            "Elle est enregistrée chiffrée et n'est plus affichée en entier."
        ),
    )
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Nouvelles à recevoir"),
        choices=[(k.value, MAIL_KINDS[k].label) for k in CHANNEL_KINDS],
        widget=forms.CheckboxSelectMultiple,
    )


def _page(request: HttpRequest, *, owner: User | None, template: str, back: str) -> HttpResponse:
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            channel_create(
                owner=owner,
                label=form.cleaned_data["label"],
                url=form.cleaned_data["url"],
                kinds=form.cleaned_data["kinds"],
            )
        except ChannelInvalid as exc:
            form.add_error("url", str(exc))
        else:
            messages.success(request, _("Canal enregistré."))
            return redirect(back)
    return render(
        request,
        template,
        {
            "page_title": _("Notifications"),
            "channels": channels_for_owner(owner=owner),
            "form": form,
            "schemes": ", ".join(sorted(notify_schemes())),
        },
        status=400 if request.method == "POST" else 200,
    )


def _action(request: HttpRequest, *, owner: User | None, public_id: Any, action: str, back: str):
    channel = channel_get_for_owner(public_id=public_id, owner=owner)
    if channel is None or action not in ("test", "delete"):
        raise Http404
    if action == "delete":
        channel_delete(channel=channel)
        messages.success(request, _("Canal supprimé."))
    else:
        try:
            channel_test_send(channel=channel, insurer_name=mail_insurer_name())
        except ChannelSendFailed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Essai envoyé."))
    return redirect(back)


# --------------------------------------------------------------------------- portal (doctor)


@login_required
@require_http_methods(["GET", "POST"])
def portal_channels(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _page(
        request,
        owner=request.user,
        template="mailing/portal_channels.html",
        back="notifications:list",
    )


@login_required
@require_POST
def portal_channel_action(
    request: AuthenticatedHttpRequest, public_id: Any, action: str
) -> HttpResponse:
    return _action(
        request, owner=request.user, public_id=public_id, action=action, back="notifications:list"
    )


# --------------------------------------------------------------------------- admin (insurer)


def _admin_only(request: HttpRequest) -> None:
    if not request.user.is_authenticated or not request.user.has_perm(ADMIN_PERMISSION):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
def admin_channels(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    return _page(
        request,
        owner=None,
        template="mailing/admin_channels.html",
        back="notifications_admin:list",
    )


@require_POST
def admin_channel_action(request: HttpRequest, public_id: Any, action: str) -> HttpResponse:
    _admin_only(request)
    return _action(
        request, owner=None, public_id=public_id, action=action, back="notifications_admin:list"
    )
