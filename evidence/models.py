"""Evidence records of an insurer: its seal, its captures, their custody log and share links.

Everything lives in the insurer's schema. The bundle files themselves are on write-once storage
(``evidence.storage``); the database keeps what is needed to find and check them (the tag-manifest
hash is the bundle's fingerprint) — verification always re-reads the files.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from evidence.settings_models import EvidenceSettings  # noqa: F401 — registered setting
from evidence.storage import WriteOnceTenantStorage


class SealKey(models.Model):
    """The insurer's electronic seal (CMS signature over every bundle's tag manifest).

    Either issued by the platform's own CA at onboarding (``evidence_provision``) or a qualified
    seal the insurer imported as PKCS#12 (``evidence.seals.seal_import``); the newest one seals
    new bundles. The private key is never stored in clear: it is encrypted with a data key of
    its own, itself wrapped by a master key kept outside the database (``common.keys``).
    ``seal_private_key_pem`` gives it back, in memory only.
    """

    class Origin(models.TextChoices):
        PLATFORM = "platform", _("délivré par la plateforme")
        IMPORTED = "imported", _("cachet qualifié importé")

    organisation = models.CharField(_("organisation"), max_length=200)
    origin = models.CharField(
        _("origine"), max_length=10, choices=Origin.choices, default=Origin.PLATFORM
    )
    key_ciphertext = models.BinaryField(_("clé privée chiffrée"))
    data_key_wrapped = models.BinaryField(_("clé de données chiffrée par la clé maîtresse"))
    master_key_id = models.CharField(_("identifiant de la clé maîtresse"), max_length=16)
    cert_pem = models.TextField(_("certificat du cachet (PEM)"))
    ca_cert_pem = models.TextField(
        _("chaîne de l'autorité du cachet (PEM)"),
        help_text=_("Certificats intermédiaires puis racine, à qui se fier pour vérifier."),
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("importé par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("clé de cachet")
        verbose_name_plural = _("clés de cachet")
        ordering = ["-created_at", "-pk"]

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
        RENEWED = "renewed", _("Horodatage renouvelé")

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


class CustodyLogEntry(models.Model):
    """One link of the insurer's custody log: every custody event of every capture (and events
    not tied to a capture), numbered without gaps across the whole insurer, each holding the
    hash of the one before (``evidence.custody_log``).

    Append-only: a database trigger refuses UPDATE and DELETE on the table. The capture and
    the actor are kept by id without a database constraint, so that the log outlives any row
    it mentions (its labels and hashes keep what was recorded).
    """

    seq = models.PositiveBigIntegerField(_("maillon n°"), unique=True)
    at = models.DateTimeField(_("date"))
    kind = models.CharField(_("événement"), max_length=30)
    capture = models.ForeignKey(
        Capture,
        verbose_name=_("capture"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    capture_seq = models.PositiveIntegerField(_("n° dans la chaîne de la capture"), null=True)
    event_hash = models.CharField(_("empreinte de l'événement"), max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("utilisateur"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("acteur"), max_length=254)
    detail = models.JSONField(_("détails"), default=dict, blank=True)
    prev_hash = models.CharField(_("empreinte précédente"), max_length=64)
    hash = models.CharField(_("empreinte"), max_length=64)

    class Meta:
        verbose_name = _("maillon du journal de possession")
        verbose_name_plural = _("journal de possession")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["capture", "capture_seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"


class EvidenceRenewal(models.Model):
    """One link of a bundle's timestamp renewal chain (``evidence.renewal``, RFC 4998 spirit).

    The files are next to the bundle on write-once storage; the row is written only after all
    of them, so a row always has its files. Verification re-reads the files, never this row.
    """

    class Reason(models.TextChoices):
        TSA_EXPIRY = "tsa-expiry", _("Certificat de l'autorité d'horodatage bientôt expiré")
        WEAK_ALGORITHM = "weak-algorithm", _("Algorithme affaibli")
        FORCED = "forced", _("Renouvellement demandé")

    capture = models.ForeignKey(Capture, on_delete=models.PROTECT, related_name="renewals")
    seq = models.PositiveIntegerField(_("n°"))
    reason = models.CharField(_("motif"), max_length=20, choices=Reason.choices)
    detail = models.TextField(_("précisions"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    record_name = models.CharField(_("fichier du renouvellement"), max_length=300)
    token_name = models.CharField(_("jeton d'horodatage"), max_length=300)
    tsa_cert_name = models.CharField(_("certificat de l'autorité"), max_length=300)
    tsa_ca_name = models.CharField(_("certificat racine de l'autorité"), max_length=300)
    record_sha256 = models.CharField(_("empreinte du fichier"), max_length=64)
    hash_algorithm = models.CharField(_("algorithme d'empreinte"), max_length=10)
    gen_time = models.DateTimeField(_("date de l'horodatage"))
    tsa_not_after = models.DateTimeField(_("fin de validité du certificat de l'autorité"))

    class Meta:
        verbose_name = _("renouvellement d'horodatage")
        verbose_name_plural = _("renouvellements d'horodatage")
        ordering = ["capture", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["capture", "seq"], name="evidence_renewal_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.capture_id} renouvellement {self.seq}"
