"""What a doctor's monitoring looks for: the names and keywords (``WatchProfile``), the pages
fetched at each scan (``WatchedPage``) and the queries typed on the doctor's name
(``SearchQuery``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cleanup.platforms import PLATFORM_PROFILES


class WatchProfile(models.Model):
    """What to look for about one doctor: the names people type, the practice, the keywords.

    The number of keywords and watched pages is bounded by the doctor's plan (checked in
    ``cleanup.services.watch``, where the policy in force is known)."""

    doctor = models.OneToOneField(
        "cover.Doctor",
        verbose_name=_("médecin"),
        on_delete=models.CASCADE,
        related_name="watch_profile",
    )
    name_variants = models.JSONField(_("variantes du nom"), default=list, blank=True)
    practice_name = models.CharField(_("nom du cabinet"), max_length=200, blank=True)
    city = models.CharField(_("ville"), max_length=120, blank=True)
    specialty = models.CharField(_("spécialité"), max_length=120, blank=True)
    keywords = models.JSONField(_("mots-clés"), default=list, blank=True)
    last_scan_at = models.DateTimeField(_("dernière veille"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("profil de veille")
        verbose_name_plural = _("profils de veille")

    def __str__(self) -> str:
        return str(self.doctor)


def platform_choices() -> list[tuple[str, str]]:
    """One per profile file of ``cleanup/platforms/profiles``: a callable, so that a new
    platform file needs no migration."""
    return [("", str(_("Détection automatique")))] + [
        (key, profile.name) for key, profile in PLATFORM_PROFILES.items()
    ]


PLATFORM_CHOICES = platform_choices()


class WatchedPage(models.Model):
    """A page about the doctor that is fetched at each scan: a listing on a review platform, a
    directory entry, a business page. ``needs_js`` sends it straight to a browser."""

    profile = models.ForeignKey(
        WatchProfile, verbose_name=_("profil"), on_delete=models.CASCADE, related_name="pages"
    )
    url = models.URLField(_("adresse de la page"), max_length=1000)
    label = models.CharField(_("libellé"), max_length=200, blank=True)
    platform = models.CharField(
        _("plateforme"), max_length=40, choices=platform_choices, blank=True
    )
    needs_js = models.BooleanField(_("nécessite JavaScript"), default=False)
    last_fetched_at = models.DateTimeField(_("dernière lecture"), null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    created_at = models.DateTimeField(_("ajoutée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("page surveillée")
        verbose_name_plural = _("pages surveillées")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "url"], name="watched_page_unique_url")
        ]

    def __str__(self) -> str:
        return self.label or self.url


class SearchQuery(models.Model):
    """One query typed on the doctor's name; its result ranks are recorded at each scan."""

    profile = models.ForeignKey(
        WatchProfile, verbose_name=_("profil"), on_delete=models.CASCADE, related_name="queries"
    )
    text = models.CharField(_("requête"), max_length=300)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("requête surveillée")
        verbose_name_plural = _("requêtes surveillées")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "text"], name="search_query_unique_text")
        ]

    def __str__(self) -> str:
        return self.text
