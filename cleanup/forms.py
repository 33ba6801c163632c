"""Portal forms of the monitoring guarantee. Validation of limits is the services' job; these
only turn text areas into lists."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cleanup.models import RemovalRequest
from cleanup.models.watch import PLATFORM_CHOICES


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class WatchProfileForm(forms.Form):
    name_variants = forms.CharField(
        label=_("Façons d'écrire votre nom (une par ligne)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Par exemple « Dr Claire Martin », « Claire Martin »."),
    )
    practice_name = forms.CharField(label=_("Nom du cabinet"), required=False, max_length=200)
    city = forms.CharField(label=_("Ville"), required=False, max_length=120)
    specialty = forms.CharField(label=_("Spécialité"), required=False, max_length=120)
    keywords = forms.CharField(
        label=_("Mots-clés surveillés (un par ligne)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def cleaned_lists(self) -> tuple[list[str], list[str]]:
        return _lines(self.cleaned_data["name_variants"]), _lines(self.cleaned_data["keywords"])


class WatchedPageForm(forms.Form):
    url = forms.CharField(label=_("Adresse de la page"), max_length=1000)
    label = forms.CharField(label=_("Libellé"), required=False, max_length=200)
    platform = forms.ChoiceField(label=_("Plateforme"), choices=PLATFORM_CHOICES, required=False)
    needs_js = forms.BooleanField(label=_("La page nécessite JavaScript"), required=False)


class RemovalRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type de demande"), choices=RemovalRequest.Kind.choices)
    recipient_name = forms.CharField(label=_("Destinataire (site ou moteur)"), max_length=300)
    recipient_address = forms.CharField(
        label=_("Adresse du destinataire ou de son DPO"), widget=forms.Textarea(attrs={"rows": 3})
    )
    urls = forms.CharField(
        label=_("Adresse(s) concernée(s), une par ligne"), widget=forms.Textarea(attrs={"rows": 3})
    )
    data_concerned = forms.CharField(
        label=_("Données concernées"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    grounds = forms.CharField(
        label=_("Motifs (un par ligne)"), widget=forms.Textarea(attrs={"rows": 5})
    )

    def lists(self) -> tuple[list[str], list[str]]:
        return _lines(self.cleaned_data["urls"]), _lines(self.cleaned_data["grounds"])


class RequestSentForm(forms.Form):
    sent_on = forms.DateField(label=_("Envoyée le"), widget=forms.DateInput(attrs={"type": "date"}))
    received_on = forms.DateField(
        label=_("Reçue le (accusé de réception)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
