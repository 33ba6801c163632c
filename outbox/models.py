"""One row per piece of background work that must not be lost (a capture, for instance).

A shared (public-schema) table with the schema each row belongs to, rather than one table per
insurer: django-tenants puts ``public`` on every tenant connection's search path, so the row
is written in the same transaction as the tenant's own rows; the relay reads one table instead
of visiting every schema every few seconds; and per-insurer fairness needs a view across
insurers. No tenant-facing view reads this table except through ``outbox.selectors``, which
always filters on the current schema.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("À envoyer")
        SENT = "sent", _("Envoyé")
        DONE = "done", _("Traité")

    schema_name = models.CharField(_("schéma"), max_length=63)
    key = models.CharField(_("clé"), max_length=120, help_text=_("Ex. evidence.capture:12"))
    actor_name = models.CharField(_("tâche"), max_length=120)
    queue_name = models.CharField(_("file"), max_length=60)
    kwargs = models.JSONField(_("arguments"), default=dict)
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    message_id = models.CharField(_("dernier message"), max_length=64, blank=True)
    sends = models.PositiveIntegerField(_("envois"), default=0)
    last_error = models.TextField(_("dernière erreur d'envoi"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    done_at = models.DateTimeField(_("traité le"), null=True, blank=True)
    # The delivery being processed and its last sign of life (a worker thread refreshes it):
    # a stale heartbeat means the worker died mid-work.
    lease_message_id = models.CharField(_("message en cours"), max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(_("dernier signe de vie"), null=True, blank=True)

    class Meta:
        verbose_name = _("travail en attente d'envoi")
        verbose_name_plural = _("travaux en attente d'envoi")
        constraints = [
            models.UniqueConstraint(fields=["schema_name", "key"], name="outbox_schema_key_uniq")
        ]
        indexes = [models.Index(fields=["status", "queue_name", "id"], name="outbox_status_q")]

    def __str__(self) -> str:
        return f"{self.schema_name}:{self.key} ({self.status})"
