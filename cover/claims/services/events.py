"""Legal events recorded on a claim: acts, publication date corrections, republications."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from common.formatting import date_short
from cover.claims.models import (
    Claim,
    ClaimEvent,
    PublicationDateChange,
    PublicationDateSource,
    TimelineKind,
)
from cover.claims.services.common import _URL_RE, ClaimActionRefused, _timeline_add, _today
from cover.claims.services.deadlines import claim_deadlines_refresh
from cover.rules import ClaimEventKind


@transaction.atomic
def claim_event_record(
    *,
    claim: Claim,
    kind: ClaimEventKind,
    date: datetime.date,
    by: User,
    ref: str = "",
    note: str = "",
    today: datetime.date | None = None,
) -> ClaimEvent:
    """Record a dated legal event (constat done, lawyer engaged, receipt...): it feeds the
    clocks, so it may not be dated in the future nor before the publication. An archive date
    (``CONTENT_ARCHIVED``) is the exception: it is evidence that the content was online
    earlier, and an estimated publication date moves to it."""
    today = _today(today)
    if date > today:
        raise ClaimActionRefused([_("Un événement ne peut pas être daté dans le futur.")])
    if date < claim.publication_date and kind is not ClaimEventKind.CONTENT_ARCHIVED:
        raise ClaimActionRefused(
            [_("Un événement ne peut pas précéder la publication du contenu.")]
        )
    event = _timeline_add(
        claim=claim, kind=kind.value, by=by, date=date, ref=ref, note=note, notify=True
    )
    claim_deadlines_refresh(claim=claim, today=today)
    return event


def _publication_date_problems(
    *, claim: Claim, new_date: datetime.date, reason: str, today: datetime.date
) -> list[str]:
    """Why a handler's publication date cannot be set (French); empty when it can."""
    errors: list[str] = []
    if not reason:
        errors.append(_("Indiquez le motif de la correction de la date de publication."))
    if new_date > today:
        errors.append(_("La date de publication ne peut pas être dans le futur."))
    if new_date > claim.seen_date:
        errors.append(
            _("La date de publication ne peut pas suivre la date de découverte (%(seen)s).")
            % {"seen": date_short(claim.seen_date)}
        )
    if new_date == claim.publication_date and not claim.publication_date_estimated:
        errors.append(
            _("La date de publication est déjà le %(day)s.") % {"day": date_short(new_date)}
        )
    earlier = (
        claim.events.filter(kind__in=[k.value for k in ClaimEventKind], date__lt=new_date)
        .exclude(
            kind__in=[
                ClaimEventKind.CONTENT_ARCHIVED.value,  # evidence, may precede
                ClaimEventKind.CONTENT_DISCOVERED.value,  # the discovery date is checked above
            ]
        )
        .order_by("date", "pk")
        .first()
    )
    if earlier is not None:
        errors.append(
            _(
                "L'événement « %(event)s » du %(day)s précède cette date : une publication ne "
                "peut pas suivre un acte qui la vise."
            )
            % {"event": earlier.get_kind_display(), "day": date_short(earlier.date)}
        )
    return errors


@transaction.atomic
def claim_publication_date_correct(
    *,
    claim: Claim,
    new_date: datetime.date,
    reason: str,
    by: User,
    today: datetime.date | None = None,
) -> PublicationDateChange:
    """A handler sets the publication date (T_pub) with a reason: every deadline is recomputed
    from it, the queue follows, and the change is audited (who, when, old, new, why) on the
    claim's staff timeline. The corrected date is no longer an estimate."""
    today = _today(today)
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    reason = reason.strip()
    errors = _publication_date_problems(claim=claim, new_date=new_date, reason=reason, today=today)
    if errors:
        raise ClaimActionRefused(errors)
    change = PublicationDateChange.objects.create(
        claim=claim,
        old_date=claim.publication_date,
        old_estimated=claim.publication_date_estimated,
        old_source=claim.publication_date_source,
        new_date=new_date,
        reason=reason,
        changed_by=by,
    )
    old = claim.publication_date
    claim.publication_date = new_date
    claim.publication_date_estimated = False
    claim.publication_date_source = PublicationDateSource.HANDLER
    claim.save(
        update_fields=[
            "publication_date",
            "publication_date_estimated",
            "publication_date_source",
            "updated_at",
        ]
    )
    _timeline_add(
        claim=claim,
        kind=TimelineKind.PUBLICATION_DATE_CORRECTED,
        by=by,
        date=today,
        ref=f"publication-{change.pk}",
        note=_("%(old)s%(estimated)s → %(new)s. Motif : %(reason)s")
        % {
            "old": date_short(old),
            "estimated": _(" (estimée)") if change.old_estimated else "",
            "new": date_short(new_date),
            "reason": reason,
        },
        visible_to_doctor=False,
    )
    claim_deadlines_refresh(claim=claim, today=today)
    return change


@transaction.atomic
def claim_republication_record(
    *,
    claim: Claim,
    date: datetime.date,
    by: User,
    url: str = "",
    note: str = "",
    today: datetime.date | None = None,
) -> ClaimEvent:
    """Record a republication of the content (a new making available, a new link to it): it
    opens a new press-law period for the republished content from its own date (DOMAIN §3).
    A mere change of the site's address is not one; the handler says what was republished."""
    url = url.strip()
    if url and not _URL_RE.match(url):
        raise ClaimActionRefused([_("Adresse invalide : %(url)s") % {"url": url}])
    number = claim.events.filter(kind=ClaimEventKind.CONTENT_REPUBLISHED.value).count() + 1
    parts = [p for p in (url, note.strip()) if p]
    return claim_event_record(
        claim=claim,
        kind=ClaimEventKind.CONTENT_REPUBLISHED,
        date=date,
        by=by,
        ref=f"republication-{number}",
        note=" — ".join(parts),
        today=today,
    )
