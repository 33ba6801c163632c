"""Evidence records of an insurer: its seal, its captures, their custody log and share links.

Everything lives in the insurer's schema. The bundle files themselves are on write-once storage
(``evidence.storage``); the database keeps what is needed to find and check them (the tag-manifest
hash is the bundle's fingerprint) — verification always re-reads the files.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from evidence.storage import WriteOnceTenantStorage


class SealKey(models.Model):
    """The insurer's electronic seal (CMS signature over every bundle's tag manifest).

    Generated at onboarding (``evidence_provision``). The private key is stored in the tenant
    schema as PEM, NOT encrypted at rest: encrypting it (KMS/HSM) is out of scope for now.
    """

    organisation = models.CharField(_("organisation"), max_length=200)
    key_pem = models.TextField(_("clé privée (PEM, non chiffrée)"))
    cert_pem = models.TextField(_("certificat du cachet (PEM)"))
    ca_cert_pem = models.TextField(_("certificat de l'autorité du cachet (PEM)"))
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("clé de cachet")
        verbose_name_plural = _("clés de cachet")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.created_at:%Y-%m-%d})"


class Capture(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("En attente")
        RUNNING = "running", _("En cours")
        COMPLETE = "complete", _("Terminée")
        FAILED = "failed", _("Échec")

    url = models.URLField(_("adresse capturée"), max_length=2000)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("demandée par"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence_captures",
        help_text=_("Vide : demandée en ligne de commande."),
    )
    reason = models.TextField(_("motif"), blank=True)
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("avancement (%)"), default=0)
    step = models.CharField(_("étape"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    error = models.TextField(_("motif de l'échec"), blank=True)
    http_status = models.PositiveSmallIntegerField(_("statut HTTP"), null=True, blank=True)
    page_error = models.TextField(_("erreur de la page"), blank=True)
    final_url = models.URLField(_("adresse finale"), max_length=2000, blank=True)
    page_title = models.CharField(_("titre de la page"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("demandée le"), auto_now_add=True)
    started_at = models.DateTimeField(_("commencée le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    bundle = models.FileField(
        _("lot de preuve"), storage=WriteOnceTenantStorage(), max_length=300, blank=True
    )
    tagmanifest_sha256 = models.CharField(_("empreinte du tagmanifest"), max_length=64, blank=True)
    zip_sha256 = models.CharField(_("empreinte de l'archive"), max_length=64, blank=True)
    gen_time = models.DateTimeField(_("date de l'horodatage"), null=True, blank=True)
    previous = models.ForeignKey(
        "self",
        verbose_name=_("capture précédente de la même adresse"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recaptures",
    )

    class Meta:
        verbose_name = _("capture")
        verbose_name_plural = _("captures")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("download_capture", _("Télécharger un lot de preuve")),
            ("share_capture", _("Envoyer un lot de preuve par lien")),
        ]
        indexes = [models.Index(fields=["url", "-created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.url}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETE, self.Status.FAILED)


class CustodyEvent(models.Model):
    """One link of a capture's chain of custody; each holds the hash of the one before."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", _("Demandée")
        STARTED = "started", _("Commencée")
        COMPLETED = "completed", _("Terminée")
        FAILED = "failed", _("Échec")
        VIEWED = "viewed", _("Consultée")
        DOWNLOADED = "downloaded", _("Téléchargée")
        SHARED = "shared", _("Envoyée par lien")
        LINK_OPENED = "link-opened", _("Lien ouvert")

    capture = models.ForeignKey(Capture, on_delete=models.PROTECT, related_name="custody")
    seq = models.PositiveIntegerField(_("n°"))
    kind = models.CharField(_("événement"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("date"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("utilisateur"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("acteur"), max_length=254)
    detail = models.JSONField(_("détails"), default=dict, blank=True)
    prev_hash = models.CharField(_("empreinte précédente"), max_length=64, blank=True)
    hash = models.CharField(_("empreinte"), max_length=64)

    class Meta:
        verbose_name = _("événement de la chaîne de possession")
        verbose_name_plural = _("chaîne de possession")
        ordering = ["capture", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["capture", "seq"], name="evidence_custody_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.capture_id}#{self.seq} {self.kind}"


class ShareLink(models.Model):
    """An expiring link that lets one recipient (e.g. a commissaire de justice) fetch a bundle."""

    capture = models.ForeignKey(Capture, on_delete=models.PROTECT, related_name="share_links")
    recipient_email = models.EmailField(_("destinataire"))
    nonce = models.CharField(max_length=32, unique=True)
    expires_at = models.DateTimeField(_("expire le"))
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("envoyé par"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    opened_at = models.DateTimeField(_("ouvert le"), null=True, blank=True)
    downloads = models.PositiveIntegerField(_("téléchargements"), default=0)

    class Meta:
        verbose_name = _("lien de partage")
        verbose_name_plural = _("liens de partage")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.recipient_email} → {self.capture_id}"
