"""Insurers (tenants) and their domains, in the public schema.

Each insurer owns a PostgreSQL schema holding its Wagtail site, users and data. An insurer is
usable only once onboarding has finished every step (``status == READY``); a failed onboarding
removes the row and the schema, so a half-made tenant never exists.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class StripeAccountStatus(models.TextChoices):
    MISSING = "missing", _("À créer")
    ONBOARDING = "onboarding", _("Créé, activation en attente")
    ACTIVE = "active", _("Actif")


class Insurer(TenantMixin):
    class Status(models.TextChoices):
        PROVISIONING = "provisioning", _("En cours de création")
        READY = "ready", _("Prêt")
        SUSPENDED = "suspended", _("Suspendu")

    name = models.CharField(_("nom"), max_length=200)
    status = models.CharField(
        _("statut"), max_length=20, choices=Status.choices, default=Status.PROVISIONING
    )
    contact_email = models.EmailField(_("e-mail de l'administrateur"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    ready_at = models.DateTimeField(_("prêt le"), null=True, blank=True)
    # The insurer's Stripe connected account (its doctors pay the insurer through it). Created
    # right after onboarding, or later if Stripe was unreachable: see tenants.billing.
    stripe_account_id = models.CharField(_("compte Stripe"), max_length=64, blank=True)
    stripe_account_status = models.CharField(
        _("état du compte Stripe"),
        max_length=20,
        choices=StripeAccountStatus.choices,
        default=StripeAccountStatus.MISSING,
    )
    stripe_account_error = models.TextField(_("dernière erreur Stripe"), blank=True)

    # Schemas are created explicitly by the onboarding service, which also cleans up on failure.
    auto_create_schema = False
    auto_drop_schema = True

    class Meta:
        verbose_name = _("assureur")
        verbose_name_plural = _("assureurs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domaine")
        verbose_name_plural = _("domaines")

    def __str__(self) -> str:
        return self.domain


class PlatformPlan(models.Model):
    """What an insurer pays Égide: a monthly fee, usage beyond what is included, hard limits.

    Amounts are in euro cents. Usage is billed through Stripe billing meters: insured doctors
    beyond ``included_doctors`` (last value of the period) and captures beyond
    ``included_captures`` per calendar month. ``max_*`` are hard limits enforced by
    ``tenants.limits.platform_limit_check`` (empty = unlimited).
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("nom"), max_length=100)
    monthly_price_cents = models.PositiveIntegerField(_("abonnement mensuel (centimes)"))
    included_doctors = models.PositiveIntegerField(_("médecins inclus"), default=0)
    doctor_price_cents = models.PositiveIntegerField(
        _("prix par médecin au-delà (centimes)"), default=0
    )
    included_captures = models.PositiveIntegerField(_("constats inclus par mois"), default=0)
    capture_price_cents = models.PositiveIntegerField(
        _("prix par constat au-delà (centimes)"), default=0
    )
    max_doctors = models.PositiveIntegerField(_("limite de médecins"), null=True, blank=True)
    max_captures_per_month = models.PositiveIntegerField(
        _("limite de constats par mois"), null=True, blank=True
    )
    # Cached Stripe ids of the platform catalogue (found again by lookup key if emptied).
    stripe_product_id = models.CharField(max_length=64, blank=True)
    stripe_price_base_id = models.CharField(max_length=64, blank=True)
    stripe_price_doctors_id = models.CharField(max_length=64, blank=True)
    stripe_price_captures_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("formule plateforme")
        verbose_name_plural = _("formules plateforme")
        ordering = ["monthly_price_cents", "name"]

    def __str__(self) -> str:
        return self.name


class InsurerSubscription(models.Model):
    """An insurer's subscription to Égide on the platform's Stripe account.

    Its status is copied from Stripe's subscription, re-read on every related event, so the
    order in which webhooks arrive does not matter.
    """

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", _("En attente de paiement")
        ACTIVE = "active", _("Actif")
        PAST_DUE = "past_due", _("Impayé")
        CANCELED = "canceled", _("Résilié")

    insurer = models.OneToOneField(
        Insurer,
        verbose_name=_("assureur"),
        on_delete=models.CASCADE,
        related_name="platform_subscription",
    )
    plan = models.ForeignKey(
        PlatformPlan,
        verbose_name=_("formule"),
        on_delete=models.PROTECT,
        related_name="subscriptions",
    )
    status = models.CharField(
        _("statut"), max_length=20, choices=Status.choices, default=Status.INCOMPLETE
    )
    stripe_customer_id = models.CharField(_("client Stripe"), max_length=64, db_index=True)
    stripe_subscription_id = models.CharField(_("abonnement Stripe"), max_length=64, blank=True)
    stripe_checkout_session_id = models.CharField(max_length=80, blank=True)
    checkout_url = models.URLField(_("lien de paiement"), max_length=500, blank=True)
    current_period_end = models.DateTimeField(_("fin de période"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    class Meta:
        verbose_name = _("abonnement plateforme")
        verbose_name_plural = _("abonnements plateforme")

    def __str__(self) -> str:
        return f"{self.insurer} — {self.plan}"


class UsageReport(models.Model):
    """One usage figure of one insurer for one day, as sent to a Stripe billing meter.

    ``quantity`` is what was counted (doctors insured at the end of the day, captures made that
    day); ``billable`` is what was sent (the part beyond the plan's inclusion). The row is
    written before sending and reused on retries, so Stripe gets the first figure once: its
    ``identifier`` makes Stripe refuse a second copy.
    """

    class Meter(models.TextChoices):
        DOCTORS = "doctors", _("Médecins assurés")
        CAPTURES = "captures", _("Constats")

    insurer = models.ForeignKey(
        Insurer, verbose_name=_("assureur"), on_delete=models.CASCADE, related_name="usage"
    )
    meter = models.CharField(_("compteur"), max_length=20, choices=Meter.choices)
    day = models.DateField(_("jour"))
    quantity = models.PositiveIntegerField(_("quantité"))
    billable = models.PositiveIntegerField(_("facturable"))
    identifier = models.CharField(_("identifiant Stripe"), max_length=120, unique=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)

    class Meta:
        verbose_name = _("relevé d'usage")
        verbose_name_plural = _("relevés d'usage")
        ordering = ["-day", "meter"]
        constraints = [
            models.UniqueConstraint(
                fields=["insurer", "meter", "day"], name="usage_report_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.insurer} {self.meter} {self.day}: {self.quantity}"


class StripeEvent(models.Model):
    """Every verified Stripe event, once: the id is the primary key.

    A duplicate delivery finds the row and does nothing more; ``schema`` records where the
    event was routed (the insurer's schema for its connected account, ``public`` for the
    platform), and the processing job refuses to apply it anywhere else.
    """

    id = models.CharField(_("identifiant"), max_length=80, primary_key=True)
    type = models.CharField(_("type"), max_length=100)
    account = models.CharField(_("compte"), max_length=64, blank=True)
    schema = models.CharField(_("schéma"), max_length=63, blank=True)
    payload = models.JSONField(_("contenu"))
    received_at = models.DateTimeField(_("reçu le"), default=timezone.now)
    processed_at = models.DateTimeField(_("traité le"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("tentatives"), default=0)
    error = models.TextField(_("erreur"), blank=True)

    class Meta:
        verbose_name = _("événement Stripe")
        verbose_name_plural = _("événements Stripe")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.id} ({self.type})"
