"""Deadline reminders sent to the handlers."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import Group
from django.utils.translation import gettext as _

from common.formatting import date_short
from cover.claims.models import Claim, ClaimEvent, CoverStatus, TimelineKind
from cover.claims.selectors.engine import claim_deadlines, clock_configuration
from cover.claims.services.common import _today
from cover.claims.services.deadlines import claim_deadlines_refresh
from cover.ladder import LadderState
from mailing.kinds import MailKind
from mailing.services import mail_send
from tenants.roles import CLAIMS_HANDLER


def claims_deadline_reminders_send(*, today: datetime.date | None = None) -> int:
    """E-mail the handler (or every claims handler) about each alert or due date reached today.

    Idempotent per claim, clock and day: a REMINDER_SENT event keyed by both is written once.
    """
    today = _today(today)
    sent = 0
    handlers = Group.objects.filter(name=CLAIMS_HANDLER).first()
    fallback = list(handlers.user_set.values_list("email", flat=True)) if handlers else []
    configuration = clock_configuration()
    claims = Claim.objects.exclude(state=LadderState.CLOSED.value).exclude(
        cover_status=CoverStatus.REFUSED  # deadlines closed by the refusal
    )
    for claim in claims.select_related("assigned_to"):
        claim_deadlines_refresh(claim=claim, today=today)
        # Clocks started by an event (insurer declaration...) run before any qualification.
        for deadline in claim_deadlines(claim=claim, today=today, configuration=configuration):
            if deadline.status.value == "done":
                continue
            if today not in (*deadline.alert_dates, deadline.due_date, deadline.act_by_date):
                continue
            key = f"{deadline.clock_id}:{deadline.ref}:{today.isoformat()}"
            if claim.events.filter(kind=TimelineKind.REMINDER_SENT, ref=key).exists():
                continue
            recipients = [claim.assigned_to.email] if claim.assigned_to else fallback
            if recipients:
                # Sent on the alert dates of a legal clock: immediate, never in a digest.
                mail_send(
                    to=recipients,
                    kind=MailKind.DEADLINE_REMINDER,
                    context={
                        "reference": claim.reference,
                        "echeance": deadline.label,
                        "date_echeance": date_short(deadline.due_date),
                        "jours_restants": deadline.days_left,
                        "jour_ouvre": _("Jour non ouvré : à accomplir avant le %(day)s.\n")
                        % {"day": date_short(deadline.act_by_date)}
                        if deadline.act_by_date
                        else "",
                        "fondement": deadline.legal_basis,
                    },
                    link_path=f"/admin/sinistres/{claim.pk}/",
                    urgent=True,
                )
            ClaimEvent.objects.create(
                claim=claim,
                kind=TimelineKind.REMINDER_SENT,
                date=today,
                ref=key,
                note=str(deadline.label),
                visible_to_doctor=False,
            )
            sent += 1
    return sent
