"""Removal requests: GDPR objection/erasure and de-referencing letters, counted against the
plan's yearly allowance, and their answer deadlines (GDPR art. 12(3)) up to the CNIL complaint
proposed when the controller does not answer in time."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cleanup.letters import letter_missing
from cleanup.models import Alert, RemovalRequest, WatchProfile
from cleanup.services.common import (
    PlanLimitError,
    allowance_year_start,
    clean_list,
    terms_for_doctor,
    url_validate,
)
from cover.deadlines import clock_due_date
from cover.rules import CLOCKS
from cover.selectors import policy_current, policy_terms


def removal_requests_used(*, profile: WatchProfile, today: datetime.date) -> tuple[int, int]:
    """(used, allowed) removal requests in the current policy year; cancelled drafts are
    given back."""
    policy = policy_current(doctor=profile.doctor, on=today)
    if policy is None or policy.start_date is None:
        return 0, 0
    start = allowance_year_start(policy_start=policy.start_date, today=today)
    used = (
        profile.requests.exclude(status=RemovalRequest.Status.CANCELLED)
        .filter(created_at__date__gte=start)
        .count()
    )
    return used, policy_terms(policy=policy).removal_requests_per_year


@transaction.atomic
def removal_request_create(
    *,
    profile: WatchProfile,
    kind: str,
    recipient_name: str,
    recipient_address: str,
    urls: Sequence[str],
    grounds: Sequence[str],
    data_concerned: str = "",
    alert: Alert | None = None,
    today: datetime.date | None = None,
) -> RemovalRequest:
    """Draft a GDPR objection/erasure or a de-referencing request, counted against the plan's
    yearly allowance. The letter must have every field DOMAIN §4.3–4.4 requires."""
    today = today or timezone.localdate()
    WatchProfile.objects.select_for_update().get(pk=profile.pk)
    terms_for_doctor(doctor=profile.doctor, on=today)
    used, allowed = removal_requests_used(profile=profile, today=today)
    if used >= allowed:
        raise PlanLimitError(
            ngettext(
                "Votre formule comprend %(allowed)d demande de suppression ou de "
                "déréférencement par an, déjà utilisée (%(used)d). Contactez votre assureur "
                "pour une demande supplémentaire.",
                "Votre formule comprend %(allowed)d demandes de suppression ou de "
                "déréférencement par an, toutes utilisées (%(used)d). Contactez votre assureur "
                "pour une demande supplémentaire.",
                allowed,
            )
            % {"allowed": allowed, "used": used}
        )
    clean_urls = [url_validate(u) for u in clean_list(urls)]
    request = RemovalRequest(
        profile=profile,
        alert=alert,
        kind=kind,
        recipient_name=recipient_name.strip(),
        recipient_address=recipient_address.strip(),
        urls=clean_urls,
        grounds=clean_list(grounds),
        data_concerned=data_concerned.strip(),
    )
    missing = letter_missing(request=request)
    if missing:
        raise ValidationError(
            _("Champs obligatoires manquants pour ce courrier : %(fields)s.")
            % {"fields": ", ".join(missing)}
        )
    request.full_clean()
    request.save()
    return request


def removal_request_due_on(*, request: RemovalRequest) -> datetime.date | None:
    """GDPR art. 12(3): one month from receipt, two more if the controller notified an
    extension within the first month (clocks GDPR_RESPONSE_1M / DEREFERENCING_RESPONSE_1M)."""
    start = request.received_on or request.sent_on
    if start is None:
        return None
    clock_id = (
        "GDPR_RESPONSE_1M"
        if request.kind == RemovalRequest.Kind.GDPR_LISTING
        else "DEREFERENCING_RESPONSE_1M"
    )
    return clock_due_date(
        rule=CLOCKS[clock_id], start=start, extended=request.extension_notified_on is not None
    )


_OPEN = (RemovalRequest.Status.SENT, RemovalRequest.Status.EXTENDED)


def removal_request_mark_sent(
    *, request: RemovalRequest, sent_on: datetime.date, received_on: datetime.date | None = None
) -> RemovalRequest:
    if request.status != RemovalRequest.Status.DRAFT:
        raise ValidationError(_("Seul un brouillon peut être marqué comme envoyé."))
    if received_on and received_on < sent_on:
        raise ValidationError(_("La réception ne peut pas précéder l'envoi."))
    request.status = RemovalRequest.Status.SENT
    request.sent_on, request.received_on = sent_on, received_on
    request.due_on = removal_request_due_on(request=request)
    request.save()
    return request


def removal_request_extension_notified(
    *, request: RemovalRequest, on: datetime.date
) -> RemovalRequest:
    """The controller announced it needs two more months; valid only within the first month."""
    request.refresh_from_db()  # the caller's copy may predate the deadline job
    if request.status not in _OPEN or request.due_on is None:
        raise ValidationError(_("Cette demande n'attend pas de réponse."))
    if request.extension_notified_on is None and on > request.due_on:
        raise ValidationError(
            _(
                "La prolongation doit être notifiée dans le premier mois (avant le %(date)s) : "
                "elle est tardive."
            )
            % {"date": request.due_on.strftime("%d/%m/%Y")}
        )
    request.extension_notified_on = on
    request.status = RemovalRequest.Status.EXTENDED
    request.due_on = removal_request_due_on(request=request)
    request.save()
    return request


def removal_request_answered(
    *, request: RemovalRequest, granted: bool, on: datetime.date
) -> RemovalRequest:
    request.refresh_from_db()  # the caller's copy may predate the deadline job
    if request.status not in (*_OPEN, RemovalRequest.Status.OVERDUE):
        raise ValidationError(_("Cette demande n'attend pas de réponse."))
    request.status = RemovalRequest.Status.GRANTED if granted else RemovalRequest.Status.REFUSED
    request.answered_on = on
    if not granted and request.cnil_proposed_on is None:
        request.cnil_proposed_on = on
    request.save()
    return request


def removal_request_cancel(*, request: RemovalRequest) -> RemovalRequest:
    request.refresh_from_db()  # the caller's copy may predate the deadline job
    if request.status != RemovalRequest.Status.DRAFT:
        raise ValidationError(_("Seul un brouillon peut être annulé."))
    request.status = RemovalRequest.Status.CANCELLED
    request.save(update_fields=["status"])
    return request


def removal_requests_overdue_flag(*, today: datetime.date | None = None) -> list[RemovalRequest]:
    """Requests left unanswered past their deadline: mark them and propose the CNIL complaint
    (GDPR art. 77, after the right was first exercised with the controller)."""
    today = today or timezone.localdate()
    flagged = []
    for request in RemovalRequest.objects.filter(status__in=_OPEN, due_on__lt=today):
        request.status = RemovalRequest.Status.OVERDUE
        request.cnil_proposed_on = today
        request.save(update_fields=["status", "cnil_proposed_on"])
        flagged.append(request)
    return flagged
