"""A doctor checks a watched review platform against DOMAIN §6.2 and gets the SignalConso
draft listing its failures (the pure flags are tested in test_compliance.py)."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from cleanup.models import ComplianceCheck
from cleanup.services.compliance import platform_compliance_run
from cleanup.services.watch import watch_profile_save, watched_page_add
from tests.cleanup.conftest import demo_page
from tests.cleanup.factories import doctor_with_policy
from tests.cleanup.test_compliance import GOOD_LEGAL, POOR_EXTRA, POOR_REVIEWS

pytestmark = pytest.mark.django_db


def _page(review_site, tag):
    doctor = doctor_with_policy(tag=tag)
    profile = watch_profile_save(
        doctor=doctor, name_variants=["Claire Martin"], practice_name="", city="", specialty="",
        keywords=[],
    )  # fmt: skip
    url = review_site.put(
        f"/plateforme/{tag}",
        demo_page(reviews=POOR_REVIEWS, rating="3.7", count=3, extra=POOR_EXTRA),
    )
    return doctor, watched_page_add(profile=profile, url=url, platform="demo-avis")


def test_failures_are_listed_and_the_signalconso_report_prefilled(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        _doctor, page = _page(review_site, "c0f10001")
        legal = review_site.put("/mentions-legales", GOOD_LEGAL)

        check = platform_compliance_run(
            page=page, legal_url=legal, found_on=datetime.date(2026, 3, 2)
        )

        assert {r["code"]: r["status"] for r in check.results} == {
            "F1": "fail", "F2": "fail", "F3": "fail", "F4": "fail", "F5": "fail",
            "F6": "not_checkable", "F7": "not_checkable", "F8": "not_checkable",
            "F9": "not_checkable", "F10": "fail", "F11": "pass", "F12": "fail",
        }  # fmt: skip
        assert check.company["name"] == "Avis Santé SAS, au capital de 10 000 €"
        fields = check.signalconso["fields"]
        assert (fields["Secteur"], fields["Date du constat"], fields["Nom de l'entreprise"]) == (
            "Santé", "02/03/2026", "Avis Santé SAS, au capital de 10 000 €",
        )  # fmt: skip
        assert check.signalconso["description"].startswith(
            f"Le 02/03/2026, sur la page {page.url}, j'ai constaté que"
        )
        assert check.signalconso["description"].count("\n- ") == 7


def test_unreadable_page_is_recorded_not_guessed(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        _doctor, page = _page(review_site, "c0f10002")

        check = platform_compliance_run(page=page, legal_url=review_site.url("/absente"))

        assert (check.results, check.signalconso) == ([], {})
        assert check.error == "Le site a répondu HTTP 404"


def test_portal_runs_the_check_for_the_doctors_own_page_only(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        doctor, page = _page(review_site, "c0f10003")
        other, other_page = _page(review_site, "c0f10004")
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(doctor.user)

    ran = client.post(f"/veille/pages/{page.pk}/conformite/", {"legal_url": ""})
    shown = client.get(f"/veille/pages/{page.pk}/conformite/")
    refused = client.post(f"/veille/pages/{other_page.pk}/conformite/", {})

    assert ran.status_code == 302
    assert "Signalement SignalConso pré-rempli" in shown.content.decode()
    assert refused.status_code == 404
    with tenant_context(tenant_a.insurer):
        assert ComplianceCheck.objects.filter(page=page).count() == 1
        assert ComplianceCheck.objects.filter(page=other_page).count() == 0
