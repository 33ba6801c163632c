"""The insurer's evidence settings (Wagtail « Paramètres »): how long bundles are kept.

The retention is the Object Lock retain-until date of every bundle written to S3 storage
(``evidence.storage_s3``): once written, nobody — the insurer, Égide or the cloud provider's
root account — can remove the bundle before that date (COMPLIANCE mode). It only applies to
bundles written after a change; locks already set are never shortened.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

# Article 2224 du Code civil: civil actions are time-barred five years after the holder knew
# (or should have known) the facts; below that, evidence could vanish while a suit is possible.
RETENTION_MIN_YEARS = 5
RETENTION_MAX_YEARS = 30
RETENTION_DEFAULT_YEARS = 6


@register_setting(icon="lock")
class EvidenceSettings(BaseSiteSetting):
    retention_years = models.PositiveSmallIntegerField(
        _("Durée de conservation des preuves (années)"),
        default=RETENTION_DEFAULT_YEARS,
        validators=[
            MinValueValidator(RETENTION_MIN_YEARS),
            MaxValueValidator(RETENTION_MAX_YEARS),
        ],
        help_text=_(
            "Chaque lot de preuve est verrouillé en écriture unique jusqu'à cette échéance : "
            "personne ne peut le modifier ni le supprimer avant. Au moins 5 ans, délai de "
            "prescription de droit commun des actions civiles (article 2224 du Code civil) ; "
            "au plus 30 ans. Un changement vaut pour les lots écrits ensuite."
        ),
    )

    class Meta:
        verbose_name = _("conservation des preuves")


def evidence_retention_years() -> int:
    """The current insurer's retention, read from its default site's settings (6 if unset)."""
    years = (
        EvidenceSettings.objects.filter(site__is_default_site=True)
        .values_list("retention_years", flat=True)
        .first()
    )
    if years is None:
        return RETENTION_DEFAULT_YEARS
    return max(RETENTION_MIN_YEARS, min(RETENTION_MAX_YEARS, int(years)))
