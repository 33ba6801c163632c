"""Tenants never see each other's evidence: every selector and every view, data in test_a,
asked from test_b, returns nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from evidence import selectors
from evidence.models import Capture
from tests.conftest import staff_login
from tests.evidence.conftest_django import CompleteCapture
from tests.tenants.factories import ClaimsHandlerFactory, DoctorUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_env")]


def test_selectors_of_b_return_nothing_of_a(tenant_a, tenant_b, complete_capture: CompleteCapture):
    # given a complete capture in test_a
    with tenant_context(tenant_a.insurer):
        capture_a = Capture.objects.get(pk=complete_capture.capture_id)
        assert (
            selectors.captures_count(
                since=timezone.now() - dt.timedelta(days=1), until=timezone.now()
            )
            == 1
        )
    # when asked in test_b
    with tenant_context(tenant_b.insurer):
        doctor_b = DoctorUserFactory()
        # then nothing comes back
        assert list(selectors.captures_of_user(user=doctor_b)) == []
        assert selectors.capture_of_user(user=doctor_b, capture_id=capture_a.pk) is None
        assert list(selectors.captures_all()) == []
        assert selectors.capture_detail(capture_id=capture_a.pk) is None
        assert list(selectors.custody_events(capture=capture_a)) == []
        assert (
            selectors.captures_count(
                since=timezone.now() - dt.timedelta(days=1), until=timezone.now()
            )
            == 0
        )
        assert selectors.custody_chain_check(capture=capture_a) == selectors.CustodyCheck(
            ok=True, events=0, broken_at=None
        )


def test_bundle_files_are_stored_per_tenant(tenant_a, complete_capture, evidence_env):
    with tenant_context(tenant_a.insurer):
        path = Capture.objects.get(pk=complete_capture.capture_id).bundle.path
    assert path.startswith(f"{evidence_env.root}/test_a/bundles/")


@pytest.mark.parametrize(
    "url",
    ["/preuves/{id}/", "/preuves/{id}/etat.json", "/preuves/{id}/telecharger/",
     "/admin/preuves/{id}/", "/admin/preuves/{id}/telecharger/", "/admin/preuves/{id}/capture.png"],
)  # fmt: skip
def test_views_of_b_return_404_for_a_capture_of_a(tenant_a, tenant_b, complete_capture, url):
    # given staff of B with every evidence permission
    with tenant_context(tenant_b.insurer):
        handler_b = ClaimsHandlerFactory()
        handler_b.is_superuser = True
        handler_b.save()
    client = Client(HTTP_HOST=tenant_b.domain)
    with tenant_context(tenant_b.insurer):
        staff_login(client, handler_b)
    before = _events(tenant_a, complete_capture.capture_id)
    # when
    response = client.get(url.format(id=complete_capture.capture_id))
    # then
    assert response.status_code == 404
    assert _events(tenant_a, complete_capture.capture_id) == before


def test_the_admin_list_of_b_does_not_show_captures_of_a(tenant_b, complete_capture):
    with tenant_context(tenant_b.insurer):
        handler_b = ClaimsHandlerFactory()
    client = Client(HTTP_HOST=tenant_b.domain)
    with tenant_context(tenant_b.insurer):
        staff_login(client, handler_b)
    html = client.get("/admin/preuves/").content.decode()
    assert "Aucune capture." in html
    assert f'data-capture="{complete_capture.capture_id}"' not in html


def _events(tenant, capture_id: int) -> int:
    from evidence.models import CustodyEvent

    with tenant_context(tenant.insurer):
        return CustodyEvent.objects.filter(capture_id=capture_id).count()
