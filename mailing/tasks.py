"""Mail actors. Thin: they call ``mailing.services``.

``mail_digests_all_tenants`` is periodic (dramatiq-crontab): in the public schema it fans out
one message per ready insurer; each sends the digests that are due under its own period.
"""

from __future__ import annotations

import dramatiq
from dramatiq_crontab import cron

from tenants.services import tenants_fan_out


@dramatiq.actor(max_retries=3)
def mail_digests() -> None:
    from mailing.services import mail_digests_send

    mail_digests_send()


@cron("*/5 * * * *")
@dramatiq.actor(max_retries=0)
def mail_digests_all_tenants() -> None:
    tenants_fan_out(actor=mail_digests)
