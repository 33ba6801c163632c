"""What every claims service shares: the refusal exceptions, today's date, French formats and the
timeline entry every write leaves.

Writes on claims live in this package by purpose (opening, cover check, letters, costs, replies,
reminders…). Each service checks its rule, writes, audits and tells the doctor. The legal rules
are not here: the deadline engine, the ladder guards, the questionnaire, the letter field lists
and the reply checks are the pure modules of ``cover/``; these services feed them with a claim's
data and act on their verdict, so the admin, the portal and background jobs behave identically.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _

from common.tasks import task_enqueue_on_commit
from cover.claims.models import Claim, ClaimEvent
from cover.claims.tasks import claim_doctor_notify_task
from cover.letter_fields import LETTER_SPECS, LetterKind


class ClaimActionRefused(Exception):
    """A refused action; ``reasons`` are French, meant to be shown as they are."""

    def __init__(self, reasons: Sequence[str]):
        self.reasons = [str(r) for r in reasons]
        super().__init__("; ".join(self.reasons))


class LetterIncomplete(ClaimActionRefused):
    """Letter refused: ``missing`` lists the dotted names of the empty required fields."""

    def __init__(self, *, kind: LetterKind, missing: Sequence[str]):
        self.missing = list(missing)
        labels = {f.name: str(f.label) for f in LETTER_SPECS[kind].fields}
        reasons = []
        for name in self.missing:
            base = name.split("[", 1)[0]
            label = labels.get(base, name)
            suffix = name[len(base) :]
            reasons.append(
                _("Champ obligatoire manquant : %(label)s%(detail)s")
                % {"label": label, "detail": f" ({suffix})" if suffix else ""}
            )
        super().__init__(reasons)


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def _timeline_add(
    *,
    claim: Claim,
    kind: str,
    by: User | None,
    date: datetime.date,
    note: str = "",
    ref: str = "",
    visible_to_doctor: bool = True,
    notify: bool = True,
) -> ClaimEvent:
    event = ClaimEvent.objects.create(
        claim=claim,
        kind=kind,
        date=date,
        note=note,
        ref=ref,
        visible_to_doctor=visible_to_doctor,
        recorded_by=by,
    )
    if notify and visible_to_doctor:
        task_enqueue_on_commit(
            actor=claim_doctor_notify_task, kwargs={"claim_id": claim.pk, "event_id": event.pk}
        )
    return event


_URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
