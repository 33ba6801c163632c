"""Capture requests: the URL check, the hourly and platform limits, queueing; re-captures."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from common.address_guard import UrlRefused, url_check
from evidence.models import Capture, CustodyEvent
from evidence.selectors import capture_outbox_key, captures_last_hour
from evidence.services.custody import COMMAND_ACTOR, custody_record
from outbox.services import outbox_enqueue
from tenants.limits import PlatformLimitExceeded, platform_limit_check_current

URL_MAX_LENGTH = 2000


def capture_url_validate(*, url: str) -> str:
    """The URL, stripped, if a capture may fetch it; a French ValidationError otherwise."""
    url = (url or "").strip()
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError(
            _("Adresse trop longue (%(max)d caractères au plus).") % {"max": URL_MAX_LENGTH}
        )
    try:
        url_check(url, allow=set(settings.EGIDE_CAPTURE_ALLOW))
    except UrlRefused as exc:
        raise ValidationError(exc.message_fr) from exc
    return url


def capture_request(
    *, url: str, requested_by: User | None, reason: str, enqueue: bool = True
) -> int:
    """Record a capture request and queue it; return the capture's id.

    The URL is checked first (shape, DNS, public addresses only): a refused URL raises a
    French ``ValidationError`` and creates nothing. A re-capture of an address already
    captured in this insurer links to the latest earlier capture. ``enqueue=False`` is for the
    synchronous management command, which runs ``capture_execute`` itself.
    """
    from evidence.tasks import capture_execute_task  # lazy: the task <-> service pair

    url = capture_url_validate(url=url)
    try:
        platform_limit_check_current(resource="captures")
    except PlatformLimitExceeded as exc:
        raise ValidationError(str(exc)) from exc
    with transaction.atomic():
        captures_hourly_check()
        previous = Capture.objects.filter(url=url).order_by("-created_at", "-pk").first()
        capture = Capture.objects.create(
            url=url,
            requested_by=requested_by,
            reason=(reason or "").strip(),
            previous=previous,
            step=str(_("En attente d'un navigateur de capture")),
        )
        custody_record(
            capture=capture,
            kind=CustodyEvent.Kind.REQUESTED,
            actor=requested_by,
            actor_label="" if requested_by is not None else COMMAND_ACTOR,
            detail={
                "url": url,
                "reason": capture.reason,
                "previous_capture": previous.pk if previous else None,
            },
        )
        if enqueue:
            # Same transaction as the capture: the row and its message cannot disagree. Sent
            # after commit; if the broker is down, the worker loop's relay sends it later.
            outbox_enqueue(
                actor=capture_execute_task,
                kwargs={"capture_id": capture.pk},
                key=capture_outbox_key(capture_id=capture.pk),
            )
    return capture.pk


def captures_hourly_check(*, adding: int = 1) -> None:
    """Refuse, in French, captures beyond ``EGIDE_CAPTURES_PER_HOUR_INSURER`` for this insurer.

    Counted on the captures requested in the last hour in the current schema; the caller's
    transaction then creates nothing.
    """
    limit = settings.EGIDE_CAPTURES_PER_HOUR_INSURER
    if not limit:
        return
    done = captures_last_hour()
    if done + adding > limit:
        raise ValidationError(
            _(
                "Limite de %(max)d captures par heure atteinte pour votre organisme "
                "(%(n)d demandées depuis une heure). Réessayez plus tard."
            )
            % {"max": limit, "n": done}
        )


def capture_recapture(*, capture_id: int, requested_by: User | None, reason: str = "") -> int:
    """Capture the address of a finished capture again; return the new capture's id.

    For a failed capture (retry) or a complete one whose page has changed. Evidence is never
    rewritten: the earlier capture stays as it is and the new one links to it through
    ``capture_request``. Refused in French, creating nothing, while a capture of the same address
    is still queued or running: its outcome is not known yet, and a second click must not queue
    a duplicate (the earlier capture's row is locked, so two clicks at once queue one).
    """
    with transaction.atomic():
        capture = Capture.objects.select_for_update().filter(pk=capture_id).first()
        if capture is None:
            raise ValidationError(_("Capture introuvable."))
        pending = (
            Capture.objects.filter(url=capture.url)
            .exclude(status__in=[Capture.Status.COMPLETE, Capture.Status.FAILED])
            .order_by("pk")
            .first()
        )
        if pending is not None:
            raise ValidationError(
                _(
                    "Une capture de cette adresse est déjà en attente ou en cours (n° %(id)s) : "
                    "attendez son résultat."
                )
                % {"id": pending.pk}
            )
        return capture_request(
            url=capture.url,
            requested_by=requested_by,
            reason=(reason or "").strip() or capture.reason,
        )
