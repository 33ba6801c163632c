"""Import of the insurer's existing portfolio (a CSV of its RCP insured) as doctors and policies.

``cover.imports`` checks and loads the rows; this module decides (all rows valid, platform plan
allows it) and invites the imported doctors in the background.
"""

from __future__ import annotations

from django.db import transaction

from common.tasks import task_enqueue_on_commit
from cover.imports import PortfolioReport, portfolio_check, portfolio_load
from cover.services.policies import PolicyError, platform_doctors_check
from cover.tasks import doctor_invitations_send_task


def portfolio_import(*, content: bytes | str, dry_run: bool) -> PortfolioReport:
    """Check a portfolio CSV and, when every row is valid and ``dry_run`` is false, import it.

    Nothing is imported while a single row is bad: the insurer fixes the file and sends it
    again. Imported doctors get an invitation e-mail (after commit, in the background).
    """
    report, dataset = portfolio_check(content=content)
    if report.clean:
        try:
            platform_doctors_check(adding=report.rows)
        except PolicyError as exc:
            # Not a bad row but the insurer's platform plan: reported as line 0, nothing imported.
            report.errors.append((0, str(exc)))
    if dry_run or not report.clean:
        return report
    with transaction.atomic():
        user_ids = portfolio_load(dataset=dataset)
        task_enqueue_on_commit(actor=doctor_invitations_send_task, kwargs={"user_ids": user_ids})
    report.imported = len(user_ids)
    return report
