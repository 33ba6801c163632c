"""The insurer's offer: plans with their guarantees as structured data, the immutable plan
versions sold, and the frozen copies of their general conditions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.models import (
    DraftStateMixin,
    LockableMixin,
    PreviewableMixin,
    RevisionMixin,
    WorkflowMixin,
)

from cover.terms import (
    DECLARATION_DELAY_UNITS,
    TERRITORY_FRANCE,
    TERRITORY_LABELS,
    TERRITORY_WORLD,
    declaration_delay_parse,
    declaration_delay_text,
    territory_scope_parse,
)


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
    ``PlanVersion`` holding the terms as they were (see ``cover.services.site.plan_version_current``).
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
        from cover.selectors import plans_comparison  # lazy: models ↔ selectors

        return {"plan": self, "plans": [self], "comparison": plans_comparison(plans=[self])}


def _review_note_add(note: str, what: Any, text: str) -> str:
    line = f"{what} : « {text} »"
    return f"{note}\n{line}" if note else line


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
