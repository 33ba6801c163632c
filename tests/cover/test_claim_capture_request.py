"""From the claim page, a handler requests a capture (one of the claim's addresses or a new one),
retries a failed capture or captures a complete one's page again, and follows the progress live.

The new capture is attached to the claim as claim opening attaches one: a "capture requested"
timeline entry whose ref names it. The earlier capture is never rewritten. Refusals are in French
and create nothing. No capture runs here (``db`` tests: the work would be enqueued on commit).
"""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from cover.claims.models import ClaimEvent, TimelineKind
from cover.claims.selectors.captures import claim_capture_ids
from cover.claims.services.captures import claim_capture_request
from evidence.models import Capture
from evidence.services.execution import capture_fail
from tests.conftest import staff_login
from tests.cover.claims_factories import claim_create, handler_create
from tests.tenants.factories import InsurerAdminFactory

pytestmark = pytest.mark.django_db

TIMEOUT_REASON = "La page n'a pas répondu dans le temps imparti."


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    # Opening the claim records a capture of its loopback address; nothing is fetched.
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    with tenant_context(tenant.insurer):
        staff_login(client, user)
    return client


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _counts(tenant, claim) -> tuple[int, int]:
    with tenant_context(tenant.insurer):
        return (
            Capture.objects.count(),
            ClaimEvent.objects.filter(claim=claim, kind=TimelineKind.CAPTURE_REQUESTED).count(),
        )


@pytest.fixture
def address(unique) -> str:
    return f"http://127.0.0.1:9/medecin/martin/avis-{unique}"


@pytest.fixture
def claim(tenant_a, address):
    with tenant_context(tenant_a.insurer):
        return claim_create(urls=[address])


@pytest.fixture
def handler(tenant_a):
    with tenant_context(tenant_a.insurer):
        return handler_create()


@pytest.fixture
def failed(tenant_a, claim) -> Capture:
    """The capture requested at the claim's opening, failed after its attempts."""
    with tenant_context(tenant_a.insurer):
        (capture_id,) = claim_capture_ids(claim=claim)
        Capture.objects.filter(pk=capture_id).update(attempts=3)
        return capture_fail(capture_id=capture_id, reason=TIMEOUT_REASON)


def test_handler_requests_a_capture_of_a_new_address_for_the_claim(tenant_a, claim, handler):
    # given
    other = "http://127.0.0.1:9/forum/fil-7"
    with tenant_context(tenant_a.insurer):
        (opening_id,) = claim_capture_ids(claim=claim)
        # when
        capture_id = claim_capture_request(
            claim=claim, by=handler, url=other, reason="Republié sur un forum"
        )
        # then
        capture = Capture.objects.get(pk=capture_id)
        event = claim.events.get(ref=f"capture-{capture_id}")
        ids = claim_capture_ids(claim=claim)
    assert ids == [opening_id, capture_id]
    assert (capture.url, capture.status, capture.requested_by_id, capture.reason) == (
        other,
        Capture.Status.QUEUED,
        handler.pk,
        f"Sinistre {claim.reference} — Republié sur un forum",
    )
    assert (event.kind, event.note, event.recorded_by_id, event.visible_to_doctor) == (
        TimelineKind.CAPTURE_REQUESTED,
        other,
        handler.pk,
        True,
    )


def test_the_claim_page_shows_the_failure_the_retry_button_and_the_request_form(
    tenant_a, claim, handler, failed, address
):
    page = _page(_client(tenant_a, handler).get(f"/admin/sinistres/{claim.pk}/"))

    assert f'<tr data-capture="{failed.pk}" data-capture-scope>' in page
    assert f'<div class="capture-error" >{TIMEOUT_REASON}</div>' in page
    assert '<span class="capture-attempts">3</span>' in page
    assert (
        'class="inline-form capture-retry" data-show-when="failed" ><input type="hidden" '
        'name="csrfmiddlewaretoken"'
    ) in page
    assert (
        f'<input type="hidden" name="action" value="capture_again"><input type="hidden" '
        f'name="capture" value="{failed.pk}"><button type="submit" class="button button-small">'
        "Relancer la capture</button>"
    ) in page
    assert 'class="inline-form capture-again" data-show-when="complete" hidden>' in page
    assert f'<option value="{address}">{address}</option>' in page
    assert '<input type="hidden" name="action" value="capture_request">' in page


def test_handler_retries_a_failed_capture_from_the_claim_page(
    tenant_a, claim, handler, failed, address
):
    # given
    counts = _counts(tenant_a, claim)
    # when
    response = _client(tenant_a, handler).post(
        f"/admin/sinistres/{claim.pk}/", {"action": "capture_again", "capture": failed.pk}
    )
    # then
    with tenant_context(tenant_a.insurer):
        new = Capture.objects.exclude(pk=failed.pk).get(url=address)
        ids = claim_capture_ids(claim=claim)
        event = claim.events.get(ref=f"capture-{new.pk}")
        old = Capture.objects.get(pk=failed.pk)
    assert (response.status_code, response["Location"]) == (
        302,
        f"/admin/sinistres/{claim.pk}/#evidence",
    )
    assert _counts(tenant_a, claim) == (counts[0] + 1, counts[1] + 1)
    assert ids == [failed.pk, new.pk]
    assert (new.status, new.previous_id, new.requested_by_id, new.reason) == (
        Capture.Status.QUEUED,
        failed.pk,
        handler.pk,
        f"Sinistre {claim.reference}",
    )
    assert event.note == f"{address} — nouvelle capture après la n° {failed.pk}"
    assert (old.status, old.error, old.attempts) == (Capture.Status.FAILED, TIMEOUT_REASON, 3)


def test_a_running_capture_shows_its_live_progress_on_the_claim_page(tenant_a, claim, handler):
    with tenant_context(tenant_a.insurer):
        (capture_id,) = claim_capture_ids(claim=claim)
        Capture.objects.filter(pk=capture_id).update(
            status=Capture.Status.RUNNING, progress=30, step="Défilement de la page", attempts=1
        )

    page = _page(_client(tenant_a, handler).get(f"/admin/sinistres/{claim.pk}/"))

    assert (
        f'data-capture-progress="{capture_id}" '
        f'data-status-url="/admin/preuves/{capture_id}/etat.json" data-status="running"'
    ) in page
    assert '<div class="capture-progress-bar" style="width:30%"></div>' in page
    assert '<span class="capture-step">Défilement de la page</span>' in page
    assert '<span class="capture-attempts">1</span>' in page
    assert 'class="inline-form capture-retry" data-show-when="failed" hidden>' in page
    assert 'document.querySelectorAll("[data-capture-progress]")' in page


@pytest.mark.parametrize("field", ["url", "other_url"])
def test_handler_requests_a_capture_from_the_claim_page(
    tenant_a, claim, handler, failed, address, field
):
    url = address if field == "url" else f"{address}/page-2"
    form = {"action": "capture_request", "url": address, "reason": "Avis modifié"}
    form[field] = url
    counts = _counts(tenant_a, claim)

    response = _client(tenant_a, handler).post(f"/admin/sinistres/{claim.pk}/", form)

    with tenant_context(tenant_a.insurer):
        new = Capture.objects.exclude(pk=failed.pk).get(url=url)
        ids = claim_capture_ids(claim=claim)
    assert response["Location"] == f"/admin/sinistres/{claim.pk}/#evidence"
    assert _counts(tenant_a, claim) == (counts[0] + 1, counts[1] + 1)
    assert ids == [failed.pk, new.pk]
    assert (new.status, new.reason, new.previous_id) == (
        Capture.Status.QUEUED,
        f"Sinistre {claim.reference} — Avis modifié",
        failed.pk if field == "url" else None,
    )


def test_a_refused_address_is_explained_in_french_and_nothing_is_recorded(tenant_a, claim, handler):
    counts = _counts(tenant_a, claim)

    response = _client(tenant_a, handler).post(
        f"/admin/sinistres/{claim.pk}/",
        {"action": "capture_request", "other_url": "http://127.0.0.2:9/avis"},
        follow=True,
    )

    assert response.redirect_chain == [(f"/admin/sinistres/{claim.pk}/#evidence", 302)]
    assert (
        "Adresse non publique refusée pour « 127.0.0.2 » : 127.0.0.2 (boucle locale "
        "(loopback)). La capture ne contacte que des adresses publiques."
    ) in _page(response)
    assert _counts(tenant_a, claim) == counts


def test_a_capture_of_another_claim_cannot_be_retried_from_this_one(
    tenant_a, claim, handler, failed
):
    with tenant_context(tenant_a.insurer):
        other_claim = claim_create(urls=["http://127.0.0.1:9/autre/avis"])
    counts = (_counts(tenant_a, claim), _counts(tenant_a, other_claim))

    response = _client(tenant_a, handler).post(
        f"/admin/sinistres/{other_claim.pk}/", {"action": "capture_again", "capture": failed.pk}
    )

    assert response.status_code == 404
    assert (_counts(tenant_a, claim), _counts(tenant_a, other_claim)) == counts


@pytest.mark.parametrize(
    ("role", "redirected_to"),
    [("doctor", "/admin/login/"), ("insurer_admin", "/admin/")],
    ids=["doctor", "admin"],
)
@pytest.mark.parametrize("action", ["capture_again", "capture_request"])
def test_without_the_handler_permission_it_is_refused_and_nothing_is_created(
    tenant_a, claim, failed, address, role, redirected_to, action
):
    with tenant_context(tenant_a.insurer):
        user = claim.doctor.user if role == "doctor" else InsurerAdminFactory()
    counts = _counts(tenant_a, claim)

    response = _client(tenant_a, user).post(
        f"/admin/sinistres/{claim.pk}/",
        {"action": action, "capture": failed.pk, "url": address},
    )

    # Wagtail turns the refusal into a redirect: to the login page, or to the dashboard with
    # an error message for staff without the permission.
    assert response.status_code == 302
    assert response["Location"].split("?")[0] == redirected_to
    assert _counts(tenant_a, claim) == counts


def test_a_handler_of_another_insurer_cannot_retry_a_capture_of_this_one(
    tenant_a, tenant_b, claim, failed
):
    # given a claim of insurer B without captures (its address is refused without any traffic:
    # a documentation range), and the number of a capture of insurer A
    with tenant_context(tenant_b.insurer):
        claim_b = claim_create(urls=["https://192.0.2.10/b/avis"])
        handler_b = handler_create()
        assert claim_capture_ids(claim=claim_b) == []
    counts = (_counts(tenant_a, claim), _counts(tenant_b, claim_b))
    # when
    response = _client(tenant_b, handler_b).post(
        f"/admin/sinistres/{claim_b.pk}/", {"action": "capture_again", "capture": failed.pk}
    )
    # then
    assert response.status_code == 404
    assert (_counts(tenant_a, claim), _counts(tenant_b, claim_b)) == counts
