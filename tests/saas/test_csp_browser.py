"""In Chromium: the Content Security Policy blocks nothing the product itself needs.

Every page a person uses (public site, sign-in, portal, claim, evidence progress, Stripe
Checkout redirect, the insurer's Wagtail admin, the platform admin) is loaded with the policy
on, and the console must show no CSP violation.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django_tenants.utils import tenant_context

from tests.conftest import PASSWORD, browser_second_factor
from tests.evidence.conftest_django import captures_delete

pytestmark = pytest.mark.usefixtures("committed_db")

CSP_MARKERS = ("Content Security Policy", "Content-Security-Policy", "securitypolicyviolation")


def _url(live_server_url: str, host: str, path: str) -> str:
    port = live_server_url.rsplit(":", 1)[1]
    return f"http://{host}:{port}{path}"


@pytest.fixture
def people(tenant_a, unique):
    from cover.claims.models import Claim
    from cover.models import Doctor, Plan, Policy
    from evidence.models import Capture
    from tests.cover.claims_factories import (
        claim_with_proof,
        doctor_create,
        handler_create,
    )
    from tests.cover.factories import DoctorFactory, PlanFactory, PolicyFactory

    with tenant_context(tenant_a.insurer):
        doctor = doctor_create(email=f"csp-doc-{unique}@exemple.fr", last_name="Martin")
        PolicyFactory(doctor=doctor, start_date=datetime.date.today() - datetime.timedelta(30))
        handler = handler_create(email=f"csp-gest-{unique}@exemple.fr")
        claim = claim_with_proof(doctor=doctor, handler=handler)
        capture = Capture.objects.create(
            url="http://127.0.0.1:9/avis/42",
            requested_by=doctor.user,
            status="running",
            progress=40,
            step="Chargement de la page",
        )
        newcomer = DoctorFactory(user__email=f"csp-new-{unique}@exemple.fr")
        plan = PlanFactory(slug=f"csp-{unique}", name=f"CSP {unique}")
    yield doctor, handler, claim, capture, newcomer, plan
    captures_delete(tenant_a.insurer, [capture.pk])
    with tenant_context(tenant_a.insurer):
        Claim.objects.filter(doctor=doctor).delete()
        policies = Policy.objects.filter(doctor__in=[doctor, newcomer])
        plans = list(Plan.objects.filter(versions__policies__in=policies).distinct()) + [plan]
        policies.delete()
        for each in plans:
            each.versions.all().delete()
            each.delete()
        Doctor.objects.filter(pk=newcomer.pk).delete()
        newcomer.user.delete()


def _violations(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.add_init_script(
        """document.addEventListener('securitypolicyviolation', (e) =>
             console.error('securitypolicyviolation ' + e.violatedDirective + ' ' + e.blockedURI));"""
    )
    return messages


def test_no_page_breaks_the_content_security_policy(
    page, live_server_url, tenant_a, people, stripe_server
):
    doctor, handler, claim, capture, newcomer, plan = people
    console = _violations(page)
    go = lambda host, path: page.goto(_url(live_server_url, host, path))  # noqa: E731
    visited: list[str] = []

    def visit(host: str, path: str) -> None:
        response = go(host, path)
        assert response is not None and response.status < 400, f"{path}: {response.status}"
        assert "default-src 'self'" in response.headers.get("content-security-policy", ""), path
        page.wait_for_load_state("networkidle")
        visited.append(path)

    # the public site and the platform
    for path in ("/", "/formules/", "/compte/connexion/"):
        visit(tenant_a.domain, path)
    visit("localhost", "/")
    # the watch itself works: an injected inline script is refused and reported
    page.evaluate(
        """() => document.body.appendChild(
             Object.assign(document.createElement('script'), {textContent: 'window.x = 1'}))"""
    )
    page.wait_for_timeout(300)
    assert any("script-src" in text for text in console), console
    assert page.evaluate("() => window.x") is None
    console.clear()

    # the doctor's portal, claim and evidence progress (its script polls the status)
    go(tenant_a.domain, "/compte/connexion/")
    page.fill("input[name=username]", doctor.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/portail/")
    for path in (
        "/portail/",
        "/portail/contrat/",
        "/portail/sinistres/",
        "/portail/sinistres/nouveau/",
        f"/portail/sinistres/{claim.pk}/",
        f"/preuves/{capture.pk}/",
    ):
        visit(tenant_a.domain, path)
    page.wait_for_timeout(1500)  # at least one status poll of the progress page

    # Stripe Checkout: the plan form posts here and is redirected to Stripe (form-action)
    page.context.clear_cookies()
    go(tenant_a.domain, "/compte/connexion/")
    page.fill("input[name=username]", newcomer.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/portail/**")
    visit(tenant_a.domain, "/portail/souscrire/")
    page.check(f"input[name=plan][value='{plan.pk}']")
    page.check("#id_accept_conditions")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/pay/cs_test_"))
    page.wait_for_load_state("networkidle")

    # the insurer's Wagtail admin, as a claims handler
    page.context.clear_cookies()
    visit(tenant_a.domain, "/admin/login/")
    page.fill("input[name=username]", handler.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    browser_second_factor(page, handler.email)
    page.wait_for_url("**/admin/sinistres/")  # a handler lands on the claims queue
    for path in ("/admin/", "/admin/sinistres/", f"/admin/sinistres/{claim.pk}/"):
        visit(tenant_a.domain, path)

    # and the insurer admin's editor (page editing: inline panels, date pickers, Draftail)
    page.context.clear_cookies()
    go(tenant_a.domain, "/admin/login/")
    page.fill("input[name=username]", tenant_a.admin_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    browser_second_factor(page, tenant_a.admin_email)
    page.wait_for_url("**/admin/")
    from wagtail.models import Page

    with tenant_context(tenant_a.insurer):
        home = Page.objects.get(depth=2)
    for path in (
        "/admin/pages/",
        f"/admin/pages/{home.pk}/edit/",
        "/admin/images/",
        "/admin/documents/",
        "/admin/users/",
    ):
        visit(tenant_a.domain, path)

    violations = [text for text in console if any(marker in text for marker in CSP_MARKERS)]
    assert violations == [], violations
    assert len(visited) >= 17
