"""A doctor, in Chromium, gets a lawful negative review to an approved reply; a draft that
breaks medical secrecy is blocked."""

from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import tenant_context

from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("committed_db")


def _url(live_server_url: str, host: str, path: str) -> str:
    port = live_server_url.rsplit(":", 1)[1]
    return f"http://{host}:{port}{path}"


@pytest.fixture
def lawful_claim(tenant_a, unique):
    from cover.claims.services.opening import claim_qualify
    from tests.cover.claims_factories import WAITING, claim_create, doctor_create

    with tenant_context(tenant_a.insurer):
        doctor = doctor_create(email=f"rep-{unique}@exemple.fr", last_name="Martin")
        claim = claim_create(
            doctor=doctor,
            quotes=(WAITING,),
            today=datetime.date.today(),
            seen_date=datetime.date.today(),
            publication_date=datetime.date.today(),
        )
        passage = claim.passages.get()
        claim_qualify(claim=claim, by=doctor.user, categories={passage.pk: "LAWFUL_NEGATIVE"})
    yield claim, doctor
    with tenant_context(tenant_a.insurer):
        from cover.claims.models import Claim

        Claim.objects.filter(pk=claim.pk).delete()
        # The doctor's account stays: captures requested with the claim keep their requester
        # (evidence is write-once). Its e-mail is unique to this run.


def test_lawful_review_to_approved_reply_and_secrecy_block(
    page, live_server_url, tenant_a, lawful_claim
):
    claim, doctor = lawful_claim
    page.goto(_url(live_server_url, tenant_a.domain, "/compte/connexion/"))
    page.fill("input[name=username]", doctor.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/portail/")

    page.goto(_url(live_server_url, tenant_a.domain, f"/portail/sinistres/{claim.pk}/reponse/"))
    assert "(recommandé)" in page.locator("#no-reply h2").inner_text()

    # a draft that breaks medical secrecy is blocked
    page.fill(
        "textarea[name=text]",
        "Je me souviens de votre consultation du 3 mars, votre traitement était adapté.",
    )
    page.click("form:has(input[value=check]) button[type=submit]")
    result = page.locator("#draft-result")
    assert result.get_attribute("data-status") == "blocked"
    assert "Réponse bloquée" in result.inner_text()
    assert page.locator("#draft-result form").count() == 0  # nothing to approve

    # the proposed reply (thank / explain / private contact) passes and is approved
    page.check("input[name=topics][value=DELAYS]")
    page.click("form[method=get] button[type=submit]")
    proposal = page.locator("textarea[name=text]").input_value()
    assert proposal.startswith("Bonjour, nous vous remercions d'avoir pris le temps")
    page.click("form:has(input[value=check]) button[type=submit]")
    assert page.locator("#draft-result").get_attribute("data-status") == "checked"
    page.click("#draft-result form button[type=submit]")
    page.wait_for_url(f"**/portail/sinistres/{claim.pk}/")
    assert "Réponse validée" in page.locator("#timeline").inner_text()

    with tenant_context(tenant_a.insurer):
        from cover.claims.models import ReplyDraft

        statuses = list(
            ReplyDraft.objects.filter(claim_id=claim.pk)
            .order_by("pk")
            .values_list("status", flat=True)
        )
        assert statuses == ["blocked", "approved"]
