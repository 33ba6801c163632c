"""Portal and admin forms: they check input and give French errors; services do the writes."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cover.models import Doctor, Plan
from cover.selectors import plans_published


class SignupForm(forms.Form):
    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    email = forms.EmailField(label=_("Adresse e-mail professionnelle"))
    password1 = forms.CharField(
        label=_("Mot de passe"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Confirmation du mot de passe"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    accept_terms = forms.BooleanField(
        label=_("J'accepte que mes données soient traitées pour la gestion de mon contrat."),
    )

    def clean(self):
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("Les deux mots de passe ne correspondent pas."))
        elif first:
            candidate = get_user_model()(
                username=data.get("email", ""),
                email=data.get("email", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
            try:
                validate_password(first, user=candidate)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class DoctorProfileForm(forms.ModelForm):
    """The doctor's professional identity. The RPPS number is checked for format only
    (11 digits): no check-digit rule is documented in DOMAIN.md."""

    # Wider than the model field so that "100 0345 6789" is accepted and normalised.
    rpps = forms.CharField(
        label=_("Numéro RPPS"),
        max_length=20,
        help_text=_("11 chiffres, figurant sur votre carte CPS."),
    )

    class Meta:
        model = Doctor
        fields = ["rpps", "specialty", "practice_name", "practice_address", "city", "phone"]

    def clean_rpps(self) -> str:
        value = "".join(str(self.cleaned_data.get("rpps", "")).split())
        if not value.isdigit() or len(value) != 11:
            raise ValidationError(_("Le numéro RPPS compte 11 chiffres."))
        others = Doctor.objects.filter(rpps=value)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(_("Ce numéro RPPS est déjà associé à un autre compte."))
        return value


class PlanChoiceForm(forms.Form):
    plan = forms.ModelChoiceField(
        label=_("Formule"),
        queryset=Plan.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": _("Choisissez une formule.")},
    )
    accept_conditions = forms.BooleanField(
        label=_("J'ai pris connaissance des conditions générales et des garanties de la formule.")
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["plan"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = plans_published()


class PortfolioImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier CSV du portefeuille"),
        help_text=_(
            "Colonnes : numero_contrat, formule, date_effet, rpps, nom, prenom, email, "
            "specialite (et, si besoin, adresse, ville, telephone)."
        ),
    )
    confirm = forms.BooleanField(
        label=_("Importer si le fichier ne contient aucune erreur"),
        required=False,
        help_text=_("Sans cette case, le fichier est seulement vérifié."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 10 * 1024 * 1024:
            raise ValidationError(_("Le fichier dépasse 10 Mo."))
        return upload
