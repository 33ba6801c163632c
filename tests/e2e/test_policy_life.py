"""A policy's life in Chromium, against the local Stripe server and a Dramatiq worker: a
declined card paid again until the policy is in force, its dates, the sealed one-page
certificate, the cancellation in three clicks with its e-mail, and no way for a doctor of
insurer A to see or cancel a policy of insurer B."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from asn1crypto import x509
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from common.stripe import stripe_client
from cover.models import Policy
from evidence.models import SealKey
from evidence.seal import pem_to_der
from tenants.tasks import STRIPE_QUEUE
from tests.browser import expect
from tests.conftest import PASSWORD
from tests.cover.conftest import queue_drain
from tests.cover.factories import DoctorFactory, PlanFactory
from tests.cover.test_cancellation import Insured, _remove, _subscribe

DECLINED_CARD = "4000 0000 0000 0002"
GOOD_CARD = "4242 4242 4242 4242"


def _base(live_server_url: str, tenant) -> str:
    return f"http://{tenant.domain}:{live_server_url.rsplit(':', 1)[1]}"


def _login(page, base: str, email: str) -> None:
    page.goto(f"{base}/compte/connexion/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/portail/")


def _events_applied(stripe_server) -> None:
    assert stripe_server.webhooks_wait(timeout=15)
    queue_drain(STRIPE_QUEUE)


class Clicks:
    """Counts the doctor's clicks on the way to a cancellation."""

    def __init__(self, page) -> None:
        self.page, self.count = page, 0

    def click(self, selector: str) -> None:
        self.count += 1
        self.page.click(selector)


def subscribe_with_declined_card(page, base: str, *, email: str, plan) -> None:
    """The doctor logs in, picks ``plan`` and pays with the declined card: back on the return page."""
    _login(page, base, email)
    page.goto(f"{base}/portail/souscrire/")
    page.check(f"input[name=plan][value='{plan.pk}']")
    page.check("#id_accept_conditions")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/pay/cs_test_"))
    page.fill("input[name=card_number]", DECLINED_CARD)
    page.click("button:has-text('Payer')")
    page.wait_for_url(re.compile(r"/portail/souscrire/retour/"))


@pytest.fixture
def insured(committed_db, stripe_server, tenant_a, unique):
    made = _subscribe(tenant_a, stripe_server, unique, "vie")
    yield made
    _remove(tenant_a, made)


def test_a_declined_card_is_paid_again_and_the_policy_comes_into_force(
    committed_db, live_server_url, stripe_server, page, tenant_a, unique
):
    base = _base(live_server_url, tenant_a)
    with tenant_context(tenant_a.insurer):
        doctor = DoctorFactory(user__email=f"refus.{unique}@exemple.fr")
        plan = PlanFactory(slug=f"vie-{unique}", name=f"Vie {unique}", price_cents=2490)
    insured = Insured(client=Client(), doctor=doctor, plan=plan, policy=Policy())
    try:
        subscribe_with_declined_card(page, base, email=doctor.user.email, plan=plan)

        expect(page.locator("h1")).to_have_text("Paiement refusé")
        expect(page.get_by_text("Merci !")).to_have_count(0)
        _events_applied(stripe_server)
        page.goto(f"{base}/portail/")
        expect(page.locator("#policy-summary .payment-due")).to_be_visible()
        page.goto(f"{base}/portail/contrat/")
        page.click("button:has-text('Régler ma cotisation')")
        page.wait_for_url(re.compile(r"/invoice/in_"))
        page.fill("input[name=card_number]", GOOD_CARD)
        page.click("button:has-text('Payer')")
        expect(page.locator("strong")).to_have_text("payée")
        _events_applied(stripe_server)

        page.goto(f"{base}/portail/contrat/")
        with tenant_context(tenant_a.insurer):
            policy = Policy.objects.get(doctor=doctor)
        assert (policy.status, policy.start_date) == ("active", timezone.localdate())
        expect(page.locator(f"#status-{policy.number}")).to_have_text("En vigueur")
        expect(page.locator(f"#dates-{policy.number} [data-date=renewal]")).to_have_text(
            f"{policy.renewal_date:%d/%m/%Y}"
        )
        expect(page.get_by_text("Régler ma cotisation")).to_have_count(0)
    finally:
        _remove(tenant_a, insured)


def test_cancellation_in_three_clicks_with_its_email_and_end_date(
    insured, live_server_url, stripe_server, page, tenant_a, tmp_path
):
    base = _base(live_server_url, tenant_a)
    policy = insured.policy
    with tenant_context(tenant_a.insurer):
        end = Policy.objects.get(pk=policy.pk).renewal_date
    mail.outbox.clear()
    _login(page, base, insured.doctor.user.email)

    clicks = Clicks(page)
    clicks.click("text=Mon contrat, mes factures et mon attestation")
    clicks.click("text=Résilier mon contrat")
    expect(page.locator("#cancel-effective-date")).to_have_text(
        f"Si vous confirmez, la résiliation prendra effet le {end:%d/%m/%Y}."
    )
    # The same form left open in a second tab, to be confirmed again (a double submission).
    second = page.context.new_page()
    second.goto(page.url)
    clicks.click("button:has-text('Confirmer la résiliation')")

    expect(page.locator("h1")).to_have_text("Résiliation enregistrée")
    expect(page.locator("#cancel-effective-date")).to_contain_text(
        f"Elle prend effet le {end:%d/%m/%Y}"
    )
    assert clicks.count == 3
    [message] = [m for m in mail.outbox if m.to == [insured.doctor.user.email]]
    assert f"Résiliation de votre contrat n° {policy.number}" == message.subject
    assert f"Elle prend effet le {end:%d/%m/%Y}." in message.body

    # Confirmed again from the other tab: still one cancellation, one e-mail.
    second.click("button:has-text('Confirmer la résiliation')")
    expect(second.locator("h1")).to_have_text("Résiliation enregistrée")
    second.close()
    assert len([m for m in mail.outbox if m.to == [insured.doctor.user.email]]) == 1

    _events_applied(stripe_server)
    page.goto(f"{base}/portail/contrat/")
    expect(page.locator(f"#status-{policy.number}")).to_have_text("En vigueur")
    expect(page.locator(f"#dates-{policy.number} [data-date=end]")).to_have_text(f"{end:%d/%m/%Y}")
    expect(page.locator(f"#cancel-notice-{policy.number}")).to_contain_text(
        f"vos garanties restent acquises jusqu'au {end:%d/%m/%Y} inclus"
    )
    expect(page.get_by_text("Résilier mon contrat")).to_have_count(0)
    subscription = stripe_client().v1.subscriptions.retrieve(
        policy.stripe_subscription_id,
        options={"stripe_account": tenant_a.insurer.stripe_account_id},
    )
    assert (subscription.status, subscription.cancel_at_period_end) == ("active", True)

    # The certificate, still delivered until the end date: one page, sealed by the insurer.
    with page.expect_download() as download_info:
        page.click("text=Télécharger mon attestation (PDF)")
    target = tmp_path / "attestation.pdf"
    download_info.value.save_as(target)
    pdf = target.read_bytes()
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    with tenant_context(tenant_a.insurer):
        ca = SealKey.objects.order_by("-created_at").first().ca_cert_pem
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    status = validate_pdf_signature(
        signature,
        ValidationContext(trust_roots=[x509.Certificate.load(pem_to_der(ca.encode("ascii")))]),
    )
    assert int(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"]) == 1
    assert text.rstrip("\f").count("\f") == 0
    assert f"{end:%d/%m/%Y} (résiliation demandée, sans renouvellement)" in text
    assert (status.intact, status.valid, status.trusted) == (True, True, True)


def test_a_doctor_of_insurer_a_cannot_view_or_cancel_a_policy_of_insurer_b(
    insured, live_server_url, stripe_server, page, tenant_a, tenant_b, unique
):
    other = _subscribe(tenant_b, stripe_server, unique, "voisin")
    try:
        base = _base(live_server_url, tenant_a)
        _login(page, base, insured.doctor.user.email)
        number = other.policy.number
        mail.outbox.clear()

        cancel = page.goto(f"{base}/portail/contrat/{number}/resilier/")
        certificate = page.goto(f"{base}/portail/contrat/{number}/attestation.pdf")
        page.goto(f"{base}/portail/contrat/")

        assert (cancel.status, certificate.status) == (404, 404)
        expect(page.locator(f"[data-policy='{number}']")).to_have_count(0)
        subscription = stripe_client().v1.subscriptions.retrieve(
            other.policy.stripe_subscription_id,
            options={"stripe_account": tenant_b.insurer.stripe_account_id},
        )
        with tenant_context(tenant_b.insurer):
            after = Policy.objects.get(pk=other.policy.pk)
        assert (after.status, after.cancel_requested_at, after.end_date) == ("active", None, None)
        assert subscription.cancel_at_period_end is False
        assert mail.outbox == []
    finally:
        _remove(tenant_b, other)
