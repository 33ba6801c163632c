"""Claims handlers request, retry and re-capture from the admin's capture screens, and follow a
capture's progress live, as the doctor does on the portal.

A retry or a re-capture is a new capture of the same address, linked to the earlier one
(``previous``): evidence is never rewritten. Refusals (address, platform limit, permission,
another insurer's capture) are in French and create nothing. Nothing is captured here: in
``db`` tests the work is never enqueued (it would be after commit), so new captures stay queued.
"""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from evidence.models import Capture, CustodyEvent
from evidence.services.execution import capture_fail
from evidence.services.requests import capture_recapture, capture_request
from tenants.models import InsurerSubscription, PlatformPlan
from tests.conftest import staff_login
from tests.tenants.factories import ClaimsHandlerFactory, DoctorUserFactory, InsurerAdminFactory

pytestmark = pytest.mark.django_db

TIMEOUT_REASON = "La page n'a pas répondu dans le temps imparti."


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    # Captures of 127.0.0.1 are allowed; nothing is fetched (no worker runs in these tests).
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    with tenant_context(tenant.insurer):
        staff_login(client, user)
    return client


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _count(tenant) -> int:
    with tenant_context(tenant.insurer):
        return Capture.objects.count()


@pytest.fixture
def handler(tenant_a):
    with tenant_context(tenant_a.insurer):
        return ClaimsHandlerFactory()


@pytest.fixture
def address(unique) -> str:
    return f"http://127.0.0.1:9/avis/{unique}"


@pytest.fixture
def failed(tenant_a, address) -> Capture:
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory()
        capture_id = capture_request(
            url=address, requested_by=doctor, reason="Avis diffamatoire", enqueue=False
        )
        Capture.objects.filter(pk=capture_id).update(attempts=3)
        return capture_fail(capture_id=capture_id, reason=TIMEOUT_REASON)


def _state(tenant, capture_id: int) -> tuple:
    with tenant_context(tenant.insurer):
        capture = Capture.objects.get(pk=capture_id)
        kinds = list(
            CustodyEvent.objects.filter(capture_id=capture_id)
            .order_by("seq")
            .values_list("kind", flat=True)
        )
    return (capture.status, capture.error, capture.attempts, capture.finished_at, kinds)


def test_a_failed_capture_shows_its_french_reason_and_the_retry_button(tenant_a, handler, failed):
    # when
    response = _client(tenant_a, handler).get(f"/admin/preuves/{failed.pk}/")
    # then
    page = _page(response)
    assert response.status_code == 200
    assert f'<div class="capture-error" >{TIMEOUT_REASON}</div>' in page
    assert (
        f'<form method="post" action="/admin/preuves/{failed.pk}/relancer/" id="evidence-retry" '
        'data-show-when="failed" >'
    ) in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "Relancer la capture</button>" in page
    assert 'id="evidence-recapture" data-show-when="complete" hidden>' in page


def test_retry_creates_a_new_queued_capture_and_leaves_the_failed_one_as_it_was(
    tenant_a, handler, failed, address
):
    # given
    before = _state(tenant_a, failed.pk)
    count = _count(tenant_a)
    # when
    response = _client(tenant_a, handler).post(f"/admin/preuves/{failed.pk}/relancer/")
    # then
    with tenant_context(tenant_a.insurer):
        new = Capture.objects.exclude(pk=failed.pk).get(url=address)
    assert (response.status_code, response["Location"]) == (302, f"/admin/preuves/{new.pk}/")
    assert _count(tenant_a) == count + 1
    assert (new.status, new.previous_id, new.requested_by_id, new.reason, new.attempts) == (
        Capture.Status.QUEUED,
        failed.pk,
        handler.pk,
        "Avis diffamatoire",
        0,
    )
    assert _state(tenant_a, failed.pk) == before
    with tenant_context(tenant_a.insurer):
        requested = CustodyEvent.objects.get(capture=new)
    assert (requested.kind, requested.actor_id, requested.detail["previous_capture"]) == (
        "requested",
        handler.pk,
        failed.pk,
    )


def test_the_new_capture_page_follows_its_progress_live(tenant_a, handler, failed):
    client = _client(tenant_a, handler)
    new_url = client.post(f"/admin/preuves/{failed.pk}/relancer/")["Location"]
    new_id = int(new_url.strip("/").rsplit("/", 1)[1])

    page = _page(client.get(new_url))

    assert f"Nouvelle capture n° {new_id} demandée : elle démarre dans un instant." in page
    assert (
        f'data-capture-progress="{new_id}" data-status-url="/admin/preuves/{new_id}/etat.json" '
        'data-status="queued"'
    ) in page
    assert f'<a href="/admin/preuves/{failed.pk}/">n° {failed.pk}</a>' in page
    assert 'id="evidence-retry" data-show-when="failed" hidden>' in page


def test_a_running_capture_shows_the_progress_bar_step_and_attempts(tenant_a, handler, failed):
    # given a retry under way, at its second attempt
    with tenant_context(tenant_a.insurer):
        new_id = capture_recapture(capture_id=failed.pk, requested_by=handler)
        Capture.objects.filter(pk=new_id).update(
            status=Capture.Status.RUNNING, progress=42, step="Chargement de la page", attempts=2
        )
    client = _client(tenant_a, handler)
    # when
    page = _page(client.get(f"/admin/preuves/{new_id}/"))
    status = client.get(f"/admin/preuves/{new_id}/etat.json")
    # then
    assert 'role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="42"' in page
    assert '<div class="capture-progress-bar" style="width:42%"></div>' in page
    assert '<span class="capture-progress-percent">42 %</span>' in page
    assert '<span class="capture-step">Chargement de la page</span>' in page
    assert '<span class="capture-attempts">2</span>' in page
    assert 'document.querySelectorAll("[data-capture-progress]")' in page
    assert 'id="evidence-retry" data-show-when="failed" hidden>' in page
    assert status.json() == {
        "id": new_id,
        "status": "running",
        "status_label": "En cours",
        "interrupted": False,
        "progress": 42,
        "progress_label": "42 %",
        "step": "Chargement de la page",
        "attempts": 2,
        "error": "",
        "http_status": None,
        "detail_url": f"/admin/preuves/{new_id}/",
        "download_url": None,
    }


def test_retrying_while_a_capture_of_the_address_is_running_is_refused(tenant_a, handler, failed):
    client = _client(tenant_a, handler)
    first = client.post(f"/admin/preuves/{failed.pk}/relancer/")
    count = _count(tenant_a)

    second = client.post(f"/admin/preuves/{failed.pk}/relancer/", follow=True)

    pending = int(first["Location"].strip("/").rsplit("/", 1)[1])
    assert _count(tenant_a) == count
    assert (
        f"Une capture de cette adresse est déjà en attente ou en cours (n° {pending}) : "
        "attendez son résultat."
    ) in _page(second)


def test_a_complete_capture_offers_a_new_capture_of_the_page(tenant_a, handler, failed, address):
    # given a complete capture (its bundle is not needed here)
    with tenant_context(tenant_a.insurer):
        Capture.objects.filter(pk=failed.pk).update(
            status=Capture.Status.COMPLETE, error="", progress=100
        )
    client = _client(tenant_a, handler)
    # when
    page = _page(client.get(f"/admin/preuves/{failed.pk}/"))
    response = client.post(
        f"/admin/preuves/{failed.pk}/relancer/", {"reason": "Le contenu a changé"}
    )
    # then
    assert (
        f'<form method="post" action="/admin/preuves/{failed.pk}/relancer/" '
        'id="evidence-recapture" data-show-when="complete" >'
    ) in page
    assert "Nouvelle capture de cette page</button>" in page
    with tenant_context(tenant_a.insurer):
        new = Capture.objects.exclude(pk=failed.pk).get(url=address)
        old_status = Capture.objects.get(pk=failed.pk).status
    assert response["Location"] == f"/admin/preuves/{new.pk}/"
    assert (new.status, new.previous_id, new.reason, old_status) == (
        Capture.Status.QUEUED,
        failed.pk,
        "Le contenu a changé",
        Capture.Status.COMPLETE,
    )


def test_handler_requests_a_capture_from_the_list_page(tenant_a, handler, address):
    client = _client(tenant_a, handler)
    form = _page(client.get("/admin/preuves/"))
    count = _count(tenant_a)

    response = client.post("/admin/preuves/", {"url": address, "reason": "Nouvel avis"})

    with tenant_context(tenant_a.insurer):
        new = Capture.objects.get(url=address)
    assert '<form method="post" action="/admin/preuves/" id="evidence-request" novalidate>' in form
    assert "Demander une capture</button>" in form
    assert (response.status_code, response["Location"]) == (302, f"/admin/preuves/{new.pk}/")
    assert _count(tenant_a) == count + 1
    assert (new.status, new.requested_by_id, new.reason, new.previous_id) == (
        Capture.Status.QUEUED,
        handler.pk,
        "Nouvel avis",
        None,
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://127.0.0.2:9/avis",
            "Adresse non publique refusée pour « 127.0.0.2 » : 127.0.0.2 (boucle locale "
            "(loopback)). La capture ne contacte que des adresses publiques.",
        ),
        ("", "Champ requis."),
    ],
)
def test_a_refused_request_is_explained_in_french_and_creates_nothing(
    tenant_a, handler, url, message
):
    count = _count(tenant_a)

    response = _client(tenant_a, handler).post("/admin/preuves/", {"url": url, "reason": "x"})

    assert response.status_code == 200
    assert f'<ul class="errorlist" id="id_url_error"><li>{message}</li></ul>' in _page(response)
    assert _count(tenant_a) == count


def test_a_retry_beyond_the_platform_plan_is_refused_in_french_and_creates_nothing(
    tenant_a, handler, failed, unique
):
    # given an insurer whose Égide subscription is cancelled
    plan = PlatformPlan.objects.create(
        code=f"resiliee-{unique}", name="Résiliée", monthly_price_cents=10_000
    )
    InsurerSubscription.objects.create(
        insurer=tenant_a.insurer,
        plan=plan,
        status=InsurerSubscription.Status.CANCELED,
        stripe_customer_id=f"cus_{unique}",
    )
    count = _count(tenant_a)
    # when
    response = _client(tenant_a, handler).post(f"/admin/preuves/{failed.pk}/relancer/", follow=True)
    # then
    assert response.redirect_chain == [(f"/admin/preuves/{failed.pk}/", 302)]
    assert (
        "Abonnement Égide résilié pour Assureur test A : aucune nouvelle adhésion ni aucun "
        "nouveau constat n'est possible."
    ) in _page(response)
    assert _count(tenant_a) == count


@pytest.mark.parametrize(
    ("role", "redirected_to"),
    [("doctor", "/admin/login/"), ("insurer_admin", "/admin/")],
    ids=["doctor", "admin"],
)
@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "{id}/relancer/", {}),
        ("post", "", {"url": "http://127.0.0.1:9/avis/refus", "reason": "x"}),
        ("get", "{id}/etat.json", None),
    ],
    ids=["retry", "request", "status"],
)
def test_without_the_evidence_permission_it_is_refused_and_nothing_is_created(
    tenant_a, failed, role, redirected_to, method, path, data
):
    # given a doctor (no admin access) or an insurer admin (admin, but no evidence permission)
    with tenant_context(tenant_a.insurer):
        user = DoctorUserFactory() if role == "doctor" else InsurerAdminFactory()
    before = _state(tenant_a, failed.pk)
    count = _count(tenant_a)
    # when
    url = "/admin/preuves/" + path.format(id=failed.pk)
    response = getattr(_client(tenant_a, user), method)(url, data)
    # then
    # Wagtail turns the refusal into a redirect: to the login page, or to the dashboard with
    # an error message for staff without the permission.
    assert response.status_code == 302
    assert response["Location"].split("?")[0] == redirected_to
    assert _count(tenant_a) == count
    assert _state(tenant_a, failed.pk) == before


def test_a_handler_of_another_insurer_cannot_retry_a_capture(tenant_a, tenant_b, address):
    # given a failed capture of insurer A whose number does not exist in insurer B
    with tenant_context(tenant_b.insurer):
        top_b = Capture.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        handler_b = ClaimsHandlerFactory()
    with tenant_context(tenant_a.insurer):
        top_a = Capture.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        foreign = Capture.objects.create(
            pk=max(top_a, top_b) + 1000,
            url=address,
            status=Capture.Status.FAILED,
            error=TIMEOUT_REASON,
        )
    counts = (_count(tenant_a), _count(tenant_b))
    client = _client(tenant_b, handler_b)
    # when
    retry = client.post(f"/admin/preuves/{foreign.pk}/relancer/")
    status = client.get(f"/admin/preuves/{foreign.pk}/etat.json")
    # then
    assert (retry.status_code, status.status_code) == (404, 404)
    assert (_count(tenant_a), _count(tenant_b)) == counts
    with tenant_context(tenant_b.insurer):
        assert not Capture.objects.filter(url=address).exists()
