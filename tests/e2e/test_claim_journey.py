"""In Chromium: a doctor opens a defamation claim in the portal; a handler, in the Wagtail
admin, qualifies it, checks the cover, is refused the DSA notice before the proof exists, moves
the claim to the evidence step with its capture and constat, then generates the DSA art. 16
notice and the mise en demeure as PDFs."""

from __future__ import annotations

import base64
import datetime
import re
import subprocess

import pytest
from django_tenants.utils import tenant_context

from tests.browser import expect
from tests.conftest import PASSWORD, browser_second_factor
from tests.cover.claims_factories import DEFAMATORY, REVIEW

pytestmark = pytest.mark.usefixtures("committed_db")


def _url(live_server_url: str, host: str, path: str) -> str:
    port = live_server_url.rsplit(":", 1)[1]
    return f"http://{host}:{port}{path}"


@pytest.fixture
def people(tenant_a, unique):
    from tests.cover.claims_factories import doctor_create, handler_create
    from tests.cover.factories import PolicyFactory

    with tenant_context(tenant_a.insurer):
        doctor = doctor_create(email=f"doc-{unique}@exemple.fr", last_name="Martin")
        policy = PolicyFactory(
            doctor=doctor, start_date=datetime.date.today() - datetime.timedelta(30)
        )
        handler = handler_create(email=f"gest-{unique}@exemple.fr")
    yield doctor, handler
    with tenant_context(tenant_a.insurer):
        from cover.claims.models import Claim

        Claim.objects.filter(doctor=doctor).delete()
        policy.delete()
        plan = policy.plan_version.plan
        policy.plan_version.delete()
        plan.delete()
        # Evidence is write-once: captures keep their requester, so the accounts stay (their
        # e-mails are unique to this test run).


def _pdf_text(data: bytes) -> str:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return re.sub(r"\s+", " ", out.stdout.decode())


def test_doctor_opens_a_defamation_claim_and_handler_gets_the_letters(
    page, live_server_url, tenant_a, people
):
    doctor, handler = people
    today = datetime.date.today()
    go = lambda path: page.goto(_url(live_server_url, tenant_a.domain, path))  # noqa: E731

    # the doctor opens the claim
    go("/compte/connexion/")
    page.fill("input[name=username]", doctor.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/portail/")
    go("/portail/sinistres/nouveau/")
    page.fill("textarea[name=urls]", "http://127.0.0.1:9/avis/42")
    page.fill("textarea[name=source_text]", REVIEW)
    page.fill("textarea[name=quotes]", DEFAMATORY)
    page.fill("input[name=seen_date]", today.isoformat())
    page.fill("input[name=publication_date]", (today - datetime.timedelta(5)).isoformat())
    page.fill("input[name=author_name]", "Jean D.")
    page.click("main form.card button[type=submit]")
    page.wait_for_url("**/questionnaire/")
    page.check("input[name=p0_precise_factual_imputation]")
    page.click("main form.card button[type=submit]")
    page.wait_for_url(re.compile(r".*/portail/sinistres/\d+/$"))
    claim_pk = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert "Qualification proposée : Diffamation" in page.content()

    # the handler works it in the Wagtail admin
    page.context.clear_cookies()
    go("/admin/login/")
    page.fill("input[name=username]", handler.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    browser_second_factor(page, handler.email)
    page.wait_for_url("**/admin/sinistres/")  # a handler lands on the claims queue
    go("/admin/sinistres/")
    row = page.locator(f"#claims-queue tr:has(a[href='/admin/sinistres/{claim_pk}/'])")
    # The nearest hard deadline is the declaration to the insurer: 5 working days from
    # discovery (DOMAIN.md §4.6 default), counted from the day the doctor saw the content.
    from cover.deadlines import date_add_working_days

    declaration_due = date_add_working_days(start=today, days=5)
    assert row.locator(".deadline-badge").inner_text() == f"J-{(declaration_due - today).days}"
    row.locator("a").click()
    page.click("#qualify-submit")
    page.click("#cover-check")
    assert page.locator("#cover-status").inner_text() == "Acquise"

    # at intake, without capture nor constat, the DSA notice is refused with the ladder's
    # reasons, in French, and nothing is created
    page.click("a[data-kind=DSA_NOTICE]")
    page.fill(
        "textarea[name='factual_justification']",
        "Aucun acte n'a été facturé sans avoir été réalisé.",
    )
    page.click("#letter-generate")
    expect(page.locator("#letter-missing")).to_contain_text("Courrier refusé")
    expect(page.locator("#letter-missing")).to_contain_text(
        "faites établir le constat par un commissaire de justice"
    )
    go(f"/admin/sinistres/{claim_pk}/")
    assert page.locator("tr[data-letter-kind]").count() == 0

    # the proof first: evidence step, capture and constat recorded
    page.select_option("#transition-form select[name=to_state]", "EVIDENCE")
    page.fill("#transition-form textarea[name=reason]", "Diffamation qualifiée")
    page.click("#transition-form button[type=submit]")
    page.wait_for_url(f"**/admin/sinistres/{claim_pk}/")
    assert page.locator("#claim-state").inner_text() == "1 — Preuve"
    for kind in ("CAPTURE_DONE", "CONSTAT_DONE"):
        page.select_option("#event-form select[name=kind]", kind)
        page.fill("#event-form input[name=date]", today.isoformat())
        page.click("#event-form button[type=submit]")
        page.wait_for_url(f"**/admin/sinistres/{claim_pk}/")

    page.click("a[data-kind=DSA_NOTICE]")
    page.fill(
        "textarea[name='factual_justification']",
        "Aucun acte n'a été facturé sans avoir été réalisé.",
    )
    page.click("#letter-generate")
    page.wait_for_url(f"**/admin/sinistres/{claim_pk}/")
    page.click("a[data-kind=MISE_EN_DEMEURE]")
    page.click("#letter-generate")
    page.wait_for_url(f"**/admin/sinistres/{claim_pk}/")

    texts = {}
    for kind in ("DSA_NOTICE", "MISE_EN_DEMEURE"):
        href = page.locator(f"tr[data-letter-kind={kind}] a").first.get_attribute("href")
        # Fetched by the page itself: the browser resolves *.localhost and sends its session.
        content_type, body = page.evaluate(
            """async (href) => {
                const response = await fetch(href);
                const bytes = new Uint8Array(await response.arrayBuffer());
                let binary = "";
                for (const b of bytes) binary += String.fromCharCode(b);
                return [response.headers.get("content-type"), btoa(binary)];
            }""",
            href,
        )
        assert content_type == "application/pdf"
        texts[kind] = _pdf_text(base64.b64decode(body))
    assert f"« {DEFAMATORY} »" in texts["DSA_NOTICE"]
    assert (
        "Diffamation publique envers un particulier — Loi du 29 juillet 1881, art. 29 al. 1 "
        "et 32 al. 1" in texts["DSA_NOTICE"]
    )
    assert "Je déclare de bonne foi" in texts["DSA_NOTICE"]
    assert "Objet : MISE EN DEMEURE" in texts["MISE_EN_DEMEURE"]
    assert f"« {DEFAMATORY} »" in texts["MISE_EN_DEMEURE"]
