"""The insurer's e-mail identity, its edited e-mail templates, and the notices waiting for a
digest (one row per notice, so that none is lost and none is sent twice)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, HelpPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.models import PreviewableMixin

from mailing.kinds import (
    MAIL_KIND_CHOICES,
    MAIL_KIND_VALUES,
    MAIL_KINDS,
    MailKind,
    mail_sample_context,
    placeholder,
)
from mailing.panels import DnsGuidancePanel
from mailing.rendering import MailTemplateInvalid, mail_template_check, mail_text_render


@register_setting(icon="mail")
class MailSettings(BaseSiteSetting):
    """Who the insurer's e-mails come from, and how often non-urgent notices are grouped."""

    sender_name = models.CharField(
        _("nom de l'expéditeur"),
        max_length=100,
        blank=True,
        help_text=_("Vide : le nom affiché de votre identité visuelle."),
    )
    sender_address = models.EmailField(
        _("adresse de l'expéditeur"),
        blank=True,
        help_text=_("Vide : no-reply@ suivi du domaine principal de votre site."),
    )
    reply_to = models.EmailField(
        _("adresse de réponse"),
        blank=True,
        help_text=_("Vide : l'e-mail de contact de votre identité visuelle, s'il est rempli."),
    )
    digest_period_minutes = models.PositiveIntegerField(
        _("intervalle des récapitulatifs (minutes)"),
        default=60,
        help_text=_(
            "Les nouvelles non urgentes d'un destinataire partent groupées en un seul e-mail, "
            "au plus une fois par intervalle."
        ),
    )
    urgent_deadline_days = models.PositiveIntegerField(
        _("délai urgent (jours)"),
        default=3,
        help_text=_(
            "Une nouvelle liée à un délai légal qui échoit dans ce nombre de jours part "
            "immédiatement, sans attendre le récapitulatif."
        ),
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel("sender_name"), FieldPanel("sender_address"), FieldPanel("reply_to")],
            heading=_("Expéditeur"),
        ),
        DnsGuidancePanel(heading=_("Enregistrements DNS à prévoir")),
        MultiFieldPanel(
            [FieldPanel("digest_period_minutes"), FieldPanel("urgent_deadline_days")],
            heading=_("Regroupement des e-mails"),
        ),
    ]

    class Meta:
        verbose_name = _("e-mails")

    def clean(self) -> None:
        super().clean()
        if self.digest_period_minutes < 5:
            raise ValidationError(
                {"digest_period_minutes": _("L'intervalle doit être d'au moins 5 minutes.")}
            )


def _placeholder_help() -> str:
    lines = []
    for kind, spec in MAIL_KINDS.items():
        names = ", ".join(placeholder(name) for name in spec.placeholders)
        lines.append(f"<li><strong>{spec.label}</strong> ({kind.value}) : {names}</li>")
    return (
        "<p>"
        + str(
            _(
                "Laissez l'objet ou le texte vide pour garder la rédaction par défaut. Champs "
                "disponibles selon le type d'e-mail ; le lien vers la page est ajouté à la fin "
                "s'il n'apparaît pas dans le texte :"
            )
        )
        + "</p><ul>"
        + "".join(lines)
        + "</ul>"
    )


class MailTemplate(PreviewableMixin, models.Model):
    """The insurer's wording of one kind of e-mail. Without a row (or with an empty field), the
    French default of ``mailing.kinds`` is used."""

    kind = models.CharField(
        _("type d'e-mail"), max_length=40, choices=MAIL_KIND_CHOICES, unique=True
    )
    subject = models.CharField(_("objet"), max_length=250, blank=True)
    body = models.TextField(_("texte"), blank=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    panels = [
        FieldPanel("kind"),
        FieldPanel("subject"),
        FieldPanel("body"),
        HelpPanel(content=_placeholder_help, heading=_("Champs disponibles")),
    ]

    class Meta:
        verbose_name = _("modèle d'e-mail")
        verbose_name_plural = _("modèles d'e-mail")
        ordering = ["kind"]

    def __str__(self) -> str:
        return (
            str(MAIL_KINDS[MailKind(self.kind)].label)
            if self.kind in MAIL_KIND_VALUES
            else self.kind
        )

    def effective_subject(self) -> str:
        return self.subject or str(MAIL_KINDS[MailKind(self.kind)].subject)

    def effective_body(self) -> str:
        return self.body or str(MAIL_KINDS[MailKind(self.kind)].body)

    def clean(self) -> None:
        super().clean()
        if self.kind not in MAIL_KIND_VALUES:
            return
        errors = {}
        for name, source in (("subject", self.subject), ("body", self.body)):
            try:
                mail_template_check(kind=MailKind(self.kind), source=source)
            except MailTemplateInvalid as exc:
                errors[name] = str(exc)
        if errors:
            raise ValidationError(errors)

    # Preview in the snippet editor: the e-mail as sent, with sample values.
    def get_preview_template(self, request, mode_name):
        return "mailing/preview.html"

    def get_preview_context(self, request, mode_name):
        context = super().get_preview_context(request, mode_name)
        kind = MailKind(self.kind) if self.kind in MAIL_KIND_VALUES else MailKind.CLAIM_UPDATE
        values = mail_sample_context(kind)
        try:
            subject = mail_text_render(source=self.effective_subject(), context=values)
            body = mail_text_render(source=self.effective_body(), context=values)
            error = ""
        except MailTemplateInvalid as exc:
            subject, body, error = "", "", str(exc)
        context.update(subject=subject, body=body, error=error)
        return context


class MailDigest(models.Model):
    """One grouped e-mail sent to one recipient."""

    recipient = models.EmailField(_("destinataire"))
    sent_at = models.DateTimeField(_("envoyé le"))

    class Meta:
        verbose_name = _("récapitulatif envoyé")
        verbose_name_plural = _("récapitulatifs envoyés")

    def __str__(self) -> str:
        return f"{self.recipient} ({self.sent_at:%d/%m/%Y %H:%M})"


class MailNotice(models.Model):
    """One non-urgent notice waiting for (or sent in) a digest. ``digest`` is set in the same
    transaction that sends it, under a row lock: a notice is in exactly one digest."""

    recipient = models.EmailField(_("destinataire"))
    kind = models.CharField(_("type d'e-mail"), max_length=40, choices=MAIL_KIND_CHOICES)
    subject = models.CharField(_("objet"), max_length=250)
    body = models.TextField(_("texte"))
    link = models.URLField(_("lien"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("créée le"), db_index=True)
    digest = models.ForeignKey(
        MailDigest,
        verbose_name=_("récapitulatif"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
    )

    class Meta:
        verbose_name = _("nouvelle à envoyer")
        verbose_name_plural = _("nouvelles à envoyer")
        indexes = [
            models.Index(
                fields=["recipient", "created_at"],
                name="mailing_notice_pending",
                condition=models.Q(digest__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"


class NotificationChannel(models.Model):
    """Another way than e-mail to reach someone: an Apprise URL (Slack, Teams, an SMS gateway,
    a webhook…). ``owner`` empty: the insurer's own channel (its admin chooses the kinds it
    receives, e.g. a Teams channel for handlers); otherwise one doctor's channel. The URL holds
    secrets (tokens, passwords): it is stored encrypted (``common.keys`` envelope) and only
    its masked form is ever shown back."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("titulaire"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_channels",
    )
    label = models.CharField(_("nom"), max_length=100)
    scheme = models.CharField(_("service"), max_length=40)
    url_masked = models.CharField(_("adresse (masquée)"), max_length=300)
    url_ciphertext = models.BinaryField(_("adresse chiffrée"))
    data_key_wrapped = models.BinaryField(_("clé de données chiffrée"))
    master_key_id = models.CharField(_("clé maîtresse"), max_length=32)
    kinds = models.JSONField(_("types de nouvelles"), default=list)
    enabled = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_sent_at = models.DateTimeField(_("dernier envoi réussi"), null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    last_error_at = models.DateTimeField(_("date de la dernière erreur"), null=True, blank=True)

    class Meta:
        verbose_name = _("canal de notification")
        verbose_name_plural = _("canaux de notification")
        ordering = ["label", "pk"]

    def __str__(self) -> str:
        return f"{self.label} ({self.url_masked})"

    def last_result_failed(self) -> bool:
        if self.last_error_at is None:
            return False
        return self.last_sent_at is None or self.last_error_at >= self.last_sent_at

    def kind_labels(self) -> list[str]:
        return [
            str(MAIL_KINDS[MailKind(kind)].label) for kind in self.kinds if kind in MAIL_KIND_VALUES
        ]
