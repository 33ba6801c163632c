"""In Chromium: a handler refuses the cover of a claim in the Wagtail admin, citing an exclusion
of the plan; the doctor then sees, on the claim page, the refusal with its reason and clause, the
insurer's complaint service and the insurance mediator, and « Délais clos : garantie refusée »
instead of a countdown."""

from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import tenant_context

from tests.browser import expect
from tests.conftest import PASSWORD, browser_second_factor

pytestmark = pytest.mark.usefixtures("committed_db")
DAY = datetime.timedelta(days=1)
LEGAL = {
    "complaint_service_contact": "Service réclamations, 1 rue de la Paix, 75002 Paris",
    "mediator_name": "La Médiation de l'Assurance",
    "mediator_url": "https://www.mediation-assurance.org/",
    "mediator_address": "TSA 50110, 75441 Paris Cedex 09",
}


def _url(live_server_url: str, host: str, path: str) -> str:
    port = live_server_url.rsplit(":", 1)[1]
    return f"http://{host}:{port}{path}"


@pytest.fixture
def refusable(tenant_a, unique):
    """A qualified claim of a doctor covered for 200 days by a plan with two exclusions, and
    the insurer's complaint and mediation details (restored afterwards)."""
    from wagtail.models import Site

    from cover.claims.models import Claim
    from cover.models import InsurerLegalInfo
    from tests.cover.claims_factories import (
        claim_qualified,
        doctor_create,
        handler_create,
    )
    from tests.cover.factories import PlanFactory, PolicyFactory

    today = datetime.date.today()
    with tenant_context(tenant_a.insurer):
        info = InsurerLegalInfo.for_site(Site.objects.get(is_default_site=True))
        saved = {name: getattr(info, name) for name in LEGAL}
        for name, value in LEGAL.items():
            setattr(info, name, value)
        info.save()
        doctor = doctor_create(email=f"refus-{unique}@exemple.fr", last_name="Martin")
        plan = PlanFactory(exclusions="Litiges entre associés\nContenus publiés par l'assuré")
        policy = PolicyFactory(doctor=doctor, plan=plan, start_date=today - 200 * DAY)
        claim = claim_qualified(
            doctor=doctor, publication_date=today - 10 * DAY, seen_date=today - 5 * DAY, today=today
        )
        handler = handler_create(email=f"gest-refus-{unique}@exemple.fr")
    yield claim, doctor, handler
    with tenant_context(tenant_a.insurer):
        info = InsurerLegalInfo.for_site(Site.objects.get(is_default_site=True))
        for name, value in saved.items():
            setattr(info, name, value)
        info.save()
        Claim.objects.filter(doctor=doctor).delete()
        policy.delete()
        policy.plan_version.delete()
        plan.delete()


def test_the_doctor_sees_the_refusal_page(page, live_server_url, tenant_a, refusable):
    claim, doctor, handler = refusable
    go = lambda path: page.goto(_url(live_server_url, tenant_a.domain, path))  # noqa: E731

    # the handler refuses the cover, citing the plan's first exclusion
    go("/admin/login/")
    page.fill("input[name=username]", handler.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    browser_second_factor(page, handler.email)
    go(f"/admin/sinistres/{claim.pk}/")
    page.locator("#cover-refuse summary").click()
    page.fill("#id_refuse-reason", "L'avis a été publié par votre associé.")
    page.select_option("#id_refuse-clause_code", "EXCLUSION:1")
    page.locator("#cover-refuse button[type=submit]").click()
    expect(page.locator("#cover-status")).to_have_text("Refusée")
    expect(page.locator("#cover-clause")).to_contain_text("Exclusion : Litiges entre associés")
    page.context.clear_cookies()

    # the doctor opens the claim
    go("/compte/connexion/")
    page.fill("input[name=username]", doctor.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/portail/")
    go(f"/portail/sinistres/{claim.pk}/")

    refusal = page.locator("#cover-refusal")
    expect(refusal).to_be_visible()
    expect(refusal.locator("#cover-refusal-title")).to_contain_text("Garantie refusée")
    expect(refusal.locator("#refusal-reasons")).to_have_text(
        "L'avis a été publié par votre associé."
    )
    expect(refusal.locator("#refusal-clause")).to_have_text("Exclusion : Litiges entre associés")
    expect(refusal.locator("#refusal-complaint")).to_contain_text(
        "Service réclamations, 1 rue de la Paix, 75002 Paris"
    )
    mediator = refusal.locator("#refusal-mediator")
    expect(mediator).to_contain_text("La Médiation de l'Assurance")
    expect(mediator).to_contain_text("TSA 50110, 75441 Paris Cedex 09")
    expect(mediator.get_by_role("link")).to_have_attribute(
        "href", "https://www.mediation-assurance.org/"
    )
    expect(page.locator("#deadlines-closed")).to_contain_text("Délais clos : garantie refusée")
    expect(page.locator("#deadlines")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("Prescription")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path="/tmp/egide-refusal-page.png", full_page=True)  # noqa: S108
