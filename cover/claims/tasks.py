"""Claims actors. Thin: they call services.

``claim_doctor_notify_task`` runs in the schema it was sent from (tenant middleware);
``claims_deadline_reminders_send_all_tenants_task`` is periodic (dramatiq-crontab), runs in the public
schema and fans out one message per ready insurer.

Each actor imports its service inside its body (the task ↔ service pair of STYLE.md): the
service modules import the actors at the top to enqueue them.
"""

from __future__ import annotations

import dramatiq
from dramatiq_crontab import cron

from common.tasks import tenants_fan_out


@dramatiq.actor(max_retries=3)
def claim_doctor_notify_task(claim_id: int, event_id: int) -> None:
    from cover.claims.services.notifications import claim_doctor_email_send  # lazy: task ↔ service

    claim_doctor_email_send(claim_id=claim_id, event_id=event_id)


@dramatiq.actor(max_retries=3)
def claim_handler_notify_task(claim_id: int, event_id: int) -> None:
    from cover.claims.services.notifications import claim_handler_email_send  # lazy: task ↔ service

    claim_handler_email_send(claim_id=claim_id, event_id=event_id)


@dramatiq.actor(max_retries=3)
def claims_deadline_reminders_send_task() -> None:
    from cover.claims.services.reminders import (
        claims_deadline_reminders_send,  # lazy: task ↔ service
    )

    claims_deadline_reminders_send()


@cron("0 7 * * *")
@dramatiq.actor(max_retries=0)
def claims_deadline_reminders_send_all_tenants_task() -> None:
    tenants_fan_out(actor=claims_deadline_reminders_send_task)
