"""A refused cover is no dead end: the doctor reads the reason, the clause of the plan, the
complaint service and the insurance mediator; the claim's deadlines close, and come back when a
handler reverses the refusal (audited)."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from wagtail.models import Site

from cover.claims.models import Claim, CoverDecisionRecord
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.cover_check import cover_check, cover_clauses, cover_refuse
from cover.claims.services.notifications import claim_doctor_email_send
from cover.claims.services.reminders import claims_deadline_reminders_send
from cover.models import InsurerLegalInfo
from tests.conftest import PASSWORD, staff_login
from tests.cover.claims_factories import (
    claim_qualified,
    doctor_create,
    handler_create,
)
from tests.cover.factories import PlanFactory, PolicyFactory

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
EXCLUSIONS = "Litiges entre associés du cabinet\nContenus publiés par l'assuré lui-même"
LEGAL_A = {
    "complaint_service_contact": "Service réclamations Assureur A, 1 rue de la Paix, 75002 Paris",
    "mediator_name": "La Médiation de l'Assurance (A)",
    "mediator_url": "https://mediation-a.exemple/",
    "mediator_address": "TSA 50110, 75441 Paris Cedex 09",
}
LEGAL_B = {
    "complaint_service_contact": "Réclamations Assureur B, 9 quai B, 69002 Lyon",
    "mediator_name": "Médiateur B",
    "mediator_url": "https://mediation-b.exemple/",
    "mediator_address": "BP 9, 69000 Lyon",
}
CLOSED = "Délais clos : garantie refusée"


def _legal_info_set(values: dict[str, str]) -> None:
    info = InsurerLegalInfo.for_site(Site.objects.get(is_default_site=True))
    for name, value in values.items():
        setattr(info, name, value)
    info.save()


def _login(client: Client, email: str) -> None:
    response = client.post("/compte/connexion/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302


def _claim_in_force(*, waiting_period_days: int = 0, last_name: str = "Martin") -> Claim:
    """A qualified claim (press-law clocks running) of a doctor whose policy started 200 days
    ago, dated from today so that its deadlines are live on the doctor's page."""
    today = timezone.localdate()
    doctor = doctor_create(last_name=last_name)
    plan = PlanFactory(
        exclusions=EXCLUSIONS,
        waiting_period_days=waiting_period_days,
        per_claim_ceiling_cents=None,
        annual_ceiling_cents=None,
    )
    PolicyFactory(doctor=doctor, plan=plan, start_date=today - 200 * DAY)
    return claim_qualified(
        doctor=doctor,
        publication_date=today - 10 * DAY,
        seen_date=today - 5 * DAY,
        today=today,
    )


def test_the_automatic_check_refuses_with_the_plan_clause_and_closes_the_deadlines(tenant_a):
    with tenant_context(tenant_a.insurer):
        today = timezone.localdate()
        doctor = doctor_create()
        PolicyFactory(
            doctor=doctor, plan=PlanFactory(waiting_period_days=90), start_date=today - 30 * DAY
        )
        claim = claim_qualified(
            doctor=doctor,
            publication_date=today - 10 * DAY,
            seen_date=today - 5 * DAY,
            today=today,
        )
        claim.refresh_from_db()
        deadline_before = claim.next_deadline_date

        cover_check(claim=claim, by=doctor.user)
        claim.refresh_from_db()
        record = CoverDecisionRecord.objects.get(claim=claim)

    assert deadline_before is not None
    assert (claim.cover_status, claim.cover_clause_code) == ("refused", "WAITING_PERIOD")
    assert claim.cover_clause == (
        "Délai de carence de 90 jours à compter de la date d'effet du contrat."
    )
    assert (claim.next_deadline_date, claim.next_deadline_label) == (None, CLOSED)
    assert (record.previous_status, record.status, record.clause_code) == (
        "pending",
        "refused",
        "WAITING_PERIOD",
    )
    assert record.decided_by_id == doctor.user.pk


def test_the_handler_refuses_with_a_reason_and_an_exclusion_of_the_plan(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _claim_in_force()
        handler = handler_create()
        cover_check(claim=claim, by=handler)
        choices = [c.code for c in cover_clauses(claim=claim)]
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(client, handler)
        page = client.get(f"/admin/sinistres/{claim.pk}/").content.decode()

    response = client.post(
        f"/admin/sinistres/{claim.pk}/garantie/refus/",
        {
            "refuse-reason": "L'avis a été publié par votre associé.",
            "refuse-clause_code": "EXCLUSION:1",
            "refuse-clause_text": "",
        },
    )

    assert response.status_code == 302
    assert choices == ["NO_POLICY", "ANTERIORITY", "TERRITORY", "EXCLUSION:1", "EXCLUSION:2"]
    assert 'name="refuse-clause_code"' in page
    assert "Exclusion : Contenus publiés par l&#x27;assuré lui-même" in page
    with tenant_context(tenant_a.insurer):
        claim.refresh_from_db()
        event = claim.events.get(kind="COVER_REFUSED")
        records = list(claim.cover_decisions.values_list("previous_status", "status"))
    assert (claim.cover_status, claim.cover_reasons) == (
        "refused",
        ["L'avis a été publié par votre associé."],
    )
    assert claim.cover_clause == "Exclusion : Litiges entre associés du cabinet"
    assert event.note == (
        "La garantie ne couvre pas ce dossier : L'avis a été publié par votre associé. "
        "Clause appliquée : Exclusion : Litiges entre associés du cabinet"
    )
    assert event.recorded_by_id == handler.pk
    assert records == [("pending", "covered"), ("covered", "refused")]
    assert (claim.next_deadline_date, claim.next_deadline_label) == (None, CLOSED)


def test_a_refusal_without_reason_or_clause_is_refused_and_records_nothing(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _claim_in_force()
        handler = handler_create()
        with pytest.raises(ClaimActionRefused) as refused:
            cover_refuse(claim=claim, by=handler, reason=" ", clause_code="NOPE")
        with pytest.raises(ClaimActionRefused) as other:
            cover_refuse(claim=claim, by=handler, reason="Motif", clause_code="OTHER")
        claim.refresh_from_db()
        assert claim.cover_decisions.count() == 0
        assert not claim.events.filter(kind="COVER_REFUSED").exists()
    assert refused.value.reasons == [
        "Indiquez le motif du refus de garantie.",
        "Choisissez la clause du contrat qui exclut ce dossier.",
    ]
    assert other.value.reasons == ["Citez la clause du contrat qui exclut ce dossier."]
    assert claim.cover_status == "pending"
    assert claim.next_deadline_date is not None


def test_a_doctor_cannot_refuse_a_cover_and_nothing_changes(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _claim_in_force()
        email = claim.doctor.user.email
    client = Client(HTTP_HOST=tenant_a.domain)
    _login(client, email)
    response = client.post(
        f"/admin/sinistres/{claim.pk}/garantie/refus/",
        {"refuse-reason": "x", "refuse-clause_code": "NO_POLICY"},
    )
    assert response.status_code in (302, 403)
    with tenant_context(tenant_a.insurer):
        claim.refresh_from_db()
        assert claim.cover_status == "pending"
        assert claim.cover_decisions.count() == 0


def test_the_doctor_reads_the_refusal_the_routes_to_contest_it_and_no_live_deadline(tenant_a):
    with tenant_context(tenant_a.insurer):
        _legal_info_set(LEGAL_A)
        claim = _claim_in_force()
        handler = handler_create()
        email = claim.doctor.user.email
    client = Client(HTTP_HOST=tenant_a.domain)
    _login(client, email)
    before = client.get(f"/portail/sinistres/{claim.pk}/").content.decode()
    with tenant_context(tenant_a.insurer):
        cover_refuse(
            claim=claim,
            by=handler,
            reason="L'avis a été publié par votre associé.",
            clause_code="EXCLUSION:1",
        )

    page = client.get(f"/portail/sinistres/{claim.pk}/").content.decode()
    listing = client.get("/portail/sinistres/").content.decode()

    assert "Prescription loi de 1881" in before and 'id="cover-refusal"' not in before
    assert 'id="cover-refusal"' in page
    assert "L&#x27;avis a été publié par votre associé." in page
    assert "Exclusion : Litiges entre associés du cabinet" in page
    assert "Service réclamations Assureur A, 1 rue de la Paix, 75002 Paris" in page
    assert "La Médiation de l&#x27;Assurance (A)" in page
    assert 'href="https://mediation-a.exemple/"' in page
    assert "TSA 50110, 75441 Paris Cedex 09" in page
    assert CLOSED in page
    assert "Prescription" not in page and "jours)" not in page
    assert "Refusée" in listing


def test_the_refusal_e_mail_says_so_with_the_clause_and_the_mediator(tenant_a):
    with tenant_context(tenant_a.insurer):
        _legal_info_set(LEGAL_A)
        claim = _claim_in_force()
        cover_refuse(
            claim=claim,
            by=handler_create(),
            reason="L'avis a été publié par votre associé.",
            clause_code="EXCLUSION:1",
        )
        event = claim.events.get(kind="COVER_REFUSED")
        email = claim.doctor.user.email
        mail.outbox.clear()
        claim_doctor_email_send(claim_id=claim.pk, event_id=event.pk)
    (message,) = mail.outbox
    assert message.to == [email]
    assert message.subject == f"Dossier {claim.reference} : refus de garantie"
    assert "avance" not in message.subject + message.body
    body = message.body
    assert "Motif : L'avis a été publié par votre associé." in body
    assert "Clause du contrat appliquée : Exclusion : Litiges entre associés du cabinet" in body
    assert (
        "écrivez au service réclamations de votre assureur : Service réclamations Assureur A, "
        "1 rue de la Paix, 75002 Paris" in body
    )
    assert (
        "médiateur de l'assurance : La Médiation de l'Assurance (A), "
        "https://mediation-a.exemple/, TSA 50110, 75441 Paris Cedex 09" in body
    )
    assert "Les délais de ce dossier sont clos" in body
    assert f"http://{tenant_a.domain}/portail/sinistres/{claim.pk}/" in body


def test_a_refused_claim_gets_no_deadline_reminder(tenant_a, unique):
    D = datetime.date
    with tenant_context(tenant_a.insurer):
        handler = handler_create(email=f"rappel-{unique}@exemple.fr")
        claim = claim_qualified(
            publication_date=D(2025, 1, 15), seen_date=D(2025, 1, 20), today=D(2025, 1, 20)
        )
        claim.assigned_to = handler
        claim.save(update_fields=["assigned_to"])
        cover_refuse(claim=claim, by=handler, reason="Hors garantie.", clause_code="NO_POLICY")
        mail.outbox.clear()
        sent = claims_deadline_reminders_send(today=D(2025, 3, 1))
        reminders = [m for m in mail.outbox if claim.reference in m.subject]
        reminder_events = claim.events.filter(kind="REMINDER_SENT").count()
    # The same claim, not refused, gets two reminders that day (test_claim_reminders).
    assert (sent, reminders, reminder_events) == (0, [], 0)


def test_the_handler_reverses_the_refusal_audited_and_the_deadlines_come_back(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _claim_in_force()
        claim.refresh_from_db()
        live = (claim.next_deadline_date, claim.next_deadline_label)
        handler = handler_create()
        cover_refuse(claim=claim, by=handler, reason="Hors garantie.", clause_code="EXCLUSION:2")
        email = claim.doctor.user.email
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(client, handler)
    empty = client.post(f"/admin/sinistres/{claim.pk}/garantie/reexamen/", {"reverse-reason": ""})
    with tenant_context(tenant_a.insurer):
        assert Claim.objects.get(pk=claim.pk).cover_status == "refused"

    response = client.post(
        f"/admin/sinistres/{claim.pk}/garantie/reexamen/",
        {"reverse-reason": "Réclamation du médecin : l'auteur n'est pas son associé."},
    )

    assert (empty.status_code, response.status_code) == (302, 302)
    with tenant_context(tenant_a.insurer):
        claim.refresh_from_db()
        last = claim.cover_decisions.order_by("-pk").first()
        event = claim.events.get(kind="COVER_REFUSAL_REVERSED")
        assert claim.cover_decisions.count() == 2
    assert (claim.cover_status, claim.cover_reasons, claim.cover_clause) == ("covered", [], "")
    assert (claim.next_deadline_date, claim.next_deadline_label) == live
    assert (last.previous_status, last.status, last.decided_by_id) == (
        "refused",
        "covered",
        handler.pk,
    )
    assert last.note == "Réclamation du médecin : l'auteur n'est pas son associé."
    assert event.note == (
        "Après réexamen, votre garantie couvre ce dossier. Motif : Réclamation du médecin : "
        "l'auteur n'est pas son associé."
    )
    doctor = Client(HTTP_HOST=tenant_a.domain)
    _login(doctor, email)
    page = doctor.get(f"/portail/sinistres/{claim.pk}/").content.decode()
    assert 'id="cover-refusal"' not in page and CLOSED not in page
    assert "Prescription loi de 1881" in page


def test_each_insurer_shows_its_own_mediator_and_b_cannot_see_a_refusal(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        _legal_info_set(LEGAL_A)
        claim_a = _claim_in_force()
        email_a = claim_a.doctor.user.email
        cover_refuse(
            claim=claim_a, by=handler_create(), reason="Motif A.", clause_code="EXCLUSION:1"
        )
    with tenant_context(tenant_b.insurer):
        _legal_info_set(LEGAL_B)
        claim_b = _claim_in_force(last_name="Bernard")
        cover_refuse(
            claim=claim_b, by=handler_create(), reason="Motif B.", clause_code="EXCLUSION:1"
        )
        email_b = claim_b.doctor.user.email
        assert not Claim.objects.filter(doctor__user__email=email_a).exists()
    client = Client(HTTP_HOST=tenant_b.domain)
    _login(client, email_b)

    own = client.get(f"/portail/sinistres/{claim_b.pk}/").content.decode()
    other = client.get(f"/portail/sinistres/{claim_a.pk}/") if claim_a.pk != claim_b.pk else None
    listing = client.get("/portail/sinistres/").content.decode()

    assert "Médiateur B" in own and "Motif B." in own
    assert "Assureur A" not in own and "Motif A." not in own
    if other is not None:
        assert other.status_code == 404
    assert "Motif A." not in listing
    # A's doctor account does not exist at insurer B: no session, no page.
    intruder = Client(HTTP_HOST=tenant_b.domain)
    refused_login = intruder.post("/compte/connexion/", {"username": email_a, "password": PASSWORD})
    assert refused_login.status_code == 200
    assert intruder.get(f"/portail/sinistres/{claim_b.pk}/").status_code == 302
