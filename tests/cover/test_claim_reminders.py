"""Deadline reminders: the assigned handler is e-mailed on each alert date, once per day."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from cover.claims.services.reminders import claims_deadline_reminders_send
from tests.cover.claims_factories import claim_qualified, handler_create

pytestmark = pytest.mark.django_db
D = datetime.date


def test_day_45_of_the_press_clock_mails_the_assigned_handler_once(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        handler = handler_create(email=f"rappel-{unique}@exemple.fr")
        claim = claim_qualified(
            publication_date=D(2025, 1, 15), seen_date=D(2025, 1, 20), today=D(2025, 1, 20)
        )
        claim.assigned_to = handler
        claim.save(update_fields=["assigned_to"])
        mail.outbox.clear()

        claims_deadline_reminders_send(today=D(2025, 3, 1))
        day_45 = [m for m in mail.outbox if claim.reference in m.subject]
        again = claims_deadline_reminders_send(today=D(2025, 3, 1))
        mail.outbox.clear()
        claims_deadline_reminders_send(today=D(2025, 3, 2))
        day_46 = [m for m in mail.outbox if claim.reference in m.subject]

    assert sorted(m.subject for m in day_45) == [
        f"Échéance Avocat saisi au plus tard 60 jours après la publication — dossier {claim.reference}",
        f"Échéance Prescription loi de 1881 (3 mois) — dossier {claim.reference}",
    ]
    assert [m.to for m in day_45] == [[handler.email], [handler.email]]
    press = next(m for m in day_45 if "Prescription" in m.subject)
    assert (
        f"Dossier {claim.reference} : Prescription loi de 1881 (3 mois), échéance le 14/04/2025"
        in (press.body)
    )
    assert again == 0
    assert day_46 == []
