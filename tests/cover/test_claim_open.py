"""Opening a claim: passages located verbatim, capture requested, questionnaire proposals."""

from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import tenant_context

from cover.claims.models import Claim, ClaimEvent
from cover.claims.selectors.claims import dashboards_invalidate
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.opening import claim_qualify, claim_questionnaire_answer
from tests.cover.claims_factories import (
    DEFAMATORY,
    INSULT,
    REVIEW,
    WAITING,
    claim_create,
    doctor_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _captures_allowed_on_loopback(settings):
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]


def test_opening_stores_exact_passages_with_offsets_and_requests_a_capture(
    tenant_a, django_capture_on_commit_callbacks
):
    with tenant_context(tenant_a.insurer):
        # given a doctor reporting a review with two passages
        doctor = doctor_create()
        # when the claim is opened
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            claim = claim_create(
                doctor=doctor,
                quotes=(INSULT, DEFAMATORY),
                urls=["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"],
                author_is_doctor=True,
            )
        # then passages carry their exact offsets in the copied text
        passages = list(claim.passages.all())
        assert [(p.quote, p.start, p.end) for p in passages] == [
            (INSULT, 0, 27),
            (DEFAMATORY, 28, 69),
        ]
        assert [REVIEW[p.start : p.end] for p in passages] == [INSULT, DEFAMATORY]
        # and a capture is requested for each URL, T_seen is recorded, the doctor is told
        kinds = [(e.kind, e.note, e.ref.startswith("capture-")) for e in claim.events.all()]
        assert kinds == [
            ("CONTENT_DISCOVERED", "", False),
            ("CAPTURE_REQUESTED", "http://127.0.0.1:9/a", True),
            ("CAPTURE_REQUESTED", "http://127.0.0.1:9/b", True),
            ("CLAIM_OPENED", "", False),
        ]
        assert claim.reference == f"S-2025-{claim.pk:05d}"
        assert claim.state == "INTAKE"
        assert sorted(claim.facts) == ["AUTHOR_IS_DOCTOR"]
        # after commit: two captures queued and one e-mail to the doctor (the opening)
        assert len([c for c in callbacks if c is not dashboards_invalidate]) == 3
        # and the handlers' dashboards are refreshed once, whatever the rows written
        assert [c for c in callbacks if c is dashboards_invalidate] == [dashboards_invalidate]
        # and before qualification the queue presumes the press-law deadline
        assert claim.next_deadline_date == datetime.date(2025, 6, 9)


def test_a_url_the_capture_guard_refuses_does_not_block_the_claim(tenant_a, settings):
    settings.EGIDE_CAPTURE_ALLOW = []
    with tenant_context(tenant_a.insurer):
        # given a loopback URL that captures may not reach / when the claim is opened
        claim = claim_create(urls=["http://127.0.0.1:9/interne"])
        # then the claim exists and the refusal is noted for the handler only
        event = claim.events.get(kind="CAPTURE_REQUESTED")
        assert event.note.startswith("http://127.0.0.1:9/interne — capture impossible : ")
        assert (event.ref, event.visible_to_doctor) == ("", False)


def test_a_quote_that_is_not_in_the_text_is_refused_and_nothing_is_created(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        before = Claim.objects.count()
        with pytest.raises(ClaimActionRefused) as refused:
            claim_create(doctor=doctor, quotes=("Il est nul",))
        assert refused.value.reasons == [
            "Le passage « Il est nul » ne figure pas mot pour mot dans le texte copié."
        ]
        assert Claim.objects.count() == before


def test_bad_dates_and_urls_are_all_reported_at_once(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        with pytest.raises(ClaimActionRefused) as refused:
            claim_create(
                doctor=doctor,
                urls=["avis.example/sans-schema"],
                publication_date=datetime.date(2025, 3, 20),
                seen_date=datetime.date(2025, 3, 12),
                today=datetime.date(2025, 3, 15),
            )
        assert refused.value.reasons == [
            "Adresse invalide : avis.example/sans-schema",
            "La date de publication ne peut pas être dans le futur.",
            "La date de publication ne peut pas suivre la date de découverte.",
        ]
        assert not ClaimEvent.objects.filter(claim__doctor=doctor).exists()


def test_questionnaire_proposes_one_category_per_passage_in_domain_order(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given a claim with three passages
        claim = claim_create(quotes=(INSULT, DEFAMATORY, WAITING))
        # when the doctor answers: an insult, a precise imputation, a complaint about waiting
        claim_questionnaire_answer(
            claim=claim,
            by=claim.doctor.user,
            page_is_listing=False,
            answers=[
                {"outrageous_expression": True},
                {"precise_factual_imputation": True, "outrageous_expression": True},
                {},
            ],
        )
        # then the proposal follows §2.2 (imputation absorbs the insult; the rest is lawful)
        passages = list(claim.passages.order_by("position"))
        assert [(p.proposed_category, p.proposed_step) for p in passages] == [
            ("INJURE", 4),
            ("DIFFAMATION", 3),
            ("LAWFUL_NEGATIVE", 7),
        ]
        assert [p.confirmed_category for p in passages] == ["", "", ""]
        assert claim.events.filter(kind="QUESTIONNAIRE_ANSWERED").count() == 1


def test_handler_confirms_with_qualification_and_articles(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_create(quotes=(INSULT, DEFAMATORY))
        claim_questionnaire_answer(
            claim=claim,
            by=claim.doctor.user,
            page_is_listing=False,
            answers=[{"outrageous_expression": True}, {"precise_factual_imputation": True}],
        )
        insult, defamation = claim.passages.order_by("position")
        claim_qualify(
            claim=claim,
            by=claim.doctor.user,
            categories={insult.pk: "INJURE", defamation.pk: "DIFFAMATION"},
        )
        insult.refresh_from_db()
        defamation.refresh_from_db()
        assert (insult.qualification, insult.legal_basis) == (
            "Injure publique envers un particulier",
            "Loi du 29 juillet 1881, art. 29 al. 2 et 33 al. 2",
        )
        assert (defamation.qualification, defamation.legal_basis) == (
            "Diffamation publique envers un particulier",
            "Loi du 29 juillet 1881, art. 29 al. 1 et 32 al. 1",
        )


def test_one_form_cannot_queue_thousands_of_captures(tenant_a):
    from evidence.models import Capture

    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        claims_before, captures_before = Claim.objects.count(), Capture.objects.count()
        # when a claim form carries 5,000 addresses
        with pytest.raises(ClaimActionRefused) as refused:
            claim_create(doctor=doctor, urls=[f"https://avis.example/{n}" for n in range(5000)])
        # then it is refused with a French reason, and nothing is created or queued
        assert refused.value.reasons == [
            "5000 adresses : un dossier en compte 20 au plus. Ouvrez un dossier par contenu, "
            "ou signalez les autres adresses à votre gestionnaire."
        ]
        assert (Claim.objects.count(), Capture.objects.count()) == (
            claims_before,
            captures_before,
        )
        assert not ClaimEvent.objects.filter(claim__doctor=doctor).exists()


def test_the_same_address_twice_is_captured_once(tenant_a, django_capture_on_commit_callbacks):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        claim = claim_create(
            doctor=doctor, urls=["http://127.0.0.1:9/avis/1", " http://127.0.0.1:9/avis/1 "]
        )
        assert claim.urls == ["http://127.0.0.1:9/avis/1"]
