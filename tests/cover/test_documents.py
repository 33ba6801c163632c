"""Insurer documents: general conditions versioned with the plan version a policy keeps, the
IPID generated from the structured guarantees, legal notices and privacy policy from the
insurer's legal information, and the go-live gate of a newly onboarded insurer."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.test import Client
from django_tenants.utils import tenant_context

from cover.documents import (
    CONDITIONS_ID,
    CONDITIONS_SHA256,
    GoLiveError,
    golive_checklist,
    ipid_render,
    legal_info_save,
    site_is_open,
    site_open,
)
from cover.models import FrozenDocument, Plan, SiteOpening
from cover.selectors import legal_info_current, plan_terms
from cover.services.site import plan_version_current
from tests.cover.factories import DoctorFactory, PlanFactory, PolicyFactory
from tests.golive import TEST_LEGAL_INFO, general_conditions_document

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    with tenant_context(tenant.insurer):
        client.force_login(user)
    return client


def _bytes(document) -> bytes:
    with document.file.open("rb") as handle:
        return handle.read()


def test_a_policy_keeps_the_general_conditions_of_its_plan_version(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        first = general_conditions_document(title="CG 2026", text="Version de janvier")
        original = _bytes(first)
        plan = PlanFactory(slug="versionnee", general_conditions=first)
        version_1 = plan_version_current(plan=plan)
        policy = PolicyFactory(plan_version=version_1)
        # The insurer publishes new conditions, then even overwrites the old document's file.
        second = general_conditions_document(title="CG 2027", text="Version de juillet")
        plan.general_conditions = second
        plan.save()
        version_2 = plan_version_current(plan=plan)
        first.file.save("remplacee.pdf", ContentFile(b"%PDF-1.4 autre texte"), save=True)
        later = PolicyFactory(plan_version=version_2)

        assert version_2.number == version_1.number + 1
        assert version_1.terms[CONDITIONS_ID] == first.pk
        assert version_1.terms[CONDITIONS_SHA256] == hashlib.sha256(original).hexdigest()
        assert version_2.terms[CONDITIONS_ID] == second.pk
        assert version_2.terms[CONDITIONS_SHA256] == hashlib.sha256(_bytes(second)).hexdigest()
        # Same plan, same document: the same version is sold again.
        assert plan_version_current(plan=plan) == version_2
        assert FrozenDocument.objects.count() == 2

    response = _client(tenant_a, policy.doctor.user).get(
        f"/portail/contrat/{policy.number}/conditions-generales.pdf"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == original
    newer = _client(tenant_a, later.doctor.user).get(
        f"/portail/contrat/{later.number}/conditions-generales.pdf"
    )
    assert b"".join(newer.streaming_content) == _bytes(second)
    # Another doctor of the same insurer, and the same doctor's number at insurer B: nothing.
    assert (
        _client(tenant_a, later.doctor.user)
        .get(f"/portail/contrat/{policy.number}/conditions-generales.pdf")
        .status_code
        == 404
    )
    with tenant_context(tenant_b.insurer):
        stranger = DoctorFactory().user
    assert (
        _client(tenant_b, stranger)
        .get(f"/portail/contrat/{policy.number}/conditions-generales.pdf")
        .status_code
        == 404
    )


def test_the_ipid_states_the_plan_version_guarantees_in_french(tenant_a):
    with tenant_context(tenant_a.insurer):
        plan = PlanFactory(
            slug="ipid",
            name="Sérénité",
            price_cents=1990,
            per_claim_ceiling_cents=500_000,
            annual_ceiling_cents=1_000_000,
            lawyer_subceiling_cents=0,
            deductible_cents=15_000,
            waiting_period_days=30,
            removal_requests_per_year=3,
            territory_scope="france_metropole",
            exclusions="Les contenus publiés par l'assuré lui-même.",
        )
        text = " ".join(_text(ipid_render(terms=plan_terms(plan=plan))).split())

    for expected in (
        "Document d'information sur le produit d'assurance",
        "Assureur : Assurances Test SA, Société anonyme, RCS Paris 123 456 789",
        "formule Sérénité",
        "Qu'est-ce qui est assuré ?",
        "3 demandes de suppression ou de déréférencement par an.",
        "Qu'est-ce qui n'est pas assuré ?",
        "Les publications antérieures à la souscription.",
        "Les honoraires d'avocat (non pris en charge).",
        "Les contenus publiés par l'assuré lui-même.",
        "Y a-t-il des restrictions de couverture ?",
        "Plafond par sinistre : 5 000,00 €.",
        "Plafond annuel : 10 000,00 €.",
        "Franchise : 150,00 € par sinistre.",
        "Délai de carence : 30 jours après la date d'effet.",
        "Où la garantie s'applique-t-elle ?",
        "France métropolitaine, selon le lieu d'exercice du médecin",
        "Quelles sont mes obligations ?",
        "Déclarer le sinistre dans le délai de 5 jours ouvrés",
        "Cotisation de 19,90 € par mois, payable d'avance par carte bancaire en ligne.",
        "Quand commence la couverture et quand prend-elle fin ?",
        "Comment puis-je résilier le contrat ?",
    ):
        assert expected.replace("'", "’") in text.replace("'", "’"), expected
    assert "(e)" not in text


def test_the_ipid_is_downloadable_from_the_offer_and_the_portal_of_its_own_insurer(
    tenant_a, tenant_b
):
    with tenant_context(tenant_a.insurer):
        plan = PlanFactory(slug="offre-ipid", name="Offre IPID")
        policy = PolicyFactory(plan_version=plan_version_current(plan=plan))

    offer = Client(HTTP_HOST=tenant_a.domain).get("/formules/")
    assert 'href="/formules/offre-ipid/document-information.pdf"' in offer.content.decode()
    public = Client(HTTP_HOST=tenant_a.domain).get("/formules/offre-ipid/document-information.pdf")
    assert public.status_code == 200
    assert "Offre IPID" in _text(b"".join(public.streaming_content))
    portal = _client(tenant_a, policy.doctor.user).get(
        f"/portail/contrat/{policy.number}/document-information.pdf"
    )
    assert portal.status_code == 200
    assert "Offre IPID" in _text(b"".join(portal.streaming_content))
    # Insurer B does not sell insurer A's plan.
    assert (
        Client(HTTP_HOST=tenant_b.domain)
        .get("/formules/offre-ipid/document-information.pdf")
        .status_code
        == 404
    )


def test_legal_notices_and_privacy_policy_come_from_each_insurers_legal_information(
    tenant_a, tenant_b
):
    with tenant_context(tenant_b.insurer):
        legal_info_save(values={"company_name": "Hygie Test Assurances", "dpo_contact": "dpo@b.fr"})

    notices = Client(HTTP_HOST=tenant_a.domain).get("/mentions-legales/").content.decode()
    privacy = Client(HTTP_HOST=tenant_a.domain).get("/confidentialite/").content.decode()
    notices_b = Client(HTTP_HOST=tenant_b.domain).get("/mentions-legales/").content.decode()

    assert "à compléter" not in notices and "à compléter" not in privacy
    for value in ("Assurances Test SA", "RCS Paris 123 456 789", "Camille Durand", "ACPR"):
        assert value in notices
    assert "La Médiation de l&#x27;Assurance" in notices
    assert "Hygie Test Assurances" not in notices
    assert "Hygie Test Assurances" in notices_b and "Assurances Test SA" not in notices_b
    for value in (
        "Responsable du traitement",
        "dpo@assurances-test.exemple.fr",
        "Finalités",
        "Durées de conservation",
        "Vos droits",
        "CNIL",
    ):
        assert value in privacy


def test_a_new_insurer_stays_coming_soon_and_refuses_sign_ups_until_its_checklist_is_done():
    from saas.onboarding import insurer_onboard
    from tenants.services import Branding

    insurer = insurer_onboard(
        name="Mutuelle Nouvelle",
        domain="nouvelle.localhost",
        admin_email="admin@nouvelle.localhost",
        branding=Branding(display_name="Mutuelle Nouvelle", primary_colour="#123456"),
    )
    client = Client(HTTP_HOST="nouvelle.localhost")
    with tenant_context(insurer):
        PlanFactory(slug="premiere", name="Première")
        legal_notice = client.get("/mentions-legales/").content.decode()
        assert "à compléter" in legal_notice
        assert not site_is_open()
        done = {item.key: item.done for item in golive_checklist()}
        assert done == {
            "legal": False,
            "plans": True,
            "conditions": False,
            "stripe": False,
            "branding": True,
        }
        with pytest.raises(GoLiveError):
            site_open()
        assert not SiteOpening.objects.filter(opened_at__isnull=False).exists()

    for path in ("/", "/formules/", "/compte/inscription/"):
        html = client.get(path).content.decode()
        assert "Bientôt disponible" in html, path
        assert "Première" not in html and "?formule=" not in html, path
    response = client.post(
        "/compte/inscription/",
        {
            "email": "dr.presse@exemple.fr",
            "first_name": "Léa",
            "last_name": "Presse",
            "password1": "un-mot-de-passe-solide-42",
            "password2": "un-mot-de-passe-solide-42",
        },
    )
    assert "Bientôt disponible" in response.content.decode()
    assert (
        Client(HTTP_HOST="nouvelle.localhost")
        .get("/formules/premiere/document-information.pdf")
        .status_code
        == 404
    )
    with tenant_context(insurer):
        assert not get_user_model().objects.filter(username="dr.presse@exemple.fr").exists()
        legal_info_save(values=TEST_LEGAL_INFO)
        plan = Plan.objects.get(slug="premiere")
        plan.general_conditions = general_conditions_document(title="CG Première")
        plan.save()
        insurer.stripe_account_id = "acct_nouvelle"  # what the connected-account step records
        insurer.save(update_fields=["stripe_account_id"])
        assert all(item.done for item in golive_checklist())
        site_open()
        assert site_is_open()
        assert legal_info_current().company_name == "Assurances Test SA"

    html = client.get("/formules/").content.decode()
    assert "Bientôt disponible" not in html
    assert "Première" in html and 'href="/compte/inscription/?formule=premiere"' in html


def test_the_demo_seed_gives_a_demo_insurer_its_legal_information_and_conditions():
    from cover.demo import demo_offer_seed
    from saas.onboarding import insurer_onboard
    from tenants.services import Branding

    insurer = insurer_onboard(
        name="Mutuelle Démo",
        domain="demo-documents.localhost",
        admin_email="admin@demo-documents.localhost",
        branding=Branding(display_name="Mutuelle Démo", primary_colour="#123456"),
    )
    with tenant_context(insurer):
        demo_offer_seed()
        done = {item.key: item.done for item in golive_checklist()}
        plans = list(Plan.objects.filter(published=True))

        assert done == {
            "legal": True,
            "plans": True,
            "conditions": True,
            "stripe": False,  # created by the platform billing seed, then demo_sites_open
            "branding": True,
        }
        assert plans and all(plan.general_conditions_id for plan in plans)
        assert legal_info_current().company_name == "Mutuelle Démo"
