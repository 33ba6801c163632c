"""In Chromium: a claims handler logs in with the second factor, lands on the claims queue and
sees the dashboard at its head (the week's deadlines as a picture, the unassigned claim), opens the claim,
assigns it to a colleague, adds an internal note, and finds the step and démarche selects
linked."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.browser import expect
from tests.conftest import PASSWORD, browser_second_factor

pytestmark = pytest.mark.usefixtures("committed_db")


def _url(live_server_url: str, host: str, path: str) -> str:
    port = live_server_url.rsplit(":", 1)[1]
    return f"http://{host}:{port}{path}"


@pytest.fixture
def workspace(tenant_a, unique, settings):
    # Opening the claim records a capture of its loopback address; nothing is fetched.
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]
    from cover.claims.models import Claim
    from tenants.roles import CLAIMS_HANDLER
    from tests.cover.claims_factories import claim_create, doctor_create
    from tests.tenants.factories import UserFactory

    today = timezone.localdate()
    sunday = today + datetime.timedelta(days=6 - today.weekday())
    with tenant_context(tenant_a.insurer):
        me = UserFactory(
            email=f"gest-dash-{unique}@exemple.fr",
            first_name="Alice",
            last_name="Martin",
            role=CLAIMS_HANDLER,
        )
        colleague = UserFactory(
            email=f"collegue-{unique}@exemple.fr",
            first_name="Bruno",
            last_name=f"Collègue{unique}",
            role=CLAIMS_HANDLER,
        )
        doctor = doctor_create(email=f"doc-dash-{unique}@exemple.fr")
        claim = claim_create(doctor=doctor, urls=[f"http://127.0.0.1:9/avis/{unique}"])
        Claim.objects.filter(pk=claim.pk).update(
            next_deadline_date=sunday, next_deadline_label="Prescription (loi de 1881)"
        )
    yield me, colleague, claim, sunday
    with tenant_context(tenant_a.insurer):
        Claim.objects.filter(pk=claim.pk).delete()
        # Evidence is write-once: captures keep their requester, so the accounts stay (their
        # e-mails are unique to this test run).


def test_handler_sees_the_dashboard_assigns_a_claim_and_adds_a_note(
    page, live_server_url, tenant_a, workspace, unique
):
    me, colleague, claim, sunday = workspace
    go = lambda path: page.goto(_url(live_server_url, tenant_a.domain, path))  # noqa: E731

    go("/admin/login/")
    page.fill("input[name=username]", me.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    browser_second_factor(page, me.email)
    # a handler lands on the claims queue, headed by the dashboard
    page.wait_for_url("**/admin/sinistres/")

    # the dashboard: the week as bars, the unassigned claim
    dashboard = page.locator("#claims-dashboard-section")
    expect(dashboard).to_be_visible()
    expect(dashboard.locator(f"svg rect[data-day='{sunday.isoformat()}']")).to_have_attribute(
        "data-count", "1"
    )
    expect(dashboard.locator(f"[data-unassigned='{claim.reference}']")).to_be_visible()
    expect(dashboard.locator(f"[data-due='{claim.reference}']")).to_be_visible()

    # open the claim: a sticky summary beside the file
    dashboard.locator(f"[data-unassigned='{claim.reference}'] a").click()
    page.wait_for_url(f"**/admin/sinistres/{claim.pk}/")
    expect(page.locator("#sticky-assignee")).to_contain_text("non attribué")

    # assign it to the colleague
    page.select_option("#assign-form select[name=handler]", str(colleague.pk))
    page.click("#assign-form button[type=submit]")
    page.wait_for_url(f"**/admin/sinistres/{claim.pk}/")
    expect(page.locator("#sticky-assignee")).to_have_text(f"Bruno Collègue{unique}")

    # an internal note
    note = f"Hébergeur relancé par téléphone ({unique})"
    page.fill("#note-form textarea[name=text]", note)
    page.click("#note-form button[type=submit]")
    page.wait_for_url(f"**/admin/sinistres/{claim.pk}/#notes")
    expect(page.locator("#notes-list")).to_contain_text(note)

    # step and démarche are linked: the evidence step offers the constat, not a DSA notice
    page.select_option("#transition-form select[name=to_state]", "EVIDENCE")
    expect(page.locator("#transition-form option[value=DSA_NOTICE]")).to_be_disabled()
    expect(page.locator("#transition-form option[value=CONSTAT]")).to_be_enabled()
    page.select_option("#transition-form select[name=to_state]", "PLATFORM")
    expect(page.locator("#transition-form option[value=DSA_NOTICE]")).to_be_enabled()

    # back to the queue: no longer unassigned
    go("/admin/sinistres/")
    expect(page.locator(f"[data-unassigned='{claim.reference}']")).to_have_count(0)
    with tenant_context(tenant_a.insurer):
        from cover.claims.models import ClaimNote

        claim.refresh_from_db()
        notes = list(ClaimNote.objects.filter(claim=claim).values_list("text", flat=True))
    assert (claim.assigned_to_id, notes) == (colleague.pk, [note])
