"""Google Places API (New): places a doctor follows without owning them (a practice page on
Google Maps), the reviews the API returns and the rating over time.

Why: most French patients read a doctor's reviews on Google Maps. When the doctor does not
manage the Business Profile (``cleanup.google``), the Places API is the lawful way in: it gives
the place's rating, its number of reviews and at most five reviews chosen by Google.

Caching (Places API policies, Google Maps Platform Terms §3.2.3 and Service Specific Terms):
the place ID is exempt from caching restrictions and is kept as long as the place is followed.
Other Google Maps content is kept only as long as the terms allow: review texts, authors and
links are blanked ``CONTENT_MAX_DAYS`` after they were last returned (a fingerprint stays, so a
review seen again is not reported as new), and the place's name, address and link are fetched
again at every scan. Rating points (one number and one count per scan) are kept to draw the
trend the guarantee promises; see ``cleanup.places.services`` for the purge.

The insurer's API key is stored encrypted (envelope encryption of ``common.keys``).
"""

from __future__ import annotations

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

CONTENT_MAX_DAYS = 30


class PlacesSettingsForm(WagtailAdminModelForm):
    """The key is typed, never shown back; an empty field keeps the saved key."""

    api_key = forms.CharField(
        label=_("clé API Google Maps Platform"),
        required=False,
        strip=True,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Clé d'un projet Google Cloud où « Places API (New) » est activée. "
            "Laissez vide pour conserver la clé enregistrée."
        ),
    )

    def save(self, commit: bool = True):
        instance = super().save(commit=False)
        key = self.cleaned_data.get("api_key") or ""
        if commit:
            instance.save()
            if key:
                from cleanup.places.services import places_api_key_store  # lazy: models ↔ services

                places_api_key_store(conf=instance, api_key=key)
        return instance


@register_setting(icon="site")
class PlacesSettings(BaseSiteSetting):
    """The insurer's Google Maps Platform key for Places API (New), stored encrypted."""

    enabled = models.BooleanField(_("activer le suivi des fiches Google Maps"), default=False)
    key_ciphertext = models.BinaryField(_("clé chiffrée"), null=True, blank=True, editable=False)
    key_data_key = models.BinaryField(
        _("clé de données chiffrée"), null=True, blank=True, editable=False
    )
    key_master_id = models.CharField(_("clé maîtresse"), max_length=32, blank=True, editable=False)

    base_form_class = PlacesSettingsForm
    panels = [FieldPanel("enabled"), FieldPanel("api_key")]

    class Meta:
        verbose_name = _("Google Maps (Places API)")

    @property
    def has_key(self) -> bool:
        return bool(self.key_ciphertext)

    @property
    def configured(self) -> bool:
        return self.enabled and self.has_key


class FollowedPlace(models.Model):
    """A Google Maps place the doctor follows (chosen among Text Search results)."""

    doctor = models.ForeignKey(
        "cover.Doctor",
        verbose_name=_("médecin"),
        on_delete=models.CASCADE,
        related_name="followed_places",
    )
    place_id = models.CharField(_("identifiant Google (place ID)"), max_length=300)
    display_name = models.CharField(_("nom"), max_length=300, blank=True)
    formatted_address = models.CharField(_("adresse"), max_length=500, blank=True)
    google_maps_uri = models.URLField(_("lien Google Maps"), max_length=1000, blank=True)
    rating = models.FloatField(_("note moyenne"), null=True, blank=True)
    user_rating_count = models.PositiveIntegerField(_("nombre d'avis"), null=True, blank=True)
    created_at = models.DateTimeField(_("suivie depuis le"), auto_now_add=True)
    details_fetched_at = models.DateTimeField(_("fiche lue le"), null=True, blank=True)
    reviews_read_at = models.DateTimeField(_("avis lus le"), null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)

    class Meta:
        verbose_name = _("fiche Google Maps suivie")
        verbose_name_plural = _("fiches Google Maps suivies")
        ordering = ["display_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["doctor", "place_id"], name="places_followed_unique")
        ]

    def __str__(self) -> str:
        return self.display_name or self.place_id

    @property
    def resource_name(self) -> str:
        return f"places/{self.place_id}"


class PlaceReview(models.Model):
    """A review as returned by Place Details. ``fingerprint`` (SHA-256 of rating and text)
    outlives the content, which is blanked after ``CONTENT_MAX_DAYS``."""

    place = models.ForeignKey(FollowedPlace, on_delete=models.CASCADE, related_name="reviews")
    name = models.CharField(_("identifiant Google"), max_length=500)  # places/…/reviews/…
    fingerprint = models.CharField(_("empreinte"), max_length=64)
    author_name = models.CharField(_("auteur"), max_length=300, blank=True)
    author_uri = models.URLField(_("profil de l'auteur"), max_length=1000, blank=True)
    rating = models.FloatField(_("note"), null=True, blank=True)
    text = models.TextField(_("texte"), blank=True)
    language_code = models.CharField(_("langue"), max_length=20, blank=True)
    publish_time = models.CharField(_("publié le (Google)"), max_length=40, blank=True)
    relative_time = models.CharField(_("ancienneté (Google)"), max_length=100, blank=True)
    google_maps_uri = models.URLField(_("lien de l'avis"), max_length=1000, blank=True)
    flag_content_uri = models.URLField(
        _("lien de signalement à Google"), max_length=1000, blank=True
    )
    first_seen = models.DateTimeField(_("vu pour la première fois"))
    last_seen = models.DateTimeField(_("vu pour la dernière fois"))
    content_purged_at = models.DateTimeField(_("contenu effacé le"), null=True, blank=True)
    alert = models.ForeignKey(
        "cleanup.Alert",
        verbose_name=_("dernière alerte"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("avis Google Maps")
        verbose_name_plural = _("avis Google Maps")
        ordering = ["-publish_time", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["place", "name"], name="places_review_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.author_name or _('Auteur')} — {self.text[:60]}"


class PlaceRatingPoint(models.Model):
    """The rating and number of reviews Google gave at one scan (for the trend chart)."""

    place = models.ForeignKey(FollowedPlace, on_delete=models.CASCADE, related_name="rating_points")
    scan = models.ForeignKey(
        "cleanup.Scan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("relevé le"))
    rating = models.FloatField(_("note moyenne"), null=True, blank=True)
    count = models.PositiveIntegerField(_("nombre d'avis"), null=True, blank=True)

    class Meta:
        verbose_name = _("relevé de note Google Maps")
        verbose_name_plural = _("relevés de note Google Maps")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.place} — {self.at:%d/%m/%Y} : {self.rating} ({self.count})"
