"""Clock and egress address are measured by default, in every bundle (NF Z67-147).

The run's harness (``saas.pytest_services``) starts an SNTP responder whose clock runs
``NTP_TEST_OFFSET_S`` ahead and an IP echo on 127.0.0.1, and names them in the settings
(``EGIDE_CAPTURE_NTP_SERVERS`` / ``EGIDE_CAPTURE_IP_ECHO_URLS``): these captures go through the
default code path, with no setting changed, and must record a measured offset and address. When
the services are down, the bundle says why and the capture still completes.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django_tenants.utils import tenant_context

from evidence.services.execution import capture_execute
from evidence.services.requests import capture_request
from evidence.testing.ip_echo import IpEcho
from evidence.testing.sntp import SntpResponder
from saas.pytest_services import IP_ECHO, NTP_TEST_OFFSET_S, SNTP
from tests.evidence.pages import Site

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_env")]


def _bundle_read(capture, name: str) -> bytes:
    with zipfile.ZipFile(capture.bundle_path) as archive:
        return archive.read(f"evidence-{capture.pk}-{capture.attempts}/data/{name}")


def _report_text(capture, tmp_path: Path) -> str:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_bundle_read(capture, "report.pdf"))
    result = subprocess.run(  # noqa: S603 — fixed tool
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return " ".join(result.stdout.split())


def _capture(tenant, url: str, browser):
    with tenant_context(tenant.insurer):
        capture_id = capture_request(url=url, requested_by=None, reason="", enqueue=False)
        capture = capture_execute(capture_id=capture_id, browser=browser)
        capture.refresh_from_db()
        capture.bundle_path = capture.bundle.path  # the tenant's storage: read it here
        return capture


def test_the_default_settings_point_at_the_local_services() -> None:
    assert settings.EGIDE_CAPTURE_NTP_SERVERS == [SNTP.server]
    assert settings.EGIDE_CAPTURE_IP_ECHO_URLS == [IP_ECHO.url]
    assert SNTP.server.startswith("127.0.0.1:")
    assert IP_ECHO.url.startswith("http://127.0.0.1:")


def test_a_bundle_records_the_measured_clock_offset_and_egress_address(
    tenant_a, site: Site, capture_browser, tmp_path: Path
) -> None:
    # given the default settings (the harness's NTP responder and IP echo)
    asked_ntp, asked_echo = SNTP.requests_served, IP_ECHO.requests_served
    # when a capture runs
    capture = _capture(tenant_a, site.url("/autre-page"), capture_browser)
    # then it completes, and the clock was measured against the responder, start and end
    assert capture.status == "complete", capture.error
    clock = json.loads(_bundle_read(capture, "provenance/clock.json"))
    for moment in ("start", "end"):
        record = clock[moment]
        assert record["status"] == "ok"
        assert record["server"] == SNTP.server
        assert record["server_address"] == "127.0.0.1"
        assert record["stratum"] == 2
        assert record["reference_id"] == "127.0.0.1"
        # the true offset lies within the measured one ± half the round trip (RFC 5905): on a
        # loaded machine the responder's thread may read its clock late, widening the delay
        assert 0 <= record["delay_s"] < 5
        assert abs(record["offset_s"] - NTP_TEST_OFFSET_S) <= record["delay_s"] / 2 + 0.002
        assert record["attempts"] == [{"server": SNTP.server, "result": "ok"}]
    assert SNTP.requests_served - asked_ntp == 2
    # and the egress address is the one the echo service saw
    network = json.loads(_bundle_read(capture, "provenance/network.json"))
    assert network["egress"]["ip"] == "127.0.0.1"
    assert network["egress"]["source"] == IP_ECHO.url
    assert network["egress"]["server_address"] == "127.0.0.1"
    assert IP_ECHO.requests_served - asked_echo == 1
    # and the report states both, in French
    text = _report_text(capture, tmp_path)
    assert "Adresse IP publique de sortie 127.0.0.1" in text
    assert f"par rapport au serveur NTP {SNTP.server} (127.0.0.1, strate 2" in text
    assert "Synchronisation de l'horloge mesurée : décalage de" in text


def test_with_the_services_down_the_bundle_says_why_and_the_capture_completes(
    tenant_a, site: Site, capture_browser, tmp_path: Path
) -> None:
    # given an NTP responder and an IP echo that have stopped
    with SntpResponder(offset_s=3.0) as ntp, IpEcho() as echo:
        dead_ntp, dead_echo = ntp.server, echo.url
    with override_settings(
        EGIDE_CAPTURE_NTP_SERVERS=[dead_ntp], EGIDE_CAPTURE_IP_ECHO_URLS=[dead_echo]
    ):
        # when a capture runs
        capture = _capture(tenant_a, site.url("/autre-page"), capture_browser)
    # then it completes, and clock.json and network.json say why nothing was measured
    assert capture.status == "complete", capture.error
    clock = json.loads(_bundle_read(capture, "provenance/clock.json"))
    reason = f"unknown: aucun serveur NTP n'a répondu ({dead_ntp} : pas de réponse en 1 s)"
    assert (clock["start"]["status"], clock["end"]["status"]) == (reason, reason)
    assert "offset_s" not in clock["start"]
    network = json.loads(_bundle_read(capture, "provenance/network.json"))
    assert network["egress"]["ip"] == (
        f"unknown: aucun service d'écho n'a répondu ({dead_echo} : "
        "connexion impossible (ConnectError))"
    )
    assert network["egress"]["source"] is None
    text = _report_text(capture, tmp_path)
    assert f"inconnu : aucun serveur NTP n'a répondu ({dead_ntp} : pas de réponse en 1 s)" in text
    assert "Adresse IP publique de sortie inconnue : aucun service d'écho n'a répondu" in text
