"""Every kind of page the issue lists, captured end to end, gives a bundle that the standard
tools accept (bagit, openssl ts, openssl cms, wacz, warcio via verify-bundle.sh) — and that
they reject once one byte of the page's text is changed."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from evidence.services.execution import capture_execute
from evidence.services.requests import capture_request
from tests.evidence.conftest_django import VENV, VERIFY_BUNDLE_SH
from tests.evidence.pages import Site
from tests.tenants.factories import DoctorUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_env")]

ALL_OK = ["ok bagit", "ok timestamp", "ok signature", "ok wacz", "ok warc capture.warc.gz"]


def _verify_sh(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(VERIFY_BUNDLE_SH), str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "VERIFY_VENV": str(VENV)},
        timeout=120,
        check=False,
    )


def _one_byte_changed(bundle: Path, out: Path, member_suffix: str) -> Path:
    """A copy of ``bundle`` where the first byte of one member is flipped."""
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith(member_suffix):
                data = bytes([data[0] ^ 0x01]) + data[1:]
            target.writestr(info, data)
    return out


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/lazy", 200),
        ("/consent", 200),
        ("/redirect-start", 200),
        ("/slow", 200),
        ("/missing", 404),
        ("/cp1252", 200),
        ("/long", 200),
        ("/iframe", 200),
    ],
)
def test_each_page_kind_gives_a_bundle_the_standard_tools_accept_and_tamper_breaks(
    tenant_a, site: Site, capture_browser, tmp_path, path, status
):
    with tenant_context(tenant_a.insurer):
        capture_id = capture_request(
            url=site.url(path), requested_by=DoctorUserFactory(), reason="", enqueue=False
        )
        capture = capture_execute(capture_id=capture_id, browser=capture_browser)
        capture.refresh_from_db()
        bundle = tmp_path / "bundle.zip"
        with capture.bundle.storage.open(capture.bundle.name or "", "rb") as stored:
            bundle.write_bytes(stored.read())

    assert (capture.status, capture.http_status) == ("complete", status)
    verified = _verify_sh(bundle)
    assert (verified.returncode, verified.stdout.splitlines()) == (0, ALL_OK)

    tampered = _verify_sh(_one_byte_changed(bundle, tmp_path / "tampered.zip", "data/page.txt"))
    assert tampered.returncode == 1
    assert tampered.stdout.splitlines()[0].startswith("FAIL bagit")
