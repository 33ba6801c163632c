"""A doctor goes from the insurer's offer page to an active policy and a certificate, in
Chromium: sign-up, e-mail verification, profile, plan, the local Stripe Checkout page (card
4242…), Stripe's webhooks applied by a Dramatiq worker, then the PDF download."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core import mail
from django_tenants.utils import tenant_context

from cover.models import Doctor, Policy, PolicyInvoice
from tenants.tasks import STRIPE_QUEUE
from tests.cover.conftest import queue_drain
from tests.cover.factories import PlanFactory


def test_a_doctor_subscribes_online_and_downloads_a_certificate(
    committed_db, live_server_url, stripe_server, page, tenant_a, unique, tmp_path
):
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://{tenant_a.domain}:{port}"
    email = f"dr.{unique}@exemple.fr"
    with tenant_context(tenant_a.insurer):
        plan = PlanFactory(slug=f"pro-{unique}", name=f"Pro {unique}", price_cents=1990)
    try:
        page.goto(f"{base}/formules/")
        assert page.locator("h1").first.inner_text() == "Nos formules"
        page.click(f"a[data-plan='pro-{unique}']")

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
        with tenant_context(tenant_a.insurer):
            PolicyInvoice.objects.filter(policy__doctor__user__username=email).delete()
            Policy.objects.filter(doctor__user__username=email).delete()
            Doctor.objects.filter(user__username=email).delete()
            get_user_model().objects.filter(username=email).delete()
            plan.versions.all().delete()
            plan.delete()
