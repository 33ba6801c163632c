"""Claims actors. Thin: they call services.

``claim_doctor_notify`` runs in the schema it was sent from (tenant middleware);
``claims_deadline_reminders_all_tenants`` is periodic (dramatiq-crontab), runs in the public
schema and fans out one message per ready insurer.
"""

from __future__ import annotations

import dramatiq
from dramatiq_crontab import cron

from tenants.services import tenants_fan_out


@dramatiq.actor(max_retries=3)
def claim_doctor_notify(claim_id: int, event_id: int) -> None:
    from cover.claims.services import claim_doctor_email_send

    claim_doctor_email_send(claim_id=claim_id, event_id=event_id)


@dramatiq.actor(max_retries=3)
def claim_handler_notify(claim_id: int, event_id: int) -> None:
    from cover.claims.services import claim_handler_email_send

    claim_handler_email_send(claim_id=claim_id, event_id=event_id)


@dramatiq.actor(max_retries=3)
def claims_deadline_reminders() -> None:
    from cover.claims.services import claims_deadline_reminders_send

    claims_deadline_reminders_send()


@cron("0 7 * * *")
@dramatiq.actor(max_retries=0)
def claims_deadline_reminders_all_tenants() -> None:
    tenants_fan_out(actor=claims_deadline_reminders)
