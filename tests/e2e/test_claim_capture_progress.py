"""A doctor follows the capture of their claim live on the claim page: the bar moves while the
worker captures the (loopback) page, then the first screen read out of the bundle appears."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from cover.claims.selectors.captures import claim_capture_ids
from tests.browser import expect
from tests.conftest import PASSWORD
from tests.cover.claims_factories import claim_create, doctor_create
from tests.evidence.conftest_django import captures_delete, evidence_worker
from tests.evidence.pages import Site

pytestmark = pytest.mark.usefixtures("committed_db", "evidence_env")


def _url(live_server_url: str, host: str, path: str) -> str:
    port = live_server_url.rsplit(":", 1)[1]
    return f"http://{host}:{port}{path}"


@pytest.fixture
def claim(tenant_a, unique, site: Site):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create(email=f"medecin-e2e-capture-{unique}@exemple.fr")
        claim = claim_create(doctor=doctor, urls=[site.url("/consent")])
        capture_ids = claim_capture_ids(claim=claim)
    yield claim
    with tenant_context(tenant_a.insurer):
        claim.delete()
    captures_delete(tenant_a.insurer, capture_ids)
    with tenant_context(tenant_a.insurer):
        user = doctor.user
        doctor.delete()
        user.delete()


def test_the_claim_page_shows_the_capture_progress_then_its_first_screen(
    page, live_server_url, tenant_a, claim
):
    with tenant_context(tenant_a.insurer):
        (capture_id,) = claim_capture_ids(claim=claim)
    # given the doctor on their claim page while the capture waits for a worker
    page.goto(
        _url(
            live_server_url,
            tenant_a.domain,
            f"/compte/connexion/?next=/portail/sinistres/{claim.pk}/",
        )
    )
    page.fill("#id_username", claim.doctor.user.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    box = page.locator(f"#capture-{capture_id}")
    expect(box.locator(".capture-status")).to_have_text("En attente")
    expect(box.locator(".capture-live")).to_be_visible()
    # when the worker runs it
    with evidence_worker():
        # then the state follows, and the first screen appears once it is complete
        expect(box.locator(".capture-thumb img")).to_be_visible(timeout=120_000)
    expect(box.locator(".capture-status")).to_have_text("Terminée")
    expect(box.locator(".capture-live")).to_be_hidden()
    size = box.locator(".capture-thumb img").evaluate("i => [i.naturalWidth, i.complete]")
    assert size == [480, True]
