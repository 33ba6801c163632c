"""The insurer's per-site settings: branding, claims clocks, legal identity, site opening,
plan moderation and online cancellation.

Branding and the others are Wagtail site settings so templates and services read them the same
way whatever the tenant.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from cover.admin_forms import ClockSettingsForm, clock_settings_panels
from cover.branding_admin import BrandingPreviewPanel, ColourInput
from cover.rules import HOLIDAY_CALENDAR_LABELS, HolidayCalendar, clock_overrides_from_json

colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Saisissez une couleur au format #RRVVBB.")
)


class SiteStyle(models.TextChoices):
    MODERN = "modern", _("Moderne : caractères sans empattement, bandeau latéral")
    CLASSIC = "classic", _("Classique : titres à empattement, accroche centrée, coins arrondis")


@register_setting(icon="pick")
class Branding(BaseSiteSetting):
    """The insurer's name, logo and colours as shown on its site, portal and letters."""

    display_name = models.CharField(_("nom affiché"), max_length=200)
    logo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("logo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    primary_colour = models.CharField(
        _("couleur principale"), max_length=7, default="#1d3557", validators=[colour_validator]
    )
    accent_colour = models.CharField(
        _("couleur d'accent"), max_length=7, default="#e63946", validators=[colour_validator]
    )
    contact_email = models.EmailField(_("e-mail de contact"), blank=True)
    site_style = models.CharField(
        _("style du site"),
        max_length=10,
        choices=SiteStyle.choices,
        default=SiteStyle.MODERN,
        help_text=_("Typographie et mise en page du site public et de l'espace assuré."),
    )

    panels = [
        FieldPanel("display_name"),
        FieldPanel("logo"),
        MultiFieldPanel(
            [
                FieldPanel("primary_colour", widget=ColourInput()),
                FieldPanel("accent_colour", widget=ColourInput()),
                BrandingPreviewPanel(heading=_("Aperçu")),
            ],
            heading=_("Couleurs"),
        ),
        FieldPanel("site_style"),
        FieldPanel("contact_email"),
    ]

    class Meta:
        verbose_name = _("identité visuelle")


def _validate_clock_overrides(value) -> None:
    try:
        clock_overrides_from_json(value)
    except ValueError as error:
        raise ValidationError(str(error)) from error


@register_setting(icon="time")
class ClockSettings(BaseSiteSetting):
    """How the insurer's claims clocks are counted: its public-holiday calendar for working
    days, and its counsel's overrides of contract-specific or [UNVERIFIED] clock values."""

    holiday_calendar = models.CharField(
        _("calendrier des jours fériés"),
        max_length=20,
        choices=[(c.value, _(label)) for c, label in HOLIDAY_CALENDAR_LABELS.items()],
        default=HolidayCalendar.METROPOLE.value,
        help_text=_("Jours fériés exclus des délais en jours ouvrés."),
    )
    clock_overrides = models.JSONField(
        _("délais modifiés"),
        default=dict,
        blank=True,
        validators=[_validate_clock_overrides],
        help_text=_(
            "Par délai, les valeurs retenues par votre conseil ; saisies délai par délai dans "
            "l'administration."
        ),
    )

    # Per clock: duration and reminders with DOMAIN's caveat; the form writes the JSON above.
    base_form_class = ClockSettingsForm
    panels = [FieldPanel("holiday_calendar"), *clock_settings_panels()]

    class Meta:
        verbose_name = _("délais et calendrier")


ACPR_ADDRESS = (
    "Autorité de contrôle prudentiel et de résolution (ACPR), 4 place de Budapest, "
    "CS 92459, 75436 Paris Cedex 09"
)


@register_setting(icon="doc-full")
class InsurerLegalInfo(BaseSiteSetting):
    """The insurer's legal identity: what the legal notices, the privacy policy, the IPID and
    the refusal letters must state. The go-live checklist requires the mandatory fields."""

    company_name = models.CharField(_("dénomination sociale"), max_length=200, blank=True)
    legal_form = models.CharField(
        _("forme juridique"),
        max_length=200,
        blank=True,
        help_text=_("Par exemple : société anonyme, mutuelle régie par le code de la mutualité."),
    )
    share_capital = models.CharField(
        _("capital social"),
        max_length=100,
        blank=True,
        help_text=_("Montant en toutes lettres ou en chiffres, par exemple « 12 000 000 € »."),
    )
    rcs_number = models.CharField(
        _("numéro RCS ou SIREN"),
        max_length=100,
        blank=True,
        help_text=_("Par exemple : RCS Paris 123 456 789."),
    )
    head_office_address = models.TextField(_("adresse du siège social"), blank=True)
    orias_number = models.CharField(
        _("numéro ORIAS"),
        max_length=50,
        blank=True,
        help_text=_("Seulement si vous êtes aussi intermédiaire d'assurance."),
    )
    supervisory_authority = models.TextField(
        _("autorité de contrôle"), blank=True, default=ACPR_ADDRESS
    )
    publication_director = models.CharField(
        _("directeur de la publication"), max_length=200, blank=True
    )
    host_details = models.TextField(
        _("hébergeur du site"),
        blank=True,
        help_text=_("Nom, adresse et téléphone de l'hébergeur."),
    )
    dpo_contact = models.CharField(
        _("contact du délégué à la protection des données"),
        max_length=300,
        blank=True,
        help_text=_("Adresse e-mail ou postale du DPO."),
    )
    complaint_service_contact = models.TextField(
        _("service réclamations"),
        blank=True,
        help_text=_("Adresse postale et e-mail où l'assuré adresse ses réclamations."),
    )
    mediator_name = models.CharField(_("médiateur de l'assurance"), max_length=200, blank=True)
    mediator_url = models.URLField(_("site du médiateur"), blank=True)
    mediator_address = models.TextField(_("adresse du médiateur"), blank=True)

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("company_name"),
                FieldPanel("legal_form"),
                FieldPanel("share_capital"),
                FieldPanel("rcs_number"),
                FieldPanel("head_office_address"),
                FieldPanel("orias_number"),
                FieldPanel("supervisory_authority"),
            ],
            heading=_("Société"),
        ),
        MultiFieldPanel(
            [FieldPanel("publication_director"), FieldPanel("host_details")],
            heading=_("Site"),
        ),
        FieldPanel("dpo_contact"),
        MultiFieldPanel(
            [
                FieldPanel("complaint_service_contact"),
                FieldPanel("mediator_name"),
                FieldPanel("mediator_url"),
                FieldPanel("mediator_address"),
            ],
            heading=_("Réclamations et médiation"),
        ),
    ]

    # Fields the legal notices cannot do without (orias_number is optional).
    REQUIRED_FIELDS = (
        "company_name",
        "legal_form",
        "share_capital",
        "rcs_number",
        "head_office_address",
        "supervisory_authority",
        "publication_director",
        "host_details",
        "dpo_contact",
        "complaint_service_contact",
        "mediator_name",
        "mediator_url",
        "mediator_address",
    )

    def missing_fields(self) -> list[str]:
        """Verbose names of the mandatory fields still empty."""
        return [
            str(self._meta.get_field(name).verbose_name)
            for name in self.REQUIRED_FIELDS
            if not str(getattr(self, name) or "").strip()
        ]

    @property
    def is_complete(self) -> bool:
        return not self.missing_fields()

    class Meta:
        verbose_name = _("informations légales")


class SiteOpening(BaseSiteSetting):
    """When the insurer opened its public site, once its go-live checklist was complete.

    Until then the site shows « Bientôt disponible » and refuses sign-ups (cover.documents).
    Not in the settings menu: only ``cover.documents.site_open`` writes it.
    """

    opened_at = models.DateTimeField(_("site ouvert le"), null=True, blank=True)

    class Meta:
        verbose_name = _("ouverture du site")


@register_setting(icon="tasks")
class ModerationSettings(BaseSiteSetting):
    """How the insurer validates its plans before they go on sale. With four-eyes validation on,
    whoever submitted or last changed a plan version cannot approve it: a second admin must."""

    plan_four_eyes = models.BooleanField(
        _("validation à quatre yeux des formules"),
        default=False,
        help_text=_(
            "La personne qui soumet une formule à validation, ou qui en a modifié la version "
            "soumise, ne peut pas l'approuver : un autre administrateur doit le faire."
        ),
    )

    panels = [FieldPanel("plan_four_eyes")]

    class Meta:
        verbose_name = _("validation des formules")
        # The figures page (cover.figures) is for the insurer's admins, not its handlers.
        permissions = [("view_figures", _("Consulter les chiffres clés"))]


@register_setting(icon="cross")
class CancellationSettings(BaseSiteSetting):
    """When an online cancellation (« résiliation en trois clics ») takes effect.

    DOMAIN.md fixes no rule: the default ends the cover with the period already paid, and the
    admin form says that the choice is to be checked by the insurer's counsel.
    """

    class Rule(models.TextChoices):
        PERIOD_END = "period_end", _("À la fin de la période de cotisation payée")
        NOTICE = "notice", _("Après un préavis d'un nombre de jours fixé")

    effective_rule = models.CharField(
        _("date d'effet d'une résiliation en ligne"),
        max_length=20,
        choices=Rule.choices,
        default=Rule.PERIOD_END,
        help_text=_(
            "À vérifier : la documentation du produit ne fixe pas cette règle ; faites valider "
            "votre choix par votre conseil (code des assurances, art. L113-14 ; décret "
            "n° 2023-182)."
        ),
    )
    notice_days = models.PositiveSmallIntegerField(
        _("préavis (jours)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text=_(
            "Seulement avec la règle du préavis : nombre de jours entre la demande et la fin de "
            "la garantie, sans dépasser la fin de la période payée. À vérifier."
        ),
    )

    panels = [FieldPanel("effective_rule"), FieldPanel("notice_days")]

    class Meta:
        verbose_name = _("résiliation en ligne")

    def clean(self) -> None:
        super().clean()
        if self.effective_rule == self.Rule.NOTICE and not self.notice_days:
            raise ValidationError(
                {"notice_days": _("Indiquez le préavis en jours pour cette règle.")}
            )
