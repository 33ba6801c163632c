"""A newly onboarded insurer's public site says « Bientôt disponible » until its admin has
completed every item of the go-live checklist and opened it; then its plans are on sale with
their documents (real Chromium, real onboarding, local Stripe stand-in)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from cover.models import Plan
from tests.browser import expect
from tests.conftest import PASSWORD, browser_second_factor
from tests.golive import TEST_LEGAL_INFO, general_conditions_document, stripe_account_connect

pytestmark = pytest.mark.usefixtures("committed_db")


def _public_is_coming_soon(public, base: str) -> None:
    for path in ("/", "/formules/", "/compte/inscription/?formule=lancement"):
        public.goto(f"{base}{path}")
        expect(public.locator("h1")).to_have_text("Bientôt disponible")
        expect(public.locator("a.plan-cta")).to_have_count(0)
        expect(public.locator("form input[name=email]")).to_have_count(0)


def _item(page, key: str, done: str) -> None:
    expect(page.locator(f"#golive-checklist [data-item={key}]")).to_have_attribute(
        "data-done", done
    )


def test_a_new_insurer_opens_its_site_only_once_its_checklist_is_complete(
    live_server_url, browser, page, tenant_a, unique
):
    from saas.onboarding import insurer_onboard
    from tenants.models import Insurer
    from tenants.services import Branding

    port = live_server_url.rsplit(":", 1)[1]
    domain = f"lancement-{unique}.localhost"
    admin_email = f"admin@{domain}"
    insurer = insurer_onboard(
        name=f"Mutuelle Lancement {unique}",
        domain=domain,
        admin_email=admin_email,
        admin_password=PASSWORD,
        schema_name=f"lancement_{unique}",
        branding=Branding(display_name=f"Mutuelle Lancement {unique}", primary_colour="#224466"),
    )
    # As when Stripe was unreachable at onboarding (the account is created later): whether an
    # earlier test of the run started the local Stripe server must not matter here.
    Insurer.objects.filter(pk=insurer.pk).update(stripe_account_id="")
    insurer.refresh_from_db()
    base = f"http://{domain}:{port}"
    public_ctx = browser.new_context(locale="fr-FR")
    try:
        public = public_ctx.new_page()
        _public_is_coming_soon(public, base)

        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", admin_email)
        page.fill("#id_password", PASSWORD)
        page.click("form button[type=submit]")
        browser_second_factor(page, admin_email)
        page.wait_for_url(f"{base}/admin/")
        for key, done in (
            ("legal", "non"),
            ("plans", "non"),
            ("conditions", "non"),
            ("stripe", "non"),
            ("branding", "oui"),
        ):
            _item(page, key, done)
        expect(page.locator("#golive-open")).to_be_disabled()

        # 1. Legal information, typed in the admin's « Informations légales » form.
        page.click("#golive-checklist [data-item=legal] a")
        for name, value in TEST_LEGAL_INFO.items():
            page.fill(f"#id_{name}", value)
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.locator(".messages")).to_contain_text("enregistrés")
        page.goto(f"{base}/admin/")
        _item(page, "legal", "oui")
        public.goto(f"{base}/mentions-legales/")
        expect(public.locator("article")).to_contain_text("RCS Paris 123 456 789")
        expect(public.locator("article")).not_to_contain_text("à compléter")
        _public_is_coming_soon(public, base)

        # 2. A published plan, still without general conditions.
        with tenant_context(insurer):
            plan = Plan(name="Lancement", slug="lancement", published=True, price_cents=1290)
            plan.full_clean()
            plan.save()
            plan.save_revision().publish()
        page.goto(f"{base}/admin/")
        _item(page, "plans", "oui")
        _item(page, "conditions", "non")
        expect(page.locator("#golive-checklist [data-item=conditions]")).to_contain_text(
            "Lancement"
        )
        _public_is_coming_soon(public, base)

        # 3. Its general conditions (a PDF document).
        with tenant_context(insurer):
            plan.general_conditions = general_conditions_document(title="CG Lancement")
            plan.save()
            plan.save_revision().publish()
        page.goto(f"{base}/admin/")
        _item(page, "conditions", "oui")
        expect(page.locator("#golive-open")).to_be_disabled()
        _public_is_coming_soon(public, base)

        # 4. The connected Stripe account.
        stripe_account_connect(insurer=insurer)
        assert Insurer.objects.get(pk=insurer.pk).stripe_account_id.startswith("acct_")
        page.goto(f"{base}/admin/")
        _item(page, "stripe", "oui")
        _public_is_coming_soon(public, base)

        # Complete: the admin opens the site.
        with page.expect_navigation():
            page.click("#golive-open")
        expect(page.locator(".messages")).to_contain_text("Votre site est ouvert")
        expect(page.locator("#golive-checklist")).to_have_count(0)

        public.goto(f"{base}/formules/")
        expect(public.locator("h1")).not_to_have_text("Bientôt disponible")
        expect(public.locator("a.plan-cta[data-plan=lancement]")).to_be_visible()
        expect(public.locator("a[data-ipid=lancement]")).to_have_attribute(
            "href", "/formules/lancement/document-information.pdf"
        )
        ipid = Client(HTTP_HOST=domain).get("/formules/lancement/document-information.pdf")
        assert ipid.status_code == 200
        assert b"".join(ipid.streaming_content).startswith(b"%PDF-")
        public.goto(f"{base}/compte/inscription/?formule=lancement")
        expect(public.locator("form input[name=email]")).to_have_count(1)
        # Insurer A's site and offer are untouched by the new insurer's plan.
        public.goto(f"http://{tenant_a.domain}:{port}/formules/")
        expect(public.locator("a.plan-cta[data-plan=lancement]")).to_have_count(0)
    finally:
        public_ctx.close()
        Insurer.objects.get(pk=insurer.pk).delete(force_drop=True)
