"""Share links: a complete capture's bundle sent to one recipient, for a limited time."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth.models import User
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from evidence.models import Capture, CustodyEvent, ShareLink
from evidence.services.custody import custody_record
from mailing.kinds import MailKind
from mailing.services import mail_send
from tenants.db import connection
from tenants.selectors import tenant_base_url

SHARE_SALT = "evidence.share-link"
SHARE_MIN = dt.timedelta(hours=1)
SHARE_MAX = dt.timedelta(days=30)


def share_token(*, link: ShareLink) -> str:
    return signing.dumps({"l": link.pk, "n": link.nonce}, salt=SHARE_SALT)


def capture_share(
    *, capture: Capture, recipient_email: str, expires_in: dt.timedelta, shared_by: User
) -> ShareLink:
    """Send a complete capture's bundle to one recipient as an expiring link on the tenant's
    own domain (e.g. to a commissaire de justice chosen from the partner directory)."""
    email = (recipient_email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError(
            _("Adresse e-mail du destinataire invalide : %(email)s") % {"email": email}
        ) from exc
    if capture.status != Capture.Status.COMPLETE:
        raise ValidationError(_("Seule une capture terminée peut être envoyée."))
    if not SHARE_MIN <= expires_in <= SHARE_MAX:
        raise ValidationError(
            _("La durée de validité du lien doit être comprise entre une heure et 30 jours.")
        )
    with transaction.atomic():
        link = ShareLink.objects.create(
            capture=capture,
            recipient_email=email,
            nonce=secrets.token_hex(16),
            expires_at=timezone.now() + expires_in,
            shared_by=shared_by,
        )
        custody_record(
            capture=capture,
            kind=CustodyEvent.Kind.SHARED,
            actor=shared_by,
            detail={"recipient": email, "expires_at": link.expires_at.isoformat(), "link": link.pk},
        )
    url = tenant_base_url(connection.tenant) + reverse(
        "evidence:share", kwargs={"token": share_token(link=link)}
    )
    local_expiry = timezone.localtime(link.expires_at)
    mail_send(
        to=email,
        kind=MailKind.EVIDENCE_SHARE,
        context={
            "numero": capture.pk,
            "expediteur": shared_by.get_full_name() or shared_by.email,
            "adresse": capture.url,
            "horodatage": timezone.localtime(capture.gen_time).strftime("%d/%m/%Y %H:%M")
            if capture.gen_time
            else "?",
            "expiration": local_expiry.strftime("%d/%m/%Y %H:%M"),
        },
        link_path=url,
    )
    return link


def share_link_opened(*, link: ShareLink) -> None:
    with transaction.atomic():
        if link.opened_at is None:
            ShareLink.objects.filter(pk=link.pk, opened_at__isnull=True).update(
                opened_at=timezone.now()
            )
        custody_record(
            capture=link.capture_id,
            kind=CustodyEvent.Kind.LINK_OPENED,
            actor_label=link.recipient_email,
            detail={"link": link.pk},
        )


def share_link_downloaded(*, link: ShareLink) -> None:
    with transaction.atomic():
        ShareLink.objects.filter(pk=link.pk).update(downloads=F("downloads") + 1)
        custody_record(
            capture=link.capture_id,
            kind=CustodyEvent.Kind.DOWNLOADED,
            actor_label=link.recipient_email,
            detail={"where": "lien de partage", "link": link.pk},
        )
