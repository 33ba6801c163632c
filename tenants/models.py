"""Insurers (tenants) and their domains, in the public schema.

Each insurer owns a PostgreSQL schema holding its Wagtail site, users and data. An insurer is
usable only once onboarding has finished every step (``status == READY``); a failed onboarding
removes the row and the schema, so a half-made tenant never exists.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class Insurer(TenantMixin):
    class Status(models.TextChoices):
        PROVISIONING = "provisioning", _("En cours de création")
        READY = "ready", _("Prêt")
        SUSPENDED = "suspended", _("Suspendu")

    name = models.CharField(_("nom"), max_length=200)
    status = models.CharField(
        _("statut"), max_length=20, choices=Status.choices, default=Status.PROVISIONING
    )
    contact_email = models.EmailField(_("e-mail de l'administrateur"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    ready_at = models.DateTimeField(_("prêt le"), null=True, blank=True)

    # Schemas are created explicitly by the onboarding service, which also cleans up on failure.
    auto_create_schema = False
    auto_drop_schema = True

    class Meta:
        verbose_name = _("assureur")
        verbose_name_plural = _("assureurs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domaine")
        verbose_name_plural = _("domaines")

    def __str__(self) -> str:
        return self.domain
