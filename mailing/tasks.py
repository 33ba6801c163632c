"""Mail actors. Thin: they call ``mailing.services``.

``mail_digests_send_all_tenants_task`` is periodic (dramatiq-crontab): in the public schema it fans out
one message per ready insurer; each sends the digests that are due under its own period.
"""

from __future__ import annotations

import dramatiq
from dramatiq_crontab import cron

from common.tasks import tenants_fan_out
from mailing.channels import notification_deliver_run
from mailing.services import mail_digests_send


@dramatiq.actor(max_retries=3)
def mail_digests_send_task() -> None:
    mail_digests_send()


@cron("*/5 * * * *")
@dramatiq.actor(max_retries=0)
def mail_digests_send_all_tenants_task() -> None:
    tenants_fan_out(actor=mail_digests_send_task)


@dramatiq.actor(max_retries=3, min_backoff=30_000, max_backoff=600_000)
def notification_deliver_task(*, channel_id: int, title: str, body: str) -> None:
    """One Apprise message to one channel; a failure is recorded on the channel and retried."""
    notification_deliver_run(channel_id=channel_id, title=title, body=body)
