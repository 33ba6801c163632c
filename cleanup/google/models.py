"""Google Business Profile: a doctor's connected Google account, its locations, their reviews
and the replies the doctor approved.

Why: Google reviews are where most patients read about a practice; the official API lets the
doctor see every review (not only what a page shows), be told of new, edited and deleted ones,
and publish a reply that went through the reply assistant (DOMAIN §5.3–5.4). OAuth tokens give
access to the doctor's Google account: they are stored encrypted (envelope encryption of
``common.keys``), never in clear. Everything lives in the insurer's schema.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting


@register_setting(icon="site")
class GoogleBusinessSettings(BaseSiteSetting):
    """The insurer's OAuth client (Google Cloud console, « Web application »). The secret is
    never shown back: leaving the field empty keeps the saved one."""

    client_id = models.CharField(_("identifiant client OAuth"), max_length=300, blank=True)
    client_secret = models.CharField(_("secret client OAuth"), max_length=300, blank=True)

    panels = [
        FieldPanel("client_id"),
        FieldPanel(
            "client_secret",
            widget=forms.PasswordInput(render_value=False),
            help_text=_("Laissez vide pour conserver le secret enregistré."),
        ),
    ]

    class Meta:
        verbose_name = _("Google Business Profile")

    def save(self, *args, **kwargs):
        if not self.client_secret and self.pk:
            previous = type(self).objects.filter(pk=self.pk).values_list("client_secret", flat=True)
            self.client_secret = previous.first() or ""
        super().save(*args, **kwargs)

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)


class GoogleConnection(models.Model):
    """One doctor's Google account. ``token_ciphertext`` holds the access token, refresh token
    and expiry (JSON) encrypted under a data key wrapped by the master key."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Connecté")
        REVOKED = "revoked", _("Révoquée — reconnectez")
        DISCONNECTED = "disconnected", _("Déconnecté")

    doctor = models.OneToOneField(
        "cover.Doctor",
        verbose_name=_("médecin"),
        on_delete=models.CASCADE,
        related_name="google_connection",
    )
    status = models.CharField(
        _("état"), max_length=15, choices=Status.choices, default=Status.ACTIVE
    )
    token_ciphertext = models.BinaryField(_("jetons chiffrés"), null=True, blank=True)
    data_key_wrapped = models.BinaryField(_("clé de données chiffrée"), null=True, blank=True)
    master_key_id = models.CharField(_("clé maîtresse"), max_length=32, blank=True)
    scopes = models.JSONField(_("autorisations"), default=list, blank=True)
    connected_at = models.DateTimeField(_("connecté le"), null=True, blank=True)
    last_scan_at = models.DateTimeField(_("dernière lecture"), null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    events = models.JSONField(_("journal"), default=list, blank=True)

    class Meta:
        verbose_name = _("connexion Google")
        verbose_name_plural = _("connexions Google")

    def __str__(self) -> str:
        return f"{self.doctor} — {self.get_status_display()}"

    @property
    def has_tokens(self) -> bool:
        return bool(self.token_ciphertext)


class GoogleLocation(models.Model):
    """A business location (établissement) of the connected account."""

    connection = models.ForeignKey(
        GoogleConnection, on_delete=models.CASCADE, related_name="locations"
    )
    account_name = models.CharField(_("compte"), max_length=200)  # accounts/123
    name = models.CharField(_("identifiant"), max_length=200)  # locations/456
    title = models.CharField(_("nom"), max_length=300, blank=True)
    maps_uri = models.URLField(_("adresse Google Maps"), max_length=1000, blank=True)
    average_rating = models.FloatField(_("note moyenne"), null=True, blank=True)
    total_reviews = models.PositiveIntegerField(_("nombre d'avis"), null=True, blank=True)
    active = models.BooleanField(_("présent dans le compte"), default=True)
    reviews_read_at = models.DateTimeField(_("avis lus le"), null=True, blank=True)

    class Meta:
        verbose_name = _("établissement Google")
        verbose_name_plural = _("établissements Google")
        ordering = ["title", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "name"], name="google_location_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.title or self.name

    @property
    def reviews_parent(self) -> str:
        """The v4 parent of its reviews: accounts/123/locations/456."""
        return f"{self.account_name}/{self.name}"


class GoogleReview(models.Model):
    """A review as read through the API, tracked across scans."""

    location = models.ForeignKey(GoogleLocation, on_delete=models.CASCADE, related_name="reviews")
    name = models.CharField(_("identifiant"), max_length=500)  # accounts/…/reviews/…
    review_id = models.CharField(_("identifiant court"), max_length=300)
    reviewer = models.CharField(_("auteur"), max_length=300, blank=True)
    star_rating = models.PositiveSmallIntegerField(_("note"), null=True, blank=True)
    comment = models.TextField(_("commentaire"), blank=True)
    create_time = models.CharField(_("créé le (Google)"), max_length=40, blank=True)
    update_time = models.CharField(_("modifié le (Google)"), max_length=40, blank=True)
    reply_comment = models.TextField(_("réponse publiée"), blank=True)
    reply_update_time = models.CharField(_("réponse modifiée le"), max_length=40, blank=True)
    first_seen = models.DateTimeField(_("vu pour la première fois"))
    last_seen = models.DateTimeField(_("vu pour la dernière fois"))
    deleted_at = models.DateTimeField(_("supprimé le"), null=True, blank=True)
    edits = models.JSONField(_("historique des modifications"), default=list, blank=True)
    alert = models.ForeignKey(
        "cleanup.Alert",
        verbose_name=_("dernière alerte"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("avis Google")
        verbose_name_plural = _("avis Google")
        ordering = ["-create_time", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "review_id"], name="google_review_unique_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reviewer or _('Anonyme')} — {self.comment[:60]}"


class GoogleReply(models.Model):
    """A reply from draft to publication: drafted by the assistant, checked, approved by the
    doctor himself, posted with ``updateReply``; deleted with ``deleteReply`` on request.
    ``events`` records each step (when, who, what)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        CHECKED = "checked", _("Vérifiée")
        REFUSED = "refused", _("Refusée par la vérification")
        APPROVED = "approved", _("Approuvée par le médecin")
        POSTED = "posted", _("Publiée")
        FAILED = "failed", _("Échec de publication")
        DELETED = "deleted", _("Supprimée")

    review = models.ForeignKey(GoogleReview, on_delete=models.CASCADE, related_name="replies")
    text = models.TextField(_("texte"))
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    issues = models.JSONField(_("problèmes relevés"), default=list, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approuvée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approuvée le"), null=True, blank=True)
    posted_at = models.DateTimeField(_("publiée le"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("supprimée le"), null=True, blank=True)
    error = models.TextField(_("erreur"), blank=True)
    events = models.JSONField(_("journal"), default=list, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("réponse Google")
        verbose_name_plural = _("réponses Google")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.review} — {self.get_status_display()}"
