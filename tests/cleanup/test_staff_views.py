"""Claims handlers review monitoring alerts and removal requests in the Wagtail admin of their
insurer; a doctor has no access there."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django_tenants.utils import tenant_context

from cleanup.models import Alert, RemovalRequest
from cleanup.services.scans import scan_request, scan_run
from cleanup.services.watch import watch_profile_save, watched_page_add
from tenants.roles import CLAIMS_HANDLER
from tests.cleanup.conftest import MICRODATA_PAGE
from tests.cleanup.factories import doctor_with_policy
from tests.conftest import staff_login

pytestmark = pytest.mark.django_db


def test_claims_handler_lists_alerts_and_requests_a_doctor_cannot(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="57af0001")
        profile = watch_profile_save(
            doctor=doctor, name_variants=["Claire Martin"], practice_name="", city="",
            specialty="", keywords=[],
        )  # fmt: skip
        watched_page_add(profile=profile, url=review_site.put("/57af0001", MICRODATA_PAGE))
        scan_run(scan_id=scan_request(profile=profile, enqueue=False).pk)
        RemovalRequest.objects.create(
            profile=profile, kind="dereferencing", recipient_name="Moteur Exemple",
            recipient_address="Formulaire en ligne", urls=["https://x.example/"], grounds=["m"],
        )  # fmt: skip
        handler = User.objects.create_user(username="gestion-57af", email="g57af@exemple.test")
        handler.groups.add(Group.objects.get(name=CLAIMS_HANDLER))
        staff = Client(HTTP_HOST=tenant_a.domain)
        staff_login(staff, handler)
        portal = Client(HTTP_HOST=tenant_a.domain)
        portal.force_login(doctor.user)
        first_alert = Alert.objects.filter(profile=profile).order_by("pk").first()

    alerts = staff.get("/admin/veille/alertes/")
    requests = staff.get("/admin/veille/demandes/")
    refused = portal.get("/admin/veille/alertes/")

    assert alerts.status_code == 200
    assert first_alert.title in alerts.content.decode()
    assert requests.status_code == 200
    assert "Moteur Exemple" in requests.content.decode()
    assert refused.status_code == 302 and "/admin/login/" in refused["Location"]
