"""The insured side: doctors, their policies, the policies' invoices and the doctor's first
steps in the portal.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from common.formatting import euros
from cover.models.plans import PlanVersion


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
