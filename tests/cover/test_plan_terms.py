"""Plan terms enforced: territory, waiting period, threshold and sub-ceilings give French
refusals or warnings; the declaration delay is a structured duration that drives its clock."""

from __future__ import annotations

import datetime
import importlib
from dataclasses import replace

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import tenant_context

from cover.claims import plan_terms
from cover.claims.models import CostKind
from cover.claims.selectors.costs import claim_cost_summary
from cover.claims.selectors.engine import claim_deadlines
from cover.claims.services.costs import cost_record
from cover.claims.services.cover_check import cover_check
from cover.models import Plan
from cover.rules import Duration, DurationUnit
from cover.selectors import guarantee_rows, policy_terms
from cover.services.site import plan_terms_snapshot
from cover.terms import Terms
from tests.cover.claims_factories import (
    claim_create,
    doctor_create,
)
from tests.cover.factories import PlanFactory, PolicyFactory

TODAY = datetime.date(2025, 3, 20)
NBSP = "\u00a0"

# --- pure rules --------------------------------------------------------------------------


def _terms(**values) -> Terms:
    return replace(
        Terms.from_json(
            {
                "plan_name": "Test",
                "monitoring_frequency": "monthly",
                "max_keywords": 3,
                "max_watched_pages": 2,
                "removal_requests_per_year": 2,
                "positive_content_campaigns_per_year": 0,
                "per_claim_ceiling_cents": None,
                "annual_ceiling_cents": None,
                "cleanup_subceiling_cents": None,
                "deductible_cents": 0,
                "intervention_threshold_cents": 0,
                "waiting_period_days": 0,
                "anteriority": "after_subscription",
                "anteriority_years": 0,
                "declaration_delay": "5 jours ouvrés",
                "territory": "France",
                "provider_obligation": "means",
                "free_choice_of_lawyer": True,
                "exclusions": "",
                "price_cents": 990,
                "billing_period": "month",
            }
        ),
        **values,
    )


def _usage(**values) -> plan_terms.CostUsage:
    base = {
        "stake_cents": 0,
        "deductible_used_cents": 0,
        "claim_covered_cents": 0,
        "service_covered_cents": 0,
        "year_covered_cents": 0,
    }
    return plan_terms.CostUsage(**{**base, **values})


def test_terms_frozen_before_the_structure_are_read_with_the_parsers():
    # given terms sold before the structured fields existed (text only)
    terms = _terms()
    # then the delay and territory are derived from the text, which stays as sold
    assert terms.declaration_delay == "5 jours ouvrés"
    assert terms.declaration_duration == Duration(5, DurationUnit.WORKING_DAYS)
    assert terms.territory_scope == "france"


def test_content_published_during_the_waiting_period_is_refused_even_if_seen_after():
    reason = plan_terms.waiting_period_refusal(
        policy_start=datetime.date(2025, 1, 1),
        waiting_days=30,
        published=datetime.date(2025, 1, 20),
        seen=datetime.date(2025, 2, 15),
    )
    assert reason == (
        "Le contenu a été publié le 20/01/2025, pendant le délai de carence de 30 jours "
        "(fin le 31/01/2025)."
    )
    # and content published and seen after the waiting period is not refused
    assert (
        plan_terms.waiting_period_refusal(
            policy_start=datetime.date(2025, 1, 1),
            waiting_days=30,
            published=datetime.date(2025, 2, 1),
            seen=datetime.date(2025, 2, 2),
        )
        is None
    )


@pytest.mark.parametrize(
    ("scope", "address", "refusal"),
    [
        (
            "france_metropole",
            "3 rue de Paris, 97400 Saint-Denis",
            "Le cabinet du médecin (code postal 97400, outre-mer) est hors de la territorialité "
            "du contrat (France métropolitaine).",
        ),
        ("france", "3 rue de Paris, 97400 Saint-Denis", None),
        (
            "eu",
            "8 rue de Sébastopol, 98800 Nouméa",
            "Le cabinet du médecin (code postal 98800, collectivité d'outre-mer hors Union "
            "européenne) est hors de la territorialité du contrat (Union européenne).",
        ),
        (
            "france",
            "1 avenue de la Costa, 98000 Monaco",
            "Le cabinet du médecin (code postal 98000, hors de France) est hors de la "
            "territorialité du contrat (France).",
        ),
        ("france_metropole", "12 rue des Lilas, 75011 Paris", None),
        ("world", "1 avenue de la Costa, 98000 Monaco", None),
    ],
)
def test_territory_is_judged_on_the_practice_postal_code(scope, address, refusal):
    assert plan_terms.territory_check(scope=scope, address=address, city="") == (refusal, None)


def test_practice_without_postal_code_gets_a_note_not_a_refusal():
    assert plan_terms.territory_check(scope="france", address="Cabinet médical", city="Lyon") == (
        None,
        "Territorialité du contrat (France) : indiquez le code postal de votre cabinet pour "
        "qu'elle puisse être vérifiée.",
    )


def test_below_the_threshold_nothing_is_paid():
    allocation = plan_terms.cost_allocate(
        amount_cents=10_000,
        service="constat",
        terms=_terms(intervention_threshold_cents=30_000, deductible_cents=5_000),
        usage=_usage(stake_cents=10_000),
    )
    assert allocation == plan_terms.CostAllocation(
        0,
        0,
        (
            f"Frais engagés sur le dossier : 100,00{NBSP}€, sous le seuil d'intervention de "
            f"300,00{NBSP}€ : rien n'est pris en charge tant que ce seuil n'est pas atteint.",
        ),
    )


def test_a_service_sub_ceiling_caps_the_fee_with_a_warning():
    allocation = plan_terms.cost_allocate(
        amount_cents=50_000,
        service="nettoyage",
        terms=_terms(cleanup_subceiling_cents=100_000),
        usage=_usage(stake_cents=130_000, service_covered_cents=80_000),
    )
    assert allocation == plan_terms.CostAllocation(
        20_000,
        0,
        (
            f"Sous-plafond « Nettoyage et déréférencement » de 1\u202f000,00{NBSP}€ par "
            f"sinistre : 200,00{NBSP}€ restaient disponibles.",
            f"300,00{NBSP}€ restent à la charge de l'assuré au-delà de la franchise.",
        ),
    )


def test_a_service_the_plan_excludes_pays_nothing():
    allocation = plan_terms.cost_allocate(
        amount_cents=40_000,
        service="avocat",
        terms=_terms(lawyer_subceiling_cents=0),
        usage=_usage(stake_cents=40_000),
    )
    assert (allocation.covered_cents, allocation.notes[0]) == (
        0,
        "La formule ne prend pas en charge le service « Honoraires d'avocat et frais de "
        "procédure ».",
    )


def test_a_fee_within_every_limit_has_no_warning():
    allocation = plan_terms.cost_allocate(
        amount_cents=40_000,
        service="constat",
        terms=_terms(constat_subceiling_cents=80_000, per_claim_ceiling_cents=500_000),
        usage=_usage(stake_cents=40_000),
    )
    assert allocation == plan_terms.CostAllocation(40_000, 0, ())


# --- the migration's conversion ------------------------------------------------------------

migration = importlib.import_module("cover.migrations.0005_plan_structured_terms")


@pytest.mark.parametrize(
    ("delay", "territory", "expected", "note"),
    [
        ("5 jours ouvrés", "France", (5, "WORKING_DAYS", "france"), ""),
        ("10 jours ouvrables", "Union européenne", (10, "WORKING_DAYS", "eu"), ""),
        ("15 jours", "France métropolitaine", (15, "DAYS", "france_metropole"), ""),
        ("1 an", "Monde", (12, "MONTHS", "world"), ""),
        (
            "2 mois après refus",
            "France",
            (None, "", "france"),
            "Délai de déclaration : « 2 mois après refus »",
        ),
        (
            "2 mois",
            "France et Suisse",
            (2, "MONTHS", "world"),
            "Territorialité : « France et Suisse »",
        ),
    ],
)
def test_the_migration_converts_the_old_texts(delay, territory, expected, note):
    values = {"declaration_delay": delay, "territory": territory}
    review = migration._structure(values, "")
    assert (
        values["declaration_delay_amount"],
        values["declaration_delay_unit"],
        values["territory_scope"],
    ) == expected
    assert review == note


@pytest.mark.django_db
def test_the_migration_runs_on_stored_plans_versions_and_revisions(tenant_a):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("cover", "0004_clock_settings")]
    after = [("cover", "0006_plan_old_term_texts_remove")]
    with tenant_context(tenant_a.insurer):
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        old = executor.loader.project_state(before[0]).apps
        OldPlan = old.get_model("cover", "Plan")
        OldVersion = old.get_model("cover", "PlanVersion")
        readable = OldPlan.objects.create(
            name="Lisible", slug="mig-lisible", declaration_delay="10 jours ouvrés"
        )
        unreadable = OldPlan.objects.create(
            name="Illisible",
            slug="mig-illisible",
            declaration_delay="2 mois après refus",
            territory="Union européenne",
        )
        OldVersion.objects.create(
            plan=unreadable,
            number=1,
            terms={"plan_name": "Illisible", "declaration_delay": "2 mois", "territory": "Monde"},
        )
        # the rows above must be checked before the schema changes (as a committed deploy)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        readable_now = Plan.objects.get(pk=readable.pk)
        unreadable_now = Plan.objects.get(pk=unreadable.pk)
        version_terms = unreadable_now.versions.get(number=1).terms
    assert (readable_now.declaration_delay_amount, readable_now.declaration_delay_unit) == (
        10,
        "WORKING_DAYS",
    )
    assert (readable_now.terms_review_note, readable_now.declaration_delay) == (
        "",
        "10 jours ouvrés",
    )
    assert (unreadable_now.declaration_delay_amount, unreadable_now.declaration_delay_unit) == (
        None,
        "",
    )
    assert unreadable_now.terms_review_note == "Délai de déclaration : « 2 mois après refus »"
    assert unreadable_now.terms_to_review() is True
    assert unreadable_now.territory_scope == "eu"
    # the frozen version keeps its text and gains the structure
    assert version_terms["declaration_delay"] == "2 mois"
    assert (version_terms["declaration_delay_amount"], version_terms["declaration_delay_unit"]) == (
        2,
        "MONTHS",
    )
    assert version_terms["territory_scope"] == "world"


# --- the plan model ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_delay_needs_both_its_number_and_its_unit(tenant_a):
    with tenant_context(tenant_a.insurer):
        plan = Plan(name="Sans unité", slug="sans-unite", declaration_delay_unit="")
        with pytest.raises(ValidationError) as error:
            plan.full_clean()
    assert error.value.message_dict["declaration_delay_amount"] == [
        "Indiquez le nombre et l'unité du délai de déclaration, ou aucun des deux."
    ]


@pytest.mark.django_db
def test_the_text_shown_is_the_structured_delay(tenant_a):
    with tenant_context(tenant_a.insurer):
        plan = PlanFactory(declaration_delay_amount=2, declaration_delay_unit="MONTHS")
        terms = plan_terms_snapshot(plan=plan)
    assert terms.declaration_delay == "2 mois"
    assert ("Délai de déclaration", "2 mois") in guarantee_rows(terms=terms)


# --- wired into the cover check, the costs and the declaration clock -----------------------


@pytest.mark.django_db
def test_cover_check_refuses_a_practice_outside_the_territory(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        doctor.practice_address = "5 rue du Port, 97200 Fort-de-France"
        doctor.save(update_fields=["practice_address"])
        PolicyFactory(
            doctor=doctor,
            plan=PlanFactory(territory_scope="france_metropole"),
            start_date=datetime.date(2025, 1, 1),
        )
        claim = claim_create(doctor=doctor)
        decision = cover_check(claim=claim, by=doctor.user, today=TODAY)
        claim.refresh_from_db()
    reason = (
        "Le cabinet du médecin (code postal 97200, outre-mer) est hors de la territorialité du "
        "contrat (France métropolitaine)."
    )
    assert (decision.covered, decision.reasons) == (False, (reason,))
    assert (claim.cover_status, claim.cover_reasons) == ("refused", [reason])


@pytest.mark.django_db
def test_cover_check_tells_the_threshold(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        PolicyFactory(
            doctor=doctor,
            plan=PlanFactory(
                intervention_threshold_cents=30_000,
                per_claim_ceiling_cents=None,
                annual_ceiling_cents=None,
            ),
            start_date=datetime.date(2025, 1, 1),
        )
        claim = claim_create(doctor=doctor)
        decision = cover_check(claim=claim, by=doctor.user, today=TODAY)
        note = claim.events.get(kind="COVER_CHECKED").note
    assert decision.covered is True
    assert note == (
        "Votre garantie couvre ce dossier. Seuil d'intervention : les frais ne sont pris en "
        f"charge qu'à partir de 300,00{NBSP}€ de frais engagés sur le dossier."
    )


def _covered_claim(**terms):
    doctor = doctor_create()
    PolicyFactory(doctor=doctor, plan=PlanFactory(**terms), start_date=datetime.date(2025, 1, 1))
    claim = claim_create(doctor=doctor)
    cover_check(claim=claim, by=doctor.user, today=TODAY)
    return claim


def _cost(claim, amount, *, kind=CostKind.OTHER, service=None, day=TODAY):
    return cost_record(
        claim=claim,
        kind=kind,
        amount_cents=amount,
        label="Frais",
        incurred_on=day,
        by=claim.doctor.user,
        service=service,
        today=TODAY,
    )


@pytest.mark.django_db
def test_fees_held_below_the_threshold_become_payable_when_it_is_reached(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _covered_claim(intervention_threshold_cents=30_000)
        # given a first fee below the threshold: nothing paid, a warning
        first = _cost(claim, 10_000, kind=CostKind.COMMISSAIRE, day=datetime.date(2025, 3, 14))
        assert (first.covered_cents, len(first.cover_notes)) == (0, 1)
        below = claim_cost_summary(claim=claim, today=TODAY)
        assert (below.threshold_cents, below.threshold_reached) == (30_000, False)
        # when a second fee brings the claim's fees to 350 €
        second = _cost(claim, 25_000, kind=CostKind.AVOCAT)
        first.refresh_from_db()
        summary = claim_cost_summary(claim=claim, today=TODAY)
    # then both are paid and the first one says why it changed
    assert (first.covered_cents, second.covered_cents) == (10_000, 25_000)
    assert first.cover_notes == [
        "Seuil d'intervention atteint le 20/03/2025 : frais pris en charge."
    ]
    assert (first.service, second.service) == ("constat", "avocat")
    assert (summary.covered_cents, summary.threshold_reached) == (35_000, True)


@pytest.mark.django_db
def test_a_cleanup_fee_beyond_its_sub_ceiling_is_capped(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _covered_claim(cleanup_subceiling_cents=100_000, per_claim_ceiling_cents=500_000)
        _cost(claim, 80_000, service="nettoyage")
        capped = _cost(claim, 50_000, service="nettoyage")
        lawyer = _cost(claim, 50_000, kind=CostKind.AVOCAT)
        summary = claim_cost_summary(claim=claim, today=TODAY)
    assert (capped.covered_cents, lawyer.covered_cents) == (20_000, 50_000)
    assert capped.cover_notes[-1] == (
        f"300,00{NBSP}€ restent à la charge de l'assuré au-delà de la franchise."
    )
    assert lawyer.cover_notes == []
    assert [(u.service, u.covered_cents, u.remaining_cents) for u in summary.subceilings] == [
        ("nettoyage", 100_000, 0)
    ]


@pytest.mark.django_db
def test_the_costs_panel_shows_the_service_and_the_warning(tenant_a):
    from tests.conftest import staff_login
    from tests.cover.claims_factories import handler_create

    with tenant_context(tenant_a.insurer):
        claim = _covered_claim(constat_subceiling_cents=20_000)
        handler = handler_create()
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, handler)
        # when the handler records a 300 € constat through the claim page
        response = client.post(
            f"/admin/sinistres/{claim.pk}/frais/",
            {
                "kind": "commissaire",
                "service": "",
                "label": "Constat",
                "amount": "300",
                "incurred_on": "2025-03-18",
            },
            follow=True,
        )
        page = response.content.decode()
        cost = claim.costs.get()
    # then the constat sub-ceiling holds 100 € back and the handler is told
    assert (cost.service, cost.amount_cents, cost.covered_cents) == ("constat", 30_000, 20_000)
    assert "Sous-plafond « Constat de commissaire de justice »" in page
    assert "Constat de commissaire de justice" in page


@pytest.mark.django_db
def test_the_declaration_clock_follows_the_structured_delay(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        policy = PolicyFactory(
            doctor=doctor,
            plan=PlanFactory(declaration_delay_amount=1, declaration_delay_unit="MONTHS"),
            start_date=datetime.date(2025, 1, 1),
        )
        claim = claim_create(
            doctor=doctor,
            publication_date=datetime.date(2026, 1, 20),
            seen_date=datetime.date(2026, 1, 31),
            today=datetime.date(2026, 1, 31),
        )
        claim.policy = policy
        claim.save(update_fields=["policy"])
        deadlines = {
            d.clock_id: d for d in claim_deadlines(claim=claim, today=datetime.date(2026, 2, 2))
        }
        shown = policy_terms(policy=policy).declaration_delay
    # then 31 January + 1 month = 28 February, and the doctor reads « 1 mois »
    assert deadlines["INSURER_DECLARATION"].due_date == datetime.date(2026, 2, 28)
    assert shown == "1 mois"


@pytest.mark.django_db
def test_an_unreadable_delay_is_flagged_and_keeps_the_default_clock(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        policy = PolicyFactory(
            doctor=doctor,
            plan=PlanFactory(declaration_delay="2 mois après refus"),
            start_date=datetime.date(2025, 1, 1),
        )
        plan = policy.plan_version.plan
        claim = claim_create(
            doctor=doctor,
            publication_date=datetime.date(2026, 4, 20),
            seen_date=datetime.date(2026, 4, 30),
            today=datetime.date(2026, 4, 30),
        )
        claim.policy = policy
        claim.save(update_fields=["policy"])
        deadlines = {
            d.clock_id: d for d in claim_deadlines(claim=claim, today=datetime.date(2026, 5, 4))
        }
    assert plan.terms_review_note == "Délai de déclaration : « 2 mois après refus »"
    assert plan.declaration_delay == "Selon les conditions générales"
    # 5 working days skipping 1 and 8 May
    assert deadlines["INSURER_DECLARATION"].due_date == datetime.date(2026, 5, 11)


@pytest.mark.django_db
def test_the_plan_admin_edits_the_structured_terms(tenant_a, unique):
    from tenants.services import roles_apply
    from tests.conftest import staff_login
    from tests.tenants.factories import InsurerAdminFactory

    with tenant_context(tenant_a.insurer):
        roles_apply()
        admin = InsurerAdminFactory(email=f"admin-formule-{unique}@exemple.fr")
        plan = PlanFactory(declaration_delay="2 mois après refus")
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, admin)
        page = client.get(f"/admin/snippets/cover/plan/edit/{plan.pk}/").content.decode()
        listing = client.get("/admin/snippets/cover/plan/").content.decode()
    assert 'name="declaration_delay_amount"' in page
    assert 'name="declaration_delay_unit"' in page
    assert 'name="territory_scope"' in page
    assert 'name="lawyer_subceiling_cents"' in page
    assert "2 mois après refus" in page
    assert "Conditions à revoir" in listing


@pytest.mark.django_db
def test_the_demo_plans_carry_structured_terms(tenant_a):
    from cover.demo import demo_offer_seed

    with tenant_context(tenant_a.insurer):
        demo_offer_seed()
        plans = {
            p.slug: p
            for p in Plan.objects.filter(slug__in=["essentielle", "serenite", "integrale"])
        }
    assert {
        slug: (
            p.declaration_delay_amount,
            p.declaration_delay_unit,
            p.territory_scope,
            p.terms_review_note,
        )
        for slug, p in plans.items()
    } == {
        "essentielle": (5, "WORKING_DAYS", "france", ""),
        "serenite": (5, "WORKING_DAYS", "france", ""),
        "integrale": (5, "WORKING_DAYS", "eu", ""),
    }
    assert plans["integrale"].territory == "Union européenne"
