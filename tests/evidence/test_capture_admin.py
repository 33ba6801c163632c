"""Claims handlers in the Wagtail admin: captures, checks recomputed from the files, custody
log, download and sending by link — each view and download being a custody event."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import tenant_context

from evidence.models import CustodyEvent, ShareLink
from tests.conftest import staff_login
from tests.evidence.conftest_django import CompleteCapture
from tests.tenants.factories import ClaimsHandlerFactory, DoctorUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_env")]

CHECKS = [
    "archive", "structure", "bagit", "sha256", "timestamp", "signature", "wacz",
    "warc capture.warc.gz", "tagmanifest enregistré",
]  # fmt: skip


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    with tenant_context(tenant.insurer):
        staff_login(client, user)
    return client


def _kinds(tenant, capture_id: int) -> list[str]:
    with tenant_context(tenant.insurer):
        return list(
            CustodyEvent.objects.filter(capture_id=capture_id)
            .order_by("seq")
            .values_list("kind", flat=True)
        )


@pytest.fixture
def handler(tenant_a):
    with tenant_context(tenant_a.insurer):
        return ClaimsHandlerFactory()


def test_handler_sees_the_list_of_captures(tenant_a, handler, complete_capture: CompleteCapture):
    response = _client(tenant_a, handler).get("/admin/preuves/")
    assert response.status_code == 200
    assert f'data-capture="{complete_capture.capture_id}"' in response.content.decode()


def test_handler_sees_what_was_recorded_each_check_and_the_custody_log(
    tenant_a, handler, complete_capture: CompleteCapture
):
    # given
    before = _kinds(tenant_a, complete_capture.capture_id)
    # when
    response = _client(tenant_a, handler).get(f"/admin/preuves/{complete_capture.capture_id}/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    for name in CHECKS:
        assert f'<tr data-check="{name}"><td>{name}</td><td class="ok">conforme</td>' in html
    assert "Tous les contrôles sont satisfaits." in html
    assert f"Chaîne intègre : {len(before) + 1} événements, chaque empreinte recalculée." in html
    assert html.count("<tr data-kind=") == len(before) + 1
    assert f'src="/admin/preuves/{complete_capture.capture_id}/capture.png"' in html
    assert _kinds(tenant_a, complete_capture.capture_id) == [*before, "viewed"]


def test_thumbnail_is_the_screenshot_from_the_bundle(tenant_a, handler, complete_capture):
    response = _client(tenant_a, handler).get(
        f"/admin/preuves/{complete_capture.capture_id}/capture.png"
    )
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_handler_downloads_the_bundle_and_it_is_logged(tenant_a, handler, complete_capture):
    before = _kinds(tenant_a, complete_capture.capture_id)
    response = _client(tenant_a, handler).get(
        f"/admin/preuves/{complete_capture.capture_id}/telecharger/"
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert _kinds(tenant_a, complete_capture.capture_id) == [*before, "downloaded"]
    with tenant_context(tenant_a.insurer):
        last = CustodyEvent.objects.filter(capture_id=complete_capture.capture_id).last()
    assert (last.actor_id, last.detail["where"]) == (handler.pk, "administration")


def test_handler_sends_the_bundle_as_an_expiring_link(tenant_a, handler, complete_capture):
    # when
    response = _client(tenant_a, handler).post(
        f"/admin/preuves/{complete_capture.capture_id}/envoyer/",
        {"recipient_email": "Etude.Durand@Commissaires.example", "days": "7"},
    )
    # then
    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        link = ShareLink.objects.get(capture_id=complete_capture.capture_id)
    assert (link.recipient_email, link.shared_by_id) == (
        "etude.durand@commissaires.example",
        handler.pk,
    )
    assert [m.to for m in mail.outbox] == [["etude.durand@commissaires.example"]]
    assert "http://tenant-a.localhost/preuves/partage/" in mail.outbox[0].body
    assert _kinds(tenant_a, complete_capture.capture_id)[-1] == "shared"


def test_an_invalid_recipient_is_refused_in_french_and_nothing_is_sent(
    tenant_a, handler, complete_capture
):
    client = _client(tenant_a, handler)
    response = client.post(
        f"/admin/preuves/{complete_capture.capture_id}/envoyer/",
        {"recipient_email": "pas-une-adresse", "days": "7"},
        follow=True,
    )
    assert "Saisissez une adresse e-mail valide." in response.content.decode()
    assert mail.outbox == []
    with tenant_context(tenant_a.insurer):
        assert ShareLink.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("get", "{id}/"), ("get", "{id}/telecharger/"), ("get", "{id}/capture.png"),
     ("post", "{id}/envoyer/")],
)  # fmt: skip
def test_a_doctor_cannot_use_the_admin_screens_and_nothing_is_recorded(
    tenant_a, complete_capture, method, suffix
):
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory()
    before = _kinds(tenant_a, complete_capture.capture_id)
    url = "/admin/preuves/" + suffix.format(id=complete_capture.capture_id)
    response = getattr(_client(tenant_a, doctor), method)(
        url, {"recipient_email": "x@exemple.fr", "days": "7"} if method == "post" else None
    )
    assert response.status_code in (302, 403)
    assert _kinds(tenant_a, complete_capture.capture_id) == before
    assert mail.outbox == []
