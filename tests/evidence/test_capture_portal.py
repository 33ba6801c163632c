"""Doctor portal: request a capture, follow it, download one's own bundle — and only one's own."""

from __future__ import annotations

import zipfile
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import tenant_context

from evidence.models import Capture, CustodyEvent
from tests.evidence.conftest_django import CompleteCapture
from tests.evidence.pages import Site
from tests.tenants.factories import DoctorUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_env")]


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    with tenant_context(tenant.insurer):
        client.force_login(user)
    return client


def _events(tenant, capture_id: int) -> list[str]:
    with tenant_context(tenant.insurer):
        return list(
            CustodyEvent.objects.filter(capture_id=capture_id)
            .order_by("seq")
            .values_list("kind", flat=True)
        )


def test_doctor_requests_a_capture_from_the_portal(tenant_a, site: Site):
    # given
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory()
    client = _client(tenant_a, doctor)
    # when
    response = client.post("/preuves/", {"url": site.url("/lazy"), "reason": "Avis injurieux"})
    # then
    with tenant_context(tenant_a.insurer):
        capture = Capture.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/preuves/{capture.pk}/"
    assert (capture.url, capture.reason, capture.requested_by_id, capture.status) == (
        site.url("/lazy"),
        "Avis injurieux",
        doctor.pk,
        "queued",
    )


def test_a_malformed_url_gets_a_french_error_and_nothing_is_created(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory()
    response = _client(tenant_a, doctor).post("/preuves/", {"url": "www exemple fr", "reason": ""})
    assert response.status_code == 200
    assert (
        "URL mal formée : elle contient des espaces ou des caractères de contrôle."
        in response.content.decode()
    )
    with tenant_context(tenant_a.insurer):
        assert Capture.objects.count() == 0


def test_progress_endpoint_reports_the_row(tenant_a, complete_capture: CompleteCapture):
    with tenant_context(tenant_a.insurer):
        doctor = get_user_model().objects.get(pk=complete_capture.doctor_id)
    response = _client(tenant_a, doctor).get(f"/preuves/{complete_capture.capture_id}/etat.json")
    assert response.json() == {
        "id": complete_capture.capture_id,
        "status": "complete",
        "status_label": "Terminée",
        "interrupted": False,
        "progress": 100,
        "progress_label": "100 %",
        "step": "Capture terminée : lot de preuve horodaté et scellé",
        "attempts": 1,
        "error": "",
        "http_status": 200,
        "download_url": f"/preuves/{complete_capture.capture_id}/telecharger/",
    }


def test_viewing_and_downloading_ones_capture_are_custody_events(
    tenant_a, complete_capture: CompleteCapture
):
    # given
    with tenant_context(tenant_a.insurer):
        doctor = get_user_model().objects.get(pk=complete_capture.doctor_id)
    client = _client(tenant_a, doctor)
    before = _events(tenant_a, complete_capture.capture_id)
    # when
    page = client.get(f"/preuves/{complete_capture.capture_id}/")
    download = client.get(f"/preuves/{complete_capture.capture_id}/telecharger/")
    # then
    assert page.status_code == 200
    assert 'aria-valuenow="100"' in page.content.decode()
    assert download.status_code == 200
    assert download["Content-Disposition"] == (
        f'attachment; filename="evidence-{complete_capture.capture_id}-1.zip"'
    )
    body = b"".join(download.streaming_content)
    assert zipfile.ZipFile(BytesIO(body)).testzip() is None
    assert _events(tenant_a, complete_capture.capture_id) == [*before, "viewed", "downloaded"]
    with tenant_context(tenant_a.insurer):
        last = CustodyEvent.objects.filter(capture_id=complete_capture.capture_id).last()
        assert (last.actor_id, last.actor_label, last.detail["where"]) == (
            doctor.pk,
            complete_capture.doctor_email,
            "portail",
        )


@pytest.mark.parametrize("suffix", ["", "etat.json", "telecharger/"])
def test_another_doctor_gets_404_and_nothing_is_recorded(
    tenant_a, complete_capture: CompleteCapture, suffix
):
    # given a doctor of the same insurer who did not request the capture
    with tenant_context(tenant_a.insurer):
        other = DoctorUserFactory()
    before = _events(tenant_a, complete_capture.capture_id)
    # when
    response = _client(tenant_a, other).get(f"/preuves/{complete_capture.capture_id}/{suffix}")
    # then
    assert response.status_code == 404
    assert _events(tenant_a, complete_capture.capture_id) == before


def test_the_list_shows_only_ones_own_captures(tenant_a, complete_capture: CompleteCapture):
    with tenant_context(tenant_a.insurer):
        other = DoctorUserFactory()
        owner = get_user_model().objects.get(pk=complete_capture.doctor_id)
    mine = _client(tenant_a, owner).get("/preuves/").content.decode()
    theirs = _client(tenant_a, other).get("/preuves/").content.decode()
    link = f'href="/preuves/{complete_capture.capture_id}/"'
    assert link in mine
    assert link not in theirs
    assert "Aucune capture pour l'instant." in theirs


def test_anonymous_visitor_is_sent_to_the_login_page(tenant_a, complete_capture):
    response = Client(HTTP_HOST=tenant_a.domain).get(f"/preuves/{complete_capture.capture_id}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/connexion/")
