"""A claim's deadlines: recomputed from its events, with the publication date re-estimated from
its captures.
"""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.formatting import date_short
from cover.claims.models import Claim, CoverStatus, TimelineKind
from cover.claims.selectors.engine import (
    claim_categories,
    claim_deadlines,
    claim_publication_estimate,
)
from cover.claims.services.common import _timeline_add, _today
from cover.deadlines import clock_due_date
from cover.rules import CLOCKS


def _publication_date_reestimate(*, claim: Claim, today: datetime.date) -> None:
    """An estimated publication date follows the earliest evidence recorded since (an archive
    date, a capture): it only ever moves earlier. The doctor's date and a handler's correction
    are never changed here."""
    if not claim.publication_date_estimated:
        return
    estimate = claim_publication_estimate(claim=claim)
    if (estimate.date, estimate.source.value) == (
        claim.publication_date,
        claim.publication_date_source,
    ):
        return
    old = claim.publication_date
    claim.publication_date = estimate.date
    claim.publication_date_source = estimate.source.value
    claim.save(update_fields=["publication_date", "publication_date_source", "updated_at"])
    if estimate.date != old:
        _timeline_add(
            claim=claim,
            kind=TimelineKind.PUBLICATION_DATE_ESTIMATED,
            by=None,
            date=today,
            note=_("Date de publication estimée : %(old)s → %(new)s (%(source)s).")
            % {
                "old": date_short(old),
                "new": date_short(estimate.date),
                "source": estimate.source.label,
            },
            visible_to_doctor=False,
        )


DEADLINES_CLOSED_REFUSED = gettext_lazy("Délais clos : garantie refusée")


def claim_deadlines_refresh(*, claim: Claim, today: datetime.date | None = None) -> None:
    """Store the nearest open hard deadline on the claim so the queue sorts in the database.

    An estimated publication date is first brought to the earliest evidence recorded. Before
    any qualification the press-law clock is presumed (the conservative reading of DOMAIN §2.2
    step 5: a review of a doctor almost always targets the person).
    """
    today = _today(today)
    _publication_date_reestimate(claim=claim, today=today)
    if claim.cover_status == CoverStatus.REFUSED:
        # A refused claim is not worked: no countdown, no reminder until a handler reverses it.
        claim.next_deadline_date = None
        claim.next_deadline_label = str(DEADLINES_CLOSED_REFUSED)
    elif not claim_categories(claim=claim):
        rule = CLOCKS["PRESS_3M"]
        claim.next_deadline_date = clock_due_date(rule=rule, start=claim.publication_date)
        claim.next_deadline_label = _("%(label)s — présumée, à qualifier") % {"label": rule.label}
    else:
        hard = [d for d in claim_deadlines(claim=claim, today=today) if d.hard]
        open_hard = [d for d in hard if d.status.value != "done"]
        first = open_hard[0] if open_hard else None
        claim.next_deadline_date = first.due_date if first else None
        claim.next_deadline_label = str(first.label) if first else ""
    claim.save(update_fields=["next_deadline_date", "next_deadline_label", "updated_at"])
