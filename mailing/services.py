"""Every e-mail to a doctor (and the insurer's own staff) leaves through ``mail_send``: the
insurer's sender, its wording, a link on its own domain, and either at once or grouped in the
recipient's next digest so that a busy claim does not send seven e-mails in five minutes."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from mailing.channels import channels_digest_notify, channels_notify
from mailing.kinds import MAIL_KINDS, MailKind
from mailing.models import MailDigest, MailNotice
from mailing.rendering import mail_text_render
from mailing.selectors import MailSender, mail_sender_get, mail_settings_get, mail_template_sources
from tenants.selectors import tenant_base_url


def _absolute_link(link_path: str | None) -> str:
    if not link_path:
        return ""
    if link_path.startswith(("http://", "https://")):
        return link_path
    tenant = getattr(connection, "tenant", None)
    if tenant is None or not hasattr(tenant, "get_primary_domain"):
        return link_path
    return tenant_base_url(tenant) + link_path


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def mail_render(
    *, kind: MailKind, context: Mapping[str, Any], link: str, sender: MailSender
) -> tuple[str, str]:
    """Subject and body of one e-mail in the insurer's wording; the link is added at the end
    when the template does not print it."""
    values: dict[str, Any] = {
        name: ("" if value is None else value if isinstance(value, list) else str(value))
        for name, value in context.items()
    }
    values.setdefault("nom_assureur", sender.insurer_name)
    values["lien"] = link
    subject_source, body_source = mail_template_sources(kind=kind)
    subject = _one_line(mail_text_render(source=subject_source, context=values))
    body = mail_text_render(source=body_source, context=values)
    if link and link not in body:
        body = body.rstrip("\n") + f"\n\n{link}\n"
    return subject, body


def _message_send(*, to: Sequence[str], subject: str, body: str, sender: MailSender) -> None:
    EmailMessage(
        subject=subject,
        body=body,
        from_email=sender.from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=list(sender.reply_to),
    ).send()


def _is_urgent_deadline(*, deadline: datetime.date | None, today: datetime.date) -> bool:
    if deadline is None:
        return False
    return (deadline - today).days <= mail_settings_get().urgent_deadline_days


def mail_send(
    *,
    to: str | Sequence[str],
    kind: MailKind | str,
    context: Mapping[str, Any],
    link_path: str | None,
    urgent: bool = False,
    deadline: datetime.date | None = None,
    today: datetime.date | None = None,
) -> bool:
    """Send one e-mail of ``kind`` in the current insurer's name, or queue it for the digest.

    It leaves at once when the kind is immediate (account e-mails, acknowledgements, expiring
    links), when the caller says ``urgent``, or when ``deadline`` (a legal deadline the notice
    is about) falls within the insurer's « délai urgent ». Otherwise one notice per recipient
    is queued. Returns whether it was sent now.
    """
    kind = MailKind(kind)
    recipients = [to] if isinstance(to, str) else [r for r in to if r]
    if not recipients:
        return False
    sender = mail_sender_get()
    link = _absolute_link(link_path)
    subject, body = mail_render(kind=kind, context=context, link=link, sender=sender)
    today = today or timezone.localdate()
    if MAIL_KINDS[kind].immediate or urgent or _is_urgent_deadline(deadline=deadline, today=today):
        _message_send(to=recipients, subject=subject, body=body, sender=sender)
        channels_notify(recipients=recipients, kind=kind, subject=subject, body=body, link=link)
        return True
    now = timezone.now()
    MailNotice.objects.bulk_create(
        MailNotice(
            recipient=recipient.strip().lower(),
            kind=kind.value,
            subject=subject[:250],
            body=body,
            link=link[:500],
            created_at=now,
        )
        for recipient in recipients
    )
    return False


def mail_digests_send(*, now: datetime.datetime | None = None) -> int:
    """Send each recipient whose oldest waiting notice is one period old everything waiting,
    in one e-mail. Returns the number of e-mails sent.

    Safe with several workers: a recipient's notices are locked (``SKIP LOCKED``) and marked
    with their digest in the transaction that sends it, so a notice is in exactly one digest.
    A failed send rolls the marking back and the notices wait for the next run.
    """
    now = now or timezone.now()
    period = datetime.timedelta(minutes=mail_settings_get().digest_period_minutes)
    cutoff = now - period
    due = (
        MailNotice.objects.filter(digest__isnull=True)
        .values("recipient")
        .annotate(oldest=Min("created_at"))
        .filter(oldest__lte=cutoff)
        .order_by("oldest")
    )
    sender = mail_sender_get()
    return sum(
        _recipient_digest_send(recipient=row["recipient"], now=now, cutoff=cutoff, sender=sender)
        for row in due
    )


def _recipient_digest_send(
    *, recipient: str, now: datetime.datetime, cutoff: datetime.datetime, sender: MailSender
) -> int:
    with transaction.atomic():
        notices = list(
            MailNotice.objects.select_for_update(skip_locked=True)
            .filter(recipient=recipient, digest__isnull=True)
            .order_by("created_at", "pk")
        )
        # Another worker holds this recipient's older notices: it sends them.
        if not notices or notices[0].created_at > cutoff:
            return 0
        digest = MailDigest.objects.create(recipient=recipient, sent_at=now)
        MailNotice.objects.filter(pk__in=[n.pk for n in notices]).update(digest=digest)
        if len(notices) == 1:
            subject, body = notices[0].subject, notices[0].body
        else:
            items = [{"sujet": n.subject, "lien": n.link} for n in notices]
            subject, body = mail_render(
                kind=MailKind.DIGEST,
                context={"nombre": len(notices), "elements": items},
                link="",
                sender=sender,
            )
        _message_send(to=[recipient], subject=subject, body=body, sender=sender)
        # Queued on commit: one message per channel for this digest.
        channels_digest_notify(recipient=recipient, notices=notices, title=subject)
    return 1
