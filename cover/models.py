"""The insurer's public site (Wagtail pages) and its branding.

Each insurer schema has exactly one Wagtail site whose root is a ``HomePage``; onboarding
replaces Wagtail's "Welcome" page with it. Branding is a per-site setting so templates read it
the same way whatever the tenant.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField
from wagtail.models import Page

colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Saisissez une couleur au format #RRVVBB.")
)


class HomePage(Page):
    """Landing page of an insurer's site: what the e-reputation guarantee is and who it is for."""

    headline = models.CharField(_("accroche"), max_length=200, blank=True)
    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("headline"), FieldPanel("intro")]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("page d'accueil")


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

    panels = [
        FieldPanel("display_name"),
        FieldPanel("logo"),
        MultiFieldPanel(
            [FieldPanel("primary_colour"), FieldPanel("accent_colour")], heading=_("Couleurs")
        ),
        FieldPanel("contact_email"),
    ]

    class Meta:
        verbose_name = _("identité visuelle")


class Doctor(models.Model):
    """An insured doctor's professional identity, attached to their portal account."""

    user = models.OneToOneField(
        "auth.User", verbose_name=_("compte"), on_delete=models.CASCADE, related_name="doctor"
    )
    rpps = models.CharField(
        _("numéro RPPS"),
        max_length=11,
        unique=True,
        validators=[RegexValidator(r"^\d{11}$", _("Le numéro RPPS compte 11 chiffres."))],
    )
    specialty = models.CharField(_("spécialité"), max_length=120)
    practice_name = models.CharField(_("nom du cabinet"), max_length=200, blank=True)
    practice_address = models.CharField(_("adresse d'exercice"), max_length=300, blank=True)
    city = models.CharField(_("ville"), max_length=120, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("médecin assuré")
        verbose_name_plural = _("médecins assurés")
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.email


class MonitoringFrequency(models.TextChoices):
    MONTHLY = "monthly", _("Mensuelle")
    WEEKLY = "weekly", _("Hebdomadaire")
    DAILY = "daily", _("Quotidienne")


class Anteriority(models.TextChoices):
    # DOMAIN.md §8: most e-reputation guarantees cover publications after subscription only.
    AFTER_SUBSCRIPTION = "after_subscription", _("Faits postérieurs à la souscription")
    KNOWN_FACTS_EXCLUDED = "known_facts_excluded", _("Faits connus à la souscription exclus")
    RETROACTIVE_YEARS = "retroactive_years", _("Rétroactivité de N années")


class ProviderObligation(models.TextChoices):
    MEANS = "means", _("Obligation de moyens")
    RESULT = "result", _("Obligation de résultat")


class BillingPeriod(models.TextChoices):
    MONTH = "month", _("Mensuelle")
    YEAR = "year", _("Annuelle")


class Plan(models.Model):
    """A plan of the insurer's e-reputation offer, with its guarantees as structured data.

    Editing a plan never changes a policy already sold: each sale points at an immutable
    ``PlanVersion`` holding the terms as they were (see ``cover.services.plan_version_current``).
    Amounts are in euro cents; ``None`` means "not covered / no limit" as the field says.
    """

    name = models.CharField(_("nom"), max_length=120)
    slug = models.SlugField(_("identifiant"), max_length=60, unique=True)
    summary = models.TextField(_("résumé"), blank=True)
    published = models.BooleanField(_("publié sur le site"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("ordre"), default=0)
    # Monitoring (veille)
    monitoring_frequency = models.CharField(
        _("fréquence de veille"),
        max_length=10,
        choices=MonitoringFrequency.choices,
        default=MonitoringFrequency.MONTHLY,
    )
    max_keywords = models.PositiveSmallIntegerField(_("mots-clés surveillés (max.)"), default=5)
    max_watched_pages = models.PositiveSmallIntegerField(_("pages surveillées (max.)"), default=3)
    # Cleanup
    removal_requests_per_year = models.PositiveSmallIntegerField(
        _("demandes de suppression / déréférencement par an"), default=2
    )
    positive_content_campaigns_per_year = models.PositiveSmallIntegerField(
        _("campagnes de contenu positif par an"), default=0
    )
    # Legal protection
    per_claim_ceiling_cents = models.PositiveIntegerField(
        _("plafond par sinistre (centimes)"), null=True, blank=True
    )
    annual_ceiling_cents = models.PositiveIntegerField(
        _("plafond annuel (centimes)"), null=True, blank=True
    )
    cleanup_subceiling_cents = models.PositiveIntegerField(
        _("sous-plafond nettoyage (centimes)"), null=True, blank=True
    )
    deductible_cents = models.PositiveIntegerField(_("franchise (centimes)"), default=0)
    intervention_threshold_cents = models.PositiveIntegerField(
        _("seuil d'intervention (centimes)"), default=0
    )
    waiting_period_days = models.PositiveSmallIntegerField(_("délai de carence (jours)"), default=0)
    anteriority = models.CharField(
        _("antériorité"),
        max_length=30,
        choices=Anteriority.choices,
        default=Anteriority.AFTER_SUBSCRIPTION,
    )
    anteriority_years = models.PositiveSmallIntegerField(
        _("rétroactivité (années)"), default=0, help_text=_("Si rétroactivité de N années.")
    )
    declaration_delay = models.CharField(
        _("délai de déclaration"), max_length=120, default="5 jours ouvrés"
    )
    territory = models.CharField(_("territorialité"), max_length=200, default="France")
    provider_obligation = models.CharField(
        _("obligation du prestataire"),
        max_length=10,
        choices=ProviderObligation.choices,
        default=ProviderObligation.MEANS,
    )
    free_choice_of_lawyer = models.BooleanField(_("libre choix de l'avocat"), default=True)
    exclusions = models.TextField(_("exclusions"), blank=True)
    # Price
    price_cents = models.PositiveIntegerField(_("prix TTC (centimes)"), default=0)
    billing_period = models.CharField(
        _("périodicité"), max_length=5, choices=BillingPeriod.choices, default=BillingPeriod.MONTH
    )
    general_conditions = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name=_("conditions générales"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("formule")
        verbose_name_plural = _("formules")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class PlanVersion(models.Model):
    """The terms of a plan frozen at a point in time; policies point here, never at ``Plan``."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    terms = models.JSONField(_("conditions"))
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("version de formule")
        verbose_name_plural = _("versions de formule")
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_unique")
        ]
        ordering = ["plan", "-number"]

    def __str__(self) -> str:
        return f"{self.plan.name} v{self.number}"


class Policy(models.Model):
    """A doctor's e-reputation cover under one plan version.

    Its status follows the insurer's Stripe subscription (or the imported portfolio). A policy
    that is not active does not cover new claims.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente de paiement")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Impayée")
        CANCELLED = "cancelled", _("Résiliée")

    number = models.CharField(_("numéro de contrat"), max_length=40, unique=True)
    doctor = models.ForeignKey(
        Doctor, verbose_name=_("médecin"), on_delete=models.PROTECT, related_name="policies"
    )
    plan_version = models.ForeignKey(
        PlanVersion, verbose_name=_("formule"), on_delete=models.PROTECT, related_name="policies"
    )
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    start_date = models.DateField(_("date d'effet"), null=True, blank=True)
    end_date = models.DateField(_("date de fin"), null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("contrat")
        verbose_name_plural = _("contrats")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.number
