"""The insurer's public site (Wagtail pages) and its branding.

Each insurer schema has exactly one Wagtail site whose root is a ``HomePage``; onboarding
replaces Wagtail's "Welcome" page with it. Branding is a per-site setting so templates read it
the same way whatever the tenant.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import (
    DraftStateMixin,
    LockableMixin,
    Page,
    PreviewableMixin,
    RevisionMixin,
    WorkflowMixin,
)

from cover.admin_forms import ClockSettingsForm, clock_settings_panels
from cover.branding_admin import BrandingPreviewPanel, ColourInput
from cover.rules import HOLIDAY_CALENDAR_LABELS, HolidayCalendar, clock_overrides_from_json
from cover.terms import (
    DECLARATION_DELAY_UNITS,
    TERRITORY_FRANCE,
    TERRITORY_LABELS,
    TERRITORY_WORLD,
    declaration_delay_parse,
    declaration_delay_text,
    territory_scope_parse,
)

colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Saisissez une couleur au format #RRVVBB.")
)


def _coming_soon_template(request) -> str | None:
    """« Bientôt disponible » instead of the home and offer pages until the insurer has
    completed its go-live checklist and opened its site (previews in the admin excepted)."""
    from cover.documents import site_is_open

    if getattr(request, "is_preview", False) or site_is_open():
        return None
    return "cover/coming_soon.html"


class HomePage(Page):
    """Landing page of an insurer's site: what the e-reputation guarantee is and who it is for."""

    headline = models.CharField(_("accroche"), max_length=200, blank=True)
    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("headline"), FieldPanel("intro")]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("page d'accueil")

    def get_template(self, request, *args, **kwargs):
        return _coming_soon_template(request) or super().get_template(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from cover.selectors import plans_published, price_label

        context = super().get_context(request, *args, **kwargs)
        context["sections"] = self.get_children().live().in_menu()
        context["offer_page"] = self.get_children().live().type(OfferPage).first()
        # The plans on sale with their price, so the home page sells: « 9,90 € par mois ».
        context["plan_cards"] = [
            (plan, price_label(price_cents=plan.price_cents, period=plan.billing_period))
            for plan in plans_published()
        ]
        return context


class OfferPage(Page):
    """Compares the published plans side by side; each plan links to the online sign-up."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cover.HomePage"]
    subpage_types: list[str] = []
    max_count = 1
    template = "cover/offer_page.html"

    class Meta:
        verbose_name = _("page des formules")

    def get_template(self, request, *args, **kwargs):
        return _coming_soon_template(request) or super().get_template(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from cover.selectors import plans_comparison, plans_published

        context = super().get_context(request, *args, **kwargs)
        plans = list(plans_published().select_related("general_conditions"))
        context["plans"] = plans
        context["comparison"] = plans_comparison(plans=plans)
        return context


class GuideIndexPage(Page):
    """The list of prevention guides (advice from the Ordre's talk and guide, in French)."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cover.HomePage"]
    subpage_types = ["cover.GuidePage"]
    max_count = 1
    template = "cover/guide_index_page.html"

    class Meta:
        verbose_name = _("index des guides")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["guides"] = self.get_children().live().specific()
        return context


class GuidePage(Page):
    summary = models.CharField(_("résumé"), max_length=300, blank=True)
    body = RichTextField(_("contenu"))

    content_panels = [*Page.content_panels, FieldPanel("summary"), FieldPanel("body")]
    parent_page_types = ["cover.GuideIndexPage"]
    subpage_types: list[str] = []
    template = "cover/guide_page.html"

    class Meta:
        verbose_name = _("guide de prévention")


class FaqItemBlock(blocks.StructBlock):
    question = blocks.CharBlock(label=_("question"))
    answer = blocks.RichTextBlock(label=_("réponse"))

    class Meta:
        icon = "help"
        label = _("question")


class FAQPage(Page):
    intro = RichTextField(_("introduction"), blank=True)
    items = StreamField([("item", FaqItemBlock())], verbose_name=_("questions"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("items")]
    parent_page_types = ["cover.HomePage"]
    subpage_types: list[str] = []
    max_count = 1
    template = "cover/faq_page.html"

    class Meta:
        verbose_name = _("foire aux questions")


class LegalContent(models.TextChoices):
    LEGAL_NOTICE = "legal_notice", _("Mentions légales")
    PRIVACY = "privacy", _("Politique de confidentialité")


class LegalPage(Page):
    """Mentions légales and similar notices; the insurer's legal team owns the text.

    A page may show text generated from the insurer's legal information (« Informations
    légales » settings) above its own body, so no placeholder is left once those are filled.
    """

    generated_content = models.CharField(
        _("contenu généré"),
        max_length=20,
        blank=True,
        choices=LegalContent.choices,
        help_text=_("Affiché avant le contenu, à partir des informations légales."),
    )
    body = RichTextField(_("contenu"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("generated_content"), FieldPanel("body")]
    parent_page_types = ["cover.HomePage"]
    subpage_types: list[str] = []
    template = "cover/legal_page.html"

    def get_context(self, request, *args, **kwargs):
        from cover.selectors import legal_info_current

        context = super().get_context(request, *args, **kwargs)
        context["legal"] = legal_info_current()
        return context

    class Meta:
        verbose_name = _("page juridique")


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


class FrozenDocument(models.Model):
    """A write-once copy of a plan's general conditions, addressed by its SHA-256.

    A plan version records the document id and hash it was sold with; this copy keeps those
    exact bytes downloadable after the insurer replaces or deletes the Wagtail document.
    """

    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, unique=True)
    title = models.CharField(_("titre"), max_length=255)
    file = models.FileField(_("fichier"), upload_to="conditions-generales/")
    source_document_id = models.PositiveIntegerField(_("document d'origine"), null=True)
    created_at = models.DateTimeField(_("copié le"), auto_now_add=True)

    class Meta:
        verbose_name = _("conditions générales archivées")
        verbose_name_plural = _("conditions générales archivées")

    def __str__(self) -> str:
        return f"{self.title} ({self.sha256[:12]})"


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


class Plan(
    WorkflowMixin,
    DraftStateMixin,
    LockableMixin,
    RevisionMixin,
    PreviewableMixin,
    models.Model,
):
    """A plan of the insurer's e-reputation offer, with its guarantees as structured data.

    Editing a plan never changes a policy already sold: each sale points at an immutable
    ``PlanVersion`` holding the terms as they were (see ``cover.services.plan_version_current``).
    Amounts are in euro cents; ``None`` means "not covered / no limit" as the field says.

    A plan is a Wagtail snippet with drafts, revisions, locking and the moderation workflow: an
    edit stays in a revision until it is approved and published, so the database row is always
    the published plan (what is sold and shown), never a draft.
    """

    name = models.CharField(_("nom"), max_length=120)
    slug = models.SlugField(_("identifiant"), max_length=60, unique=True)
    summary = models.TextField(_("résumé"), blank=True)
    published = models.BooleanField(
        _("proposée à la souscription"),
        default=False,
        help_text=_("Affichée sur la page des formules une fois la formule publiée."),
    )
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
        _("plafond par sinistre"), null=True, blank=True, help_text=_("Vide : pas de plafond.")
    )
    annual_ceiling_cents = models.PositiveIntegerField(
        _("plafond annuel"), null=True, blank=True, help_text=_("Vide : pas de plafond.")
    )
    cleanup_subceiling_cents = models.PositiveIntegerField(
        _("sous-plafond nettoyage et déréférencement"),
        null=True,
        blank=True,
        help_text=_("Par sinistre. Vide : pas de sous-plafond ; 0 : service non pris en charge."),
    )
    lawyer_subceiling_cents = models.PositiveIntegerField(
        _("sous-plafond honoraires d'avocat"),
        null=True,
        blank=True,
        help_text=_("Par sinistre. Vide : pas de sous-plafond ; 0 : service non pris en charge."),
    )
    constat_subceiling_cents = models.PositiveIntegerField(
        _("sous-plafond constat de commissaire de justice"),
        null=True,
        blank=True,
        help_text=_("Par sinistre. Vide : pas de sous-plafond ; 0 : service non pris en charge."),
    )
    deductible_cents = models.PositiveIntegerField(_("franchise"), default=0)
    intervention_threshold_cents = models.PositiveIntegerField(
        _("seuil d'intervention"),
        default=0,
        help_text=_(
            "Montant en jeu minimal : tant que le total des frais engagés sur le dossier reste "
            "inférieur à ce seuil, rien n'est pris en charge."
        ),
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
    declaration_delay_amount = models.PositiveSmallIntegerField(
        _("délai de déclaration"),
        null=True,
        blank=True,
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "Délai laissé à l'assuré pour déclarer le sinistre ; il fixe l'échéance de "
            "déclaration suivie dans chaque dossier."
        ),
    )
    declaration_delay_unit = models.CharField(
        _("unité du délai de déclaration"),
        max_length=12,
        blank=True,
        choices=[(value, _(label)) for value, label in DECLARATION_DELAY_UNITS.items()],
        default="WORKING_DAYS",
    )
    territory_scope = models.CharField(
        _("territorialité"),
        max_length=20,
        choices=[(value, _(label)) for value, label in TERRITORY_LABELS.items()],
        default=TERRITORY_FRANCE,
        help_text=_("Appréciée sur le lieu d'exercice du médecin (code postal du cabinet)."),
    )
    terms_review_note = models.TextField(
        _("conditions à revoir"),
        blank=True,
        help_text=_(
            "Texte d'origine qui n'a pas pu être converti automatiquement. Saisissez la valeur "
            "structurée correspondante, puis effacez cette note."
        ),
    )
    provider_obligation = models.CharField(
        _("obligation du prestataire"),
        max_length=10,
        choices=ProviderObligation.choices,
        default=ProviderObligation.MEANS,
    )
    free_choice_of_lawyer = models.BooleanField(_("libre choix de l'avocat"), default=True)
    exclusions = models.TextField(_("exclusions"), blank=True)
    # Price
    price_cents = models.PositiveIntegerField(_("prix TTC"), default=0)
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

    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="plan")
    workflow_states = GenericRelation(
        "wagtailcore.WorkflowState",
        content_type_field="base_content_type",
        object_id_field="object_id",
        related_query_name="plan",
        for_concrete_model=False,
    )

    class Meta:
        verbose_name = _("formule")
        verbose_name_plural = _("formules")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name

    # The wording shown to doctors and frozen in the terms is derived from the structured
    # values, so it is always what the declaration clock counts. Setting the text (an import,
    # a fixture) reads it with the clock's parser; unreadable text is kept for review.
    @property
    def declaration_delay(self) -> str:
        text = declaration_delay_text(
            amount=self.declaration_delay_amount, unit=self.declaration_delay_unit
        )
        return text or str(_("Selon les conditions générales"))

    @declaration_delay.setter
    def declaration_delay(self, text: str) -> None:
        parsed = declaration_delay_parse(text)
        if parsed is None:
            self.declaration_delay_amount, self.declaration_delay_unit = None, ""
            self.terms_review_note = _review_note_add(
                self.terms_review_note, _("Délai de déclaration"), text
            )
        else:
            self.declaration_delay_amount, self.declaration_delay_unit = parsed

    @admin.display(description=_("conditions à revoir"), boolean=True)
    def terms_to_review(self) -> bool:
        return bool(self.terms_review_note.strip())

    @property
    def territory(self) -> str:
        return str(_(TERRITORY_LABELS.get(self.territory_scope, self.territory_scope)))

    @territory.setter
    def territory(self, text: str) -> None:
        scope = territory_scope_parse(text)
        if scope is None:
            # Unreadable: the widest scope (no refusal on a term nobody could read), flagged.
            self.territory_scope = TERRITORY_WORLD
            self.terms_review_note = _review_note_add(
                self.terms_review_note, _("Territorialité"), text
            )
        else:
            self.territory_scope = scope

    def clean(self) -> None:
        super().clean()
        amount, unit = self.declaration_delay_amount, self.declaration_delay_unit
        if (amount is None) != (not unit):
            raise ValidationError(
                {
                    "declaration_delay_amount": _(
                        "Indiquez le nombre et l'unité du délai de déclaration, ou aucun des deux."
                    )
                }
            )
        if amount is not None and unit == "MONTHS" and amount > 24:
            raise ValidationError(
                {"declaration_delay_amount": _("Un délai de déclaration dépasse rarement 24 mois.")}
            )
        if amount is not None and unit == "WORKING_DAYS" and amount > 260:
            raise ValidationError(
                {
                    "declaration_delay_amount": _(
                        "Un délai en jours ouvrés ne peut pas dépasser 260 jours (un an)."
                    )
                }
            )

    @property
    def revisions(self):
        return self._revisions

    def get_preview_template(self, request, mode_name):
        return "cover/plan_preview.html"

    def get_preview_context(self, request, mode_name):
        from cover.selectors import plans_comparison

        return {"plan": self, "plans": [self], "comparison": plans_comparison(plans=[self])}


def _review_note_add(note: str, what: Any, text: str) -> str:
    line = f"{what} : « {text} »"
    return f"{note}\n{line}" if note else line


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


class PlanVersion(models.Model):
    """The terms of a plan frozen at a point in time; policies point here, never at ``Plan``."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    terms = models.JSONField(_("conditions"))
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    # The Stripe price selling this version, on the insurer's connected account.
    stripe_account_id = models.CharField(max_length=64, blank=True)
    stripe_price_id = models.CharField(max_length=64, blank=True)

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
        ACTIVE = "active", _("En vigueur")
        PAST_DUE = "past_due", _("Impayé")
        CANCELLED = "cancelled", _("Résilié")

    class Source(models.TextChoices):
        ONLINE = "online", _("Souscription en ligne")
        PORTFOLIO = "portfolio", _("Portefeuille importé")

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
    # The next tacit renewal (end of the paid period); empty once the policy is set to end.
    renewal_date = models.DateField(_("prochaine échéance"), null=True, blank=True)
    # The last day of cover: set when a cancellation is scheduled, or when the policy ended.
    end_date = models.DateField(_("date de fin"), null=True, blank=True)
    cancel_requested_at = models.DateTimeField(_("résiliation demandée le"), null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True, db_index=True)
    stripe_checkout_session_id = models.CharField(max_length=80, blank=True)
    # ``created`` of the newest Stripe event applied to the status: older events never win.
    stripe_status_at = models.BigIntegerField(null=True, blank=True)
    source = models.CharField(
        _("origine"), max_length=10, choices=Source.choices, default=Source.ONLINE
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("contrat")
        verbose_name_plural = _("contrats")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.number


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


class PolicyInvoice(models.Model):
    """An invoice of a policy's subscription as Stripe last reported it, for the doctor's page."""

    policy = models.ForeignKey(
        Policy, verbose_name=_("contrat"), on_delete=models.CASCADE, related_name="invoices"
    )
    stripe_invoice_id = models.CharField(max_length=64, unique=True)
    number = models.CharField(_("numéro"), max_length=64, blank=True)
    status = models.CharField(_("statut"), max_length=20)
    amount_due_cents = models.IntegerField(_("montant dû (centimes)"), default=0)
    amount_paid_cents = models.IntegerField(_("montant payé (centimes)"), default=0)
    currency = models.CharField(max_length=3, default="eur")
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    invoice_pdf = models.URLField(max_length=500, blank=True)
    issued_at = models.DateTimeField(_("émise le"))
    stripe_event_at = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("facture")
        verbose_name_plural = _("factures")
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return self.number or self.stripe_invoice_id

    @property
    def amount_display(self) -> str:
        from cover.selectors import euros

        return euros(self.amount_due_cents)


class PortalOnboarding(models.Model):
    """The doctor's first steps after paying (portal checklist): what cannot be read from other
    rows (a prevention guide opened) and whether the doctor put the checklist away."""

    doctor = models.OneToOneField(
        Doctor, verbose_name=_("médecin"), on_delete=models.CASCADE, related_name="onboarding"
    )
    guide_read_at = models.DateTimeField(_("guide de prévention lu le"), null=True, blank=True)
    dismissed_at = models.DateTimeField(_("liste masquée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("premiers pas du médecin")
        verbose_name_plural = _("premiers pas des médecins")

    def __str__(self) -> str:
        return str(self.doctor)
