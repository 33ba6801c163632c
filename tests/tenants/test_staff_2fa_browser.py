"""Enrolling an authenticator in Chromium: QR code, key, first code, recovery codes, admin."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from saas.totp_code import totp_code
from tests.conftest import PASSWORD
from tests.tenants.factories import InsurerAdminFactory

ENROL = "/compte/double-authentification/activer/"


def test_enrolment_in_chromium(committed_db, live_server_url, page, tenant_a, unique):
    email = f"admin-chromium-{unique}@tenant-a.localhost"
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email=email)
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://{tenant_a.domain}:{port}"
    try:
        page.goto(f"{base}/admin/login/")
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}{ENROL}?next=%2Fadmin%2F")

        qr = page.locator("#totp-qr svg.qr-code")
        box = qr.bounding_box()
        secret = page.locator("#totp-secret").inner_text()
        page.fill("#id_code", totp_code(secret=secret))
        page.click("#two-factor-enrol button[type=submit]")
        page.wait_for_url(re.compile(r".*/codes-de-secours/"))
        codes = page.locator("#recovery-codes code").all_inner_texts()
        page.click("#two-factor-continue")
        page.wait_for_url(f"{base}/admin/")

        assert box is not None and box["width"] >= 100 and box["height"] >= 100
        assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", secret)
        assert len(codes) == 10
        assert "Tableau de bord" in page.title()
    finally:
        with tenant_context(tenant_a.insurer):
            get_user_model().objects.filter(pk=admin.pk).delete()
