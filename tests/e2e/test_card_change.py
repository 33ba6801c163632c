"""« Changer de carte » in Chromium: a declined first payment, a new card saved on Stripe's
page (the local stand-in), the premium due paid with it, the policy in force, and the new card
the subscription's default for the renewals to come (checked through the SDK)."""

from __future__ import annotations

import re

from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from common.stripe import stripe_client
from cover.models import Policy
from tests.browser import expect
from tests.cover.factories import DoctorFactory, PlanFactory
from tests.cover.test_cancellation import Insured, _remove
from tests.e2e.test_policy_life import (
    DECLINED_CARD,
    GOOD_CARD,
    _base,
    _events_applied,
    subscribe_with_declined_card,
)


def test_a_declined_card_is_replaced_and_the_policy_comes_into_force(
    committed_db, live_server_url, stripe_server, page, tenant_a, unique
):
    base = _base(live_server_url, tenant_a)
    with tenant_context(tenant_a.insurer):
        doctor = DoctorFactory(user__email=f"carte.{unique}@exemple.fr")
        plan = PlanFactory(slug=f"carte-{unique}", name=f"Carte {unique}", price_cents=2490)
    insured = Insured(client=Client(), doctor=doctor, plan=plan, policy=Policy())
    try:
        subscribe_with_declined_card(page, base, email=doctor.user.email, plan=plan)
        expect(page.locator("h1")).to_have_text("Paiement refusé")

        page.click("button:has-text('Changer de carte')")
        page.wait_for_url(re.compile(r"/pay/cs_test_"))
        expect(page.get_by_text("Aucun montant n'est débité sur cette page.")).to_be_visible()
        page.fill("input[name=card_number]", DECLINED_CARD)
        page.click("button:has-text('Enregistrer la carte')")
        expect(page.get_by_role("alert")).to_have_text("Votre carte a été refusée.")
        page.fill("input[name=card_number]", GOOD_CARD)
        page.click("button:has-text('Enregistrer la carte')")
        page.wait_for_url(re.compile(r"/portail/contrat/ER-[^/]+/carte/retour/\?session_id="))

        expect(page.locator("h1")).to_have_text("Votre nouvelle carte est enregistrée")
        expect(page.locator("#card-change-card")).to_contain_text("Visa •••• 4242")
        expect(page.locator("#card-change-paid")).to_contain_text(
            "a été réglée avec cette carte : votre contrat est de nouveau en vigueur"
        )
        _events_applied(stripe_server)
        page.goto(f"{base}/portail/contrat/")
        with tenant_context(tenant_a.insurer):
            policy = Policy.objects.get(doctor=doctor)
        assert (policy.status, policy.start_date) == ("active", timezone.localdate())
        expect(page.locator(f"#status-{policy.number}")).to_have_text("En vigueur")
        expect(page.get_by_text("Régler ma cotisation")).to_have_count(0)

        options = {"stripe_account": tenant_a.insurer.stripe_account_id}
        client = stripe_client()
        subscription = client.v1.subscriptions.retrieve(
            policy.stripe_subscription_id,
            params={"expand": ["default_payment_method"]},
            options=options,
        )
        customer = client.v1.customers.retrieve(policy.stripe_customer_id, options=options)
        card = subscription.default_payment_method
        assert subscription.status == "active"
        assert (card.card.last4, card.customer) == ("4242", policy.stripe_customer_id)
        assert customer.invoice_settings.default_payment_method == card.id
    finally:
        _remove(tenant_a, insured)
