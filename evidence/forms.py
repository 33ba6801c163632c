"""Forms of the evidence screens; the URL itself is checked by the service (one rule)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

SHARE_DURATIONS = (
    ("1", _("1 jour")),
    ("7", _("7 jours")),
    ("14", _("14 jours")),
    ("30", _("30 jours")),
)


class CaptureRequestForm(forms.Form):
    url = forms.CharField(
        label=_("Adresse de la page à capturer"),
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
    )
    reason = forms.CharField(
        label=_("Motif (facultatif)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ShareForm(forms.Form):
    recipient_email = forms.EmailField(
        label=_("E-mail du destinataire (ex. commissaire de justice)"),
        error_messages={"invalid": _("Saisissez une adresse e-mail valide.")},
    )
    days = forms.ChoiceField(label=_("Validité du lien"), choices=SHARE_DURATIONS, initial="7")
