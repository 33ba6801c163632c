"""The DOMAIN §6.2 compliance check of a watched review platform, with its SignalConso draft."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from cleanup.models.watch import WatchedPage


class ComplianceCheck(models.Model):
    """Flags F1–F12 of DOMAIN §6.2 computed for a watched review platform at one date, with the
    SignalConso draft (§6.3) listing the failures. Each flag is a finding for a person to
    confirm on screen before anything is filed."""

    page = models.ForeignKey(
        WatchedPage, verbose_name=_("page"), on_delete=models.CASCADE, related_name="checks"
    )
    checked_at = models.DateTimeField(_("vérifiée le"))
    section_url = models.URLField(_("rubrique sur les avis"), max_length=1000, blank=True)
    legal_url = models.URLField(_("mentions légales"), max_length=1000, blank=True)
    results = models.JSONField(_("résultats"), default=list)
    company = models.JSONField(_("entreprise"), default=dict, blank=True)
    signalconso = models.JSONField(_("signalement SignalConso pré-rempli"), default=dict)
    error = models.TextField(_("erreur"), blank=True)

    class Meta:
        verbose_name = _("contrôle de conformité")
        verbose_name_plural = _("contrôles de conformité")
        ordering = ["-checked_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.page} — {self.checked_at:%d/%m/%Y}"

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r["status"] == "fail"]
