from django import forms
from django.utils.translation import gettext_lazy as _


class InsurerOnboardForm(forms.Form):
    name = forms.CharField(label=_("Nom de l'assureur"), max_length=200)
    domain = forms.CharField(
        label=_("Domaine"), max_length=253, help_text=_("Par exemple : assureur-c.localhost")
    )
    admin_email = forms.EmailField(label=_("E-mail de l'administrateur"))
