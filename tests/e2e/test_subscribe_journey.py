"""A doctor goes from the insurer's offer page to an active policy and a certificate, in
Chromium: sign-up, e-mail verification, profile, plan, the local Stripe Checkout page (card
4242…), Stripe's webhooks applied by a Dramatiq worker, then the PDF download. With the declined
card (4000…0002) the doctor is told so and pays the same policy again on Stripe's invoice page."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core import mail
from django_tenants.utils import tenant_context

from cover.models import Doctor, Plan, Policy, PolicyInvoice
from tenants.tasks import STRIPE_QUEUE
from tests.browser import expect
from tests.cover.conftest import queue_drain
from tests.cover.factories import PlanFactory


def _sign_up_and_reach_checkout(page, *, base: str, email: str, plan: Plan, unique: str) -> None:
    """From the offer page to the Stripe Checkout page of ``plan``."""
    page.goto(f"{base}/formules/")
    assert page.locator("h1").first.inner_text() == "Nos formules"
    page.click(f"a[data-plan='{plan.slug}']")

    page.fill("#id_first_name", "Claire")
    page.fill("#id_last_name", "Martin")
    page.fill("#id_email", email)
    page.fill("#id_password1", "Un-mot-de-passe-solide-2026")
    page.fill("#id_password2", "Un-mot-de-passe-solide-2026")
    page.check("#id_accept_terms")
    page.click("main button[type=submit]")
    assert page.locator("h1").inner_text() == "Vérifiez votre messagerie"

    message = next(m for m in mail.outbox if m.to == [email])
    page.goto(re.search(r"http://\S+", message.body).group(0))
    page.fill("#id_rpps", f"1{int(unique, 16) % 10**10:010d}")
    page.fill("#id_specialty", "Dermatologie")
    page.fill("#id_city", "Vincennes")
    page.click("main button[type=submit]")

    assert page.url == f"{base}/portail/souscrire/"
    page.check(f"input[name=plan][value='{plan.pk}']")
    page.check("#id_accept_conditions")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/pay/cs_test_"))


def _remove(tenant, *, email: str, plan: Plan) -> None:
    with tenant_context(tenant.insurer):
        PolicyInvoice.objects.filter(policy__doctor__user__username=email).delete()
        Policy.objects.filter(doctor__user__username=email).delete()
        Doctor.objects.filter(user__username=email).delete()
        get_user_model().objects.filter(username=email).delete()
        plan.versions.all().delete()
        plan.delete()


def test_a_doctor_subscribes_online_and_downloads_a_certificate(
    committed_db, live_server_url, stripe_server, page, tenant_a, unique, tmp_path
):
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://{tenant_a.domain}:{port}"
    email = f"dr.{unique}@exemple.fr"
    with tenant_context(tenant_a.insurer):
        plan = PlanFactory(slug=f"pro-{unique}", name=f"Pro {unique}", price_cents=1990)
    try:
        _sign_up_and_reach_checkout(page, base=base, email=email, plan=plan, unique=unique)
        page.fill("input[name=card_number]", "4242 4242 4242 4242")
        page.fill("input[name=cardholder_name]", "Claire Martin")
        page.click("button:has-text('Payer')")
        page.wait_for_url(re.compile(r"/portail/souscrire/retour/"))

        assert stripe_server.webhooks_wait(timeout=15)
        queue_drain(STRIPE_QUEUE)
        page.goto(f"{base}/portail/contrat/")
        with tenant_context(tenant_a.insurer):
            policy = Policy.objects.get(doctor__user__username=email)
        assert page.locator(f"#status-{policy.number}").inner_text() == "En vigueur"
        assert page.locator("td", has_text="payée").count() == 1

        with page.expect_download() as download_info:
            page.click("text=Télécharger mon attestation (PDF)")
        download = download_info.value
        target = tmp_path / download.suggested_filename
        download.save_as(target)

        assert download.suggested_filename == f"attestation-{policy.number}.pdf"
        assert target.read_bytes().startswith(b"%PDF-")
        with tenant_context(tenant_a.insurer):
            policy.refresh_from_db()
            assert (policy.status, policy.plan_version.terms["plan_name"]) == (
                "active",
                f"Pro {unique}",
            )
    finally:
        _remove(tenant_a, email=email, plan=plan)


def test_a_declined_card_is_refused_and_the_same_policy_is_paid_again(
    committed_db, live_server_url, stripe_server, page, tenant_a, unique
):
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://{tenant_a.domain}:{port}"
    email = f"dr.{unique}@exemple.fr"
    with tenant_context(tenant_a.insurer):
        plan = PlanFactory(slug=f"pro-{unique}", name=f"Pro {unique}", price_cents=1990)
    try:
        _sign_up_and_reach_checkout(page, base=base, email=email, plan=plan, unique=unique)
        page.fill("input[name=card_number]", "4000 0000 0000 0002")
        page.fill("input[name=cardholder_name]", "Claire Martin")
        page.click("button:has-text('Payer')")
        page.wait_for_url(re.compile(r"/portail/souscrire/retour/"))

        expect(page.locator("h1")).to_have_text("Paiement refusé")
        expect(page.get_by_role("alert")).to_contain_text("Votre banque a refusé le paiement")
        page.click("button:has-text('Payer à nouveau')")
        page.wait_for_url(re.compile(r"/invoice/in_"))
        page.fill("input[name=card_number]", "4242 4242 4242 4242")
        page.click("button:has-text('Payer')")
        expect(page.locator("strong")).to_have_text("payée")

        assert stripe_server.webhooks_wait(timeout=15)
        queue_drain(STRIPE_QUEUE)
        page.goto(f"{base}/portail/contrat/")
        with tenant_context(tenant_a.insurer):
            policies = list(Policy.objects.filter(doctor__user__username=email))
        assert [(p.status, p.source) for p in policies] == [("active", "online")]
        expect(page.locator(f"#status-{policies[0].number}")).to_have_text("En vigueur")
        expect(page.locator("td", has_text="payée")).to_have_count(1)
        expect(page.get_by_text("Régler ma cotisation")).to_have_count(0)
    finally:
        _remove(tenant_a, email=email, plan=plan)
