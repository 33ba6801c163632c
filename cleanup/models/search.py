"""The insurer's search API settings (provider, key, address) used for the results on
doctors' names, and the checks on them."""

from __future__ import annotations

import datetime
import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from cleanup.fetch import FetchError, url_check


def search_api_url_validate(url: str) -> None:
    """A search API address the key may be sent to: public addresses only, after DNS (plus the
    networks of EGIDE_FETCH_ALLOWED_NETWORKS, empty in production); a French error otherwise."""
    allowed = tuple(ipaddress.ip_network(n) for n in settings.EGIDE_FETCH_ALLOWED_NETWORKS)
    try:
        url_check(url=url, allowed_networks=allowed)
    except FetchError as exc:
        raise ValidationError(
            {"base_url": _("Adresse de l'API refusée : %(reason)s") % {"reason": exc}}
        ) from exc


# Google's Custom Search JSON API: closed to new customers, it stops on 1 January 2027
# (developers.google.com/custom-search/v1/overview). Kept for keys configured before.
GOOGLE_CSE_END = datetime.date(2027, 1, 1)


def google_cse_closed(*, today: datetime.date | None = None) -> bool:
    return (today or timezone.localdate()) >= GOOGLE_CSE_END


@register_setting(icon="search")
class SearchSettings(BaseSiteSetting):
    """The insurer's own search API (its key, its quota) used for the results on doctors'
    names. ``base_url`` overrides the provider's address (tests use a local fake)."""

    class Provider(models.TextChoices):
        NONE = "", _("Aucun (recherche désactivée)")
        BRAVE = "brave", _("Brave Search API")
        GOOGLE_CSE = (
            "google-cse",
            _(
                "Google Programmable Search (JSON API) — clés existantes seulement, arrêt le 1er "
                "janvier 2027"
            ),
        )

    provider = models.CharField(
        _("fournisseur"),
        max_length=20,
        choices=Provider.choices,
        blank=True,
        default=Provider.BRAVE,
        help_text=_(
            "Brave Search API par défaut. L'API JSON de Google Programmable Search est fermée aux "
            "nouveaux clients et s'arrête le 1er janvier 2027 : elle reste utilisable jusque-là "
            "avec une clé déjà configurée ici ; passez à Brave avant cette date."
        ),
    )
    api_key = models.CharField(_("clé d'API"), max_length=200, blank=True)
    cx = models.CharField(
        _("identifiant du moteur (cx)"),
        max_length=200,
        blank=True,
        help_text=_("Google Programmable Search uniquement."),
    )
    base_url = models.URLField(_("adresse de l'API (remplacement)"), blank=True)
    results_per_query = models.PositiveSmallIntegerField(_("résultats par requête"), default=20)

    panels = [
        FieldPanel("provider"),
        FieldPanel("api_key"),
        FieldPanel("cx"),
        FieldPanel("base_url"),
        FieldPanel("results_per_query"),
    ]

    class Meta:
        verbose_name = _("moteur de recherche (veille)")

    def clean(self) -> None:
        super().clean()
        if self.provider and not self.api_key:
            raise ValidationError({"api_key": _("La clé d'API est obligatoire.")})
        if self.provider == self.Provider.GOOGLE_CSE:
            saved = (
                SearchSettings.objects.filter(pk=self.pk).values_list("provider", flat=True).first()
                if self.pk
                else None
            )
            if google_cse_closed():
                raise ValidationError(
                    {"provider": _("L'API de Google Programmable Search s'est arrêtée le 1er "
                                   "janvier 2027 : choisissez Brave Search API.")}
                )  # fmt: skip
            if saved != self.Provider.GOOGLE_CSE:
                raise ValidationError(
                    {"provider": _("Google Programmable Search n'accepte plus de nouveaux clients "
                                   "(arrêt le 1er janvier 2027) : choisissez Brave Search API.")}
                )  # fmt: skip
        if self.provider == self.Provider.GOOGLE_CSE and not self.cx:
            raise ValidationError({"cx": _("L'identifiant cx est obligatoire pour Google.")})
        if self.base_url:
            search_api_url_validate(self.base_url)
