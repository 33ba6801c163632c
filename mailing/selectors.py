"""Reads for sending an insurer's e-mails: its sender identity and its template wording."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address

from django.apps import apps
from django.db import connection
from wagtail.models import Site

from mailing.kinds import MAIL_KINDS, MailKind
from mailing.models import MailSettings, MailTemplate
from mailing.panels import sender_domain


@dataclass(frozen=True)
class MailSender:
    from_email: str
    reply_to: tuple[str, ...]
    insurer_name: str


def _default_site() -> Site | None:
    return Site.objects.filter(is_default_site=True).first()


def mail_settings_get() -> MailSettings:
    """The current insurer's settings (created with the defaults on first use)."""
    site = _default_site()
    if site is None:
        return MailSettings()
    return MailSettings.for_site(site)


def mail_insurer_name() -> str:
    """The insurer's display name from its branding, else the tenant's name.

    Branding belongs to ``cover``, which sits above this app (``evidence`` sends mail too):
    it is read through the app registry rather than imported.
    """
    site = _default_site()
    if site is not None:
        branding_model = apps.get_model("cover", "Branding")
        branding = branding_model.for_site(site)
        if branding.display_name:
            return str(branding.display_name)
    tenant = getattr(connection, "tenant", None)
    return str(getattr(tenant, "name", "") or "")


def mail_sender_get() -> MailSender:
    """From and Reply-To of the current insurer's e-mails, never another insurer's: everything
    is read in the current schema."""
    mail_settings = mail_settings_get()
    insurer_name = mail_insurer_name()
    name = mail_settings.sender_name or insurer_name
    address = mail_settings.sender_address
    if not address:
        domain = sender_domain(sender_address="")
        address = f"no-reply@{domain}" if domain else ""
    reply_to = mail_settings.reply_to
    if not reply_to:
        site = _default_site()
        if site is not None:
            reply_to = apps.get_model("cover", "Branding").for_site(site).contact_email or ""
    from_email = str(Address(display_name=name, addr_spec=address)) if address else ""
    return MailSender(
        from_email=from_email,
        reply_to=(reply_to,) if reply_to else (),
        insurer_name=insurer_name,
    )


def mail_template_sources(*, kind: MailKind) -> tuple[str, str]:
    """Subject and body sources: the insurer's edited ones, else the French defaults."""
    edited = MailTemplate.objects.filter(kind=kind.value).first()
    if edited is not None:
        return edited.effective_subject(), edited.effective_body()
    spec = MAIL_KINDS[kind]
    return str(spec.subject), str(spec.body)
