"""« Cachet électronique »: the insurer admin's page showing the seal that signs the bundles and
importing a qualified e-seal (PKCS#12) in its place.

Thin: the checks and the encrypted storage are ``evidence.seals``. Only holders of
``evidence.add_sealkey`` (the insurer admin role) see or use it; a refused file changes nothing.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from evidence.models import SealKey
from evidence.seals import (
    P12_MAX_BYTES,
    P12_PASSWORD_MAX_LENGTH,
    seal_current,
    seal_import,
    seal_summary,
)

SEAL_PERMISSION = "evidence.add_sealkey"


class SealImportForm(forms.Form):
    p12 = forms.FileField(
        label=gettext_lazy("Fichier du cachet (.p12 ou .pfx)"),
        error_messages={"required": gettext_lazy("Choisissez le fichier PKCS#12 du cachet.")},
    )
    password = forms.CharField(
        label=gettext_lazy("Mot de passe du fichier"),
        required=False,
        max_length=P12_PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    def clean_p12(self):
        upload = self.cleaned_data["p12"]
        if upload.size > P12_MAX_BYTES:
            raise ValidationError(
                _("Le fichier dépasse %(size)s Ko : ce n'est pas un cachet PKCS#12.")
                % {"size": P12_MAX_BYTES // 1024}
            )
        return upload


@require_http_methods(["GET", "POST"])
def seal_view(request):
    if not request.user.is_authenticated or not request.user.has_perm(SEAL_PERMISSION):
        raise PermissionDenied
    form = SealImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["p12"].read(P12_MAX_BYTES + 1)
        try:
            seal = seal_import(
                data=data, password=form.cleaned_data["password"], imported_by=request.user
            )
        except ValidationError as exc:
            form.add_error("p12", exc.messages)
        else:
            messages.success(
                request,
                _("Cachet qualifié importé : il scelle désormais les nouveaux lots de preuve (%s).")
                % seal_summary(seal=seal).subject,
            )
            return redirect("evidence_seal")
    current = seal_current()
    history = [seal_summary(seal=seal) for seal in SealKey.objects.order_by("-created_at", "-pk")]
    return render(
        request,
        "evidence/seal_admin.html",
        {
            "page_title": _("Cachet électronique"),
            "current": seal_summary(seal=current) if current is not None else None,
            "history": history,
            "form": form,
            "max_kb": P12_MAX_BYTES // 1024,
        },
    )
