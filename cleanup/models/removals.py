"""GDPR and de-referencing requests sent from an alert (DOMAIN §4.3–4.4), with their answer
window."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cleanup.models.scans import Alert
from cleanup.models.watch import WatchProfile


class RemovalRequest(models.Model):
    """A GDPR objection/erasure to a listing site (DOMAIN §4.3) or a de-referencing request to
    a search engine (§4.4), with the controller's 1-month (+2) answer window (GDPR art. 12(3))
    and the CNIL complaint proposed once it has passed without a satisfying answer."""

    class Kind(models.TextChoices):
        GDPR_LISTING = "gdpr_listing", _("Opposition et effacement (RGPD) auprès du site")
        DEREFERENCING = "dereferencing", _("Déréférencement auprès du moteur de recherche")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        SENT = "sent", _("Envoyée")
        EXTENDED = "extended", _("Délai prolongé par le responsable")
        GRANTED = "granted", _("Accordée")
        REFUSED = "refused", _("Refusée")
        OVERDUE = "overdue", _("Sans réponse dans le délai")
        CANCELLED = "cancelled", _("Annulée")

    profile = models.ForeignKey(
        WatchProfile, verbose_name=_("profil"), on_delete=models.CASCADE, related_name="requests"
    )
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    recipient_name = models.CharField(_("destinataire"), max_length=300)
    recipient_address = models.TextField(_("adresse du destinataire ou de son DPO"))
    urls = models.JSONField(_("adresses concernées"), default=list)
    data_concerned = models.TextField(_("données concernées"), blank=True)
    grounds = models.JSONField(_("motifs"), default=list)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    sent_on = models.DateField(_("envoyée le"), null=True, blank=True)
    received_on = models.DateField(_("reçue par le destinataire le"), null=True, blank=True)
    extension_notified_on = models.DateField(_("prolongation notifiée le"), null=True, blank=True)
    due_on = models.DateField(_("réponse attendue au plus tard le"), null=True, blank=True)
    answered_on = models.DateField(_("réponse reçue le"), null=True, blank=True)
    cnil_proposed_on = models.DateField(_("plainte CNIL proposée le"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("demande de suppression")
        verbose_name_plural = _("demandes de suppression")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.recipient_name}"
