"""Evidence captures for a claim (the single call site into ``evidence``) and the evidence
sent to the commissaire de justice.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cover.claims.models import Claim, ClaimEvent, Partner, PartnerKind, TimelineKind
from cover.claims.selectors.captures import claim_capture_ids, claim_captures
from cover.claims.services.common import ClaimActionRefused, _timeline_add, _today
from evidence.selectors import capture_detail
from evidence.services.custody import capture_viewed
from evidence.services.requests import capture_recapture, capture_request
from evidence.services.sharing import capture_share


def _evidence_capture_request(
    *, claim: Claim, url: str, requested_by: User, today: datetime.date
) -> ClaimEvent:
    """Ask the evidence app to capture ``url`` and note it on the claim's timeline.

    The only place where claims reach the evidence app. A URL the capture guard refuses
    (non-public address, DNS failure) does not stop the claim from opening: the refusal is
    noted for the handler, who can order a constat instead.
    """
    reason = _("Sinistre %(reference)s") % {"reference": claim.reference}
    try:
        capture_id = capture_request(url=url, requested_by=requested_by, reason=reason)
    except ValidationError as exc:
        note = _("%(url)s — capture impossible : %(reason)s") % {
            "url": url,
            "reason": " ".join(exc.messages),
        }
        return _timeline_add(
            claim=claim,
            kind=TimelineKind.CAPTURE_REQUESTED,
            by=requested_by,
            date=today,
            note=note,
            visible_to_doctor=False,
            notify=False,
        )
    return _timeline_add(
        claim=claim,
        kind=TimelineKind.CAPTURE_REQUESTED,
        by=requested_by,
        date=today,
        note=url,
        ref=f"capture-{capture_id}",
        notify=False,
    )


def _claim_captures_hourly_check(*, claim: Claim) -> None:
    """At most ``EGIDE_CAPTURES_PER_HOUR_CLAIM`` captures per claim and per hour (French refusal)."""
    limit = settings.EGIDE_CAPTURES_PER_HOUR_CLAIM
    if not limit:
        return
    since = timezone.now() - datetime.timedelta(hours=1)
    recent = claim.events.filter(
        kind=TimelineKind.CAPTURE_REQUESTED, ref__startswith="capture-", created_at__gte=since
    ).count()
    if recent >= limit:
        raise ClaimActionRefused(
            [
                _(
                    "Limite de %(max)d captures par heure atteinte pour ce sinistre. "
                    "Réessayez plus tard."
                )
                % {"max": limit}
            ]
        )


@transaction.atomic
def claim_capture_request(
    *,
    claim: Claim,
    by: User,
    url: str = "",
    recapture_of: int | None = None,
    reason: str = "",
    today: datetime.date | None = None,
) -> int:
    """A handler (or the claim's doctor, from the portal) asks for a capture for this claim: of
    ``url``, or again of the address of one of the claim's finished captures (``recapture_of``: a failed one, or a page that changed).
    Return the new capture's id.

    The capture is attached to the claim as claim opening attaches it (a "capture requested"
    timeline entry whose ref is ``capture-<id>``). Unlike claim opening, a refusal (address
    refused by the capture guard, platform limit, capture still running) raises
    ``ClaimActionRefused`` and records nothing: the handler is there to read it.

    Idempotent while a capture of the same address for this claim is queued or running: a
    second click (or two at once, serialised on the claim's row) returns that capture's id and
    queues nothing.
    """
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    label = _("Sinistre %(reference)s") % {"reference": claim.reference}
    full_reason = f"{label} — {reason.strip()}" if reason.strip() else label
    captures = claim_captures(claim=claim)
    if recapture_of is not None:
        target = next((c.url for c in captures if c.pk == recapture_of), None)
    else:
        target = url.strip()
    pending = next((c for c in captures if c.url == target and not c.is_finished), None)
    if target and pending is not None:
        return pending.pk
    _claim_captures_hourly_check(claim=claim)
    try:
        if recapture_of is not None:
            if recapture_of not in claim_capture_ids(claim=claim):
                raise ClaimActionRefused([_("Cette capture n'appartient pas à ce sinistre.")])
            capture_id = capture_recapture(
                capture_id=recapture_of, requested_by=by, reason=full_reason
            )
        else:
            if not url.strip():
                raise ClaimActionRefused([_("Indiquez l'adresse (URL) de la page à capturer.")])
            capture_id = capture_request(url=url, requested_by=by, reason=full_reason)
    except ValidationError as exc:
        raise ClaimActionRefused(exc.messages) from exc
    capture = capture_detail(capture_id=capture_id)
    captured_url = capture.url if capture is not None else url.strip()
    if recapture_of is not None:
        note = _("%(url)s — nouvelle capture après la n° %(id)s") % {
            "url": captured_url,
            "id": recapture_of,
        }
    else:
        note = captured_url
    _timeline_add(
        claim=claim,
        kind=TimelineKind.CAPTURE_REQUESTED,
        by=by,
        date=_today(today),
        note=note,
        ref=f"capture-{capture_id}",
        notify=False,
    )
    return capture_id


def claim_captures_consulted(
    *, claim: Claim, capture_ids: Sequence[int], by: User, where: str
) -> None:
    """Write on each capture's chain of custody that it was consulted from this claim (a
    comparison page or its PDF annex shows the captures' screens and text)."""
    wanted = set(capture_ids)
    for capture in claim_captures(claim=claim):
        if capture.pk in wanted:
            capture_viewed(
                capture=capture,
                actor=by,
                where=f"{where} — sinistre {claim.reference}",
            )


def claim_evidence_send(
    *,
    claim: Claim,
    capture_id: int,
    partner: Partner,
    expires_in_days: int,
    by: User,
    today: datetime.date | None = None,
) -> ClaimEvent:
    """Send one of the claim's captures to a commissaire de justice of the directory.

    The bundle leaves as an expiring link (the evidence app records it in the custody log);
    the claim's timeline keeps who sent what to whom.
    """
    reasons = []
    if capture_id not in claim_capture_ids(claim=claim):
        reasons.append(_("Cette capture n'appartient pas à ce sinistre."))
    if partner.kind != PartnerKind.COMMISSAIRE or not partner.active:
        reasons.append(_("Choisissez un commissaire de justice actif de l'annuaire."))
    capture = capture_detail(capture_id=capture_id)
    if capture is None:
        reasons.append(_("Capture introuvable."))
    if reasons or capture is None:
        raise ClaimActionRefused(reasons)
    try:
        with transaction.atomic():
            capture_share(
                capture=capture,
                recipient_email=partner.email,
                expires_in=datetime.timedelta(days=expires_in_days),
                shared_by=by,
            )
            return _timeline_add(
                claim=claim,
                kind=TimelineKind.EVIDENCE_SENT,
                by=by,
                date=_today(today),
                note=_(
                    "Capture n° %(id)s envoyée à %(name)s (%(email)s), lien valable %(days)s jours"
                )
                % {
                    "id": capture_id,
                    "name": partner.name,
                    "email": partner.email,
                    "days": expires_in_days,
                },
                ref=f"capture-{capture_id}-sent-{partner.pk}",
                visible_to_doctor=True,
            )
    except ValidationError as exc:
        raise ClaimActionRefused(exc.messages) from exc
