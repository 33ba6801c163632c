"""A doctor requests a capture of a (loopback) page in Chromium, watches the progress bar reach
100 %, downloads the bundle, and the bundle passes the standard tools (verify-bundle.sh)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from evidence.models import Capture
from tests.browser import expect
from tests.conftest import PASSWORD
from tests.evidence.conftest_django import captures_delete, evidence_worker
from tests.evidence.pages import Site
from tests.tenants.factories import DoctorUserFactory

pytestmark = pytest.mark.usefixtures("committed_db", "evidence_env")

REPO = Path(__file__).resolve().parents[2]
VERIFY_BUNDLE_SH = REPO / "evidence" / "tools" / "verify-bundle.sh"


def _url(live_server_url: str, host: str, path: str) -> str:
    port = live_server_url.rsplit(":", 1)[1]
    return f"http://{host}:{port}{path}"


@pytest.fixture
def doctor(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        user = DoctorUserFactory(email=f"medecin-e2e-{unique}@exemple.fr")
    yield user
    with tenant_context(tenant_a.insurer):
        ids = list(Capture.objects.filter(requested_by=user).values_list("pk", flat=True))
    captures_delete(tenant_a.insurer, ids)
    with tenant_context(tenant_a.insurer):
        user.delete()


def test_doctor_watches_the_capture_progress_then_downloads_a_verifiable_bundle(
    page, live_server_url, tenant_a, doctor, site: Site, tmp_path
):
    # given a signed-in doctor
    page.goto(_url(live_server_url, tenant_a.domain, "/compte/connexion/?next=/preuves/"))
    page.fill("#id_username", doctor.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Mes captures de preuve")

    with evidence_worker():
        # when they ask for a capture of a page with reviews loaded on scroll
        page.fill("#id_url", site.url("/lazy"))
        page.fill("#id_reason", "Avis diffamatoire")
        page.click("#capture-form button[type=submit]")
        expect(page).to_have_url(re.compile(r".*/preuves/\d+/$"))
        seen: list[str] = []
        page.expose_function("egideSeen", lambda value: seen.append(value))
        page.evaluate(
            """() => new MutationObserver(() => egideSeen(
                 document.getElementById('capture-progress-percent').textContent))
               .observe(document.getElementById('capture-progress-percent'),
                        {childList: true, characterData: true, subtree: true})"""
        )
        # then the bar moves and reaches 100 %
        expect(page.locator("#capture-progress-percent")).to_have_text("100 %", timeout=120_000)

    assert page.locator("#capture-status-label").inner_text() == "Terminée"
    assert page.locator(".progress").get_attribute("aria-valuenow") == "100"
    assert page.locator("#capture-progress-bar").evaluate("e => e.style.width") == "100%"
    assert len({value for value in seen if value != "100 %"}) >= 1  # intermediate steps shown
    # and the bundle downloads and passes the standard tools
    with page.expect_download() as download_info:
        page.click("#capture-download-link")
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert re.fullmatch(r"evidence-\d+-1\.zip", target.name)
    result = subprocess.run(
        ["bash", str(VERIFY_BUNDLE_SH), str(target)],
        env={**os.environ, "VERIFY_VENV": str(REPO / ".venv")},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert (result.returncode, result.stdout.splitlines()) == (
        0,
        ["ok bagit", "ok timestamp", "ok signature", "ok wacz", "ok warc capture.warc.gz"],
    )
