"""The French capture report: rendered to PDF, read back with pdftotext (poppler-utils)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from evidence.capture.result import CaptureResult
from evidence.report import data_file_hashes, report_render

PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"

HASHES = {
    "page.html": "3f" * 32,
    "screenshot-full.png": "a1" * 32,
    "warc/capture.warc.gz": "0123456789abcdef" * 4,
}


def _capture(**overrides) -> dict:
    data = {
        "url": "https://avis.example/dr-martin",
        "final_url": "https://avis.example/fiche/dr-martin",
        "http_status": 200,
        "error": None,
        "title": "Dr Martin — avis",
        "started_at": "2025-03-14T09:26:53.120Z",
        "finished_at": "2025-03-14T09:27:05.900Z",
        "redirect_chain": [
            {
                "url": "https://avis.example/dr-martin",
                "status": 301,
                "location": "/fiche/dr-martin",
                "server_ip": "198.51.100.20",
            },
            {
                "url": "https://avis.example/fiche/dr-martin",
                "status": 200,
                "server_ip": "198.51.100.20",
            },
        ],
        "blocked": [
            {
                "at": "2025-03-14T09:26:55.000Z",
                "url": "http://10.0.0.5/pixel.png",
                "resource_type": "Image",
                "addresses": ["10.0.0.5"],
                "reason": "adresse non publique : 10.0.0.5 (réseau privé)",
            }
        ],
        "environment": {
            "browser": {
                "name": "Chromium",
                "version": "156.0.8078.108",
                "headless": True,
                "user_agent": "Mozilla/5.0 HeadlessChrome/156.0.0.0",
                "extensions": "aucune",
            },
            "context": {
                "viewport": {"width": 1366, "height": 900},
                "locale": "fr-FR",
                "timezone_id": "Europe/Paris",
                "fresh_context": True,
                "cookies_at_start": 0,
                "cache": "vidé et désactivé",
                "service_workers": "bloqués",
            },
            "software": {"python": "3.11.7", "playwright": "1.65.2"},
            "os": {"name": "Debian GNU/Linux 12 (bookworm)", "platform": "Linux", "hostname": "w1"},
            "proxy": {
                "environment": {},
                "browser": "aucun proxy : Chromium lancé avec --no-proxy-server",
                "proxy_found": False,
            },
        },
        "network": {
            "egress": {"ip": "203.0.113.7", "source": "https://ip.egide.example/"},
            "dns": {
                "host": "avis.example",
                "answers": ["198.51.100.20"],
                "resolver": {
                    "source": "/etc/resolv.conf",
                    "nameservers": ["192.0.2.53"],
                    "nsswitch_hosts": "files dns",
                },
            },
            "tls_by_host": {
                "avis.example": {
                    "protocol": "TLS 1.3",
                    "cipher": "AES_128_GCM",
                    "issuer": "Autorité Exemple R3",
                    "chain_file": "provenance/tls/avis.example.pem",
                }
            },
            "guard": {"allow_list": []},
        },
        "clock": {
            "start": {
                "status": "ok",
                "server": "ntp.example:123",
                "offset_s": 0.012,
                "stratum": 2,
                "round_trip_s": 0.004,
                "system_time_utc": "2025-03-14T09:26:53.120Z",
            },
            "end": {
                "status": "unknown: pas de réponse du serveur NTP en 3 s",
                "system_time_utc": "2025-03-14T09:27:05.800Z",
            },
        },
        "actions": [
            {
                "at": "2025-03-14T09:26:54.500Z",
                "action": "click",
                "purpose": "consent-refuse",
                "text": "Tout refuser",
                "selector": "button#refuse",
                "frame": "https://avis.example/fiche/dr-martin",
            },
            {
                "at": "2025-03-14T09:26:58.000Z",
                "action": "scroll-done",
                "engine": "browsertrix-behaviors",
                "duration_s": 3.2,
                "page_height_px": 4200,
            },
        ],
    }
    data.update(overrides)
    return data


def _pdf_text(path: Path) -> str:
    result = subprocess.run(  # noqa: S603 — fixed tool
        [PDFTOTEXT, "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return " ".join(result.stdout.split())


@pytest.fixture
def report_text(tmp_path: Path) -> str:
    out = report_render(capture=_capture(), file_hashes=HASHES, out_path=tmp_path / "report.pdf")
    assert out.read_bytes().startswith(b"%PDF-")
    return _pdf_text(out)


def test_report_states_it_does_not_replace_a_constat(report_text: str) -> None:
    assert (
        "Il ne remplace pas un procès-verbal de constat dressé par un commissaire de justice "
        "selon la norme AFNOR NF Z67-147" in report_text
    )


def test_report_gives_what_and_when_in_utc_and_paris_time(report_text: str) -> None:
    assert "Adresse demandée https://avis.example/dr-martin" in report_text
    assert "Adresse finale https://avis.example/fiche/dr-martin" in report_text
    assert (
        "Début de la capture 2025-03-14 09:26:53 UTC (10:26:53, heure de Paris, le 14/03/2025)"
        in report_text
    )
    assert "décalage de 0.012 s par rapport au serveur NTP ntp.example:123" in report_text
    assert "inconnu : pas de réponse du serveur NTP en 3 s" in report_text


def test_report_gives_where_from(report_text: str) -> None:
    assert "Adresse IP publique de sortie 203.0.113.7" in report_text
    assert "Réponses DNS 198.51.100.20" in report_text
    assert "Résolveur (serveurs DNS) 192.0.2.53" in report_text


def test_report_gives_how_and_the_checks(report_text: str) -> None:
    assert "Navigateur Chromium 156.0.8078.108" in report_text
    assert "contexte de navigation neuf, 0 cookie au démarrage" in report_text
    assert "Profil vierge (cache et cookies) conforme" in report_text
    assert "Absence de proxy conforme" in report_text
    assert "1 requête(s) bloquée(s)" in report_text


def test_report_lists_interactions_redirects_and_blocked_requests(report_text: str) -> None:
    assert "« Tout refuser » (bandeau de consentement — refus)" in report_text
    assert "moteur browsertrix-behaviors, durée 3.2 s, hauteur de page 4200 px" in report_text
    assert "https://avis.example/dr-martin 301 198.51.100.20 /fiche/dr-martin" in report_text
    assert "http://10.0.0.5/pixel.png 10.0.0.5 adresse non publique" in report_text
    assert "avis.example TLS 1.3, AES_128_GCM Autorité Exemple R3" in report_text


def test_report_lists_every_file_hash(report_text: str) -> None:
    for path, digest in HASHES.items():
        assert f"{path} {digest}" in report_text


def test_report_says_why_the_egress_ip_is_unknown(tmp_path: Path) -> None:
    capture = _capture()
    capture["network"]["egress"] = {"ip": "unknown: connexion impossible (ConnectError)"}
    out = report_render(capture=capture, file_hashes={}, out_path=tmp_path / "r.pdf")
    text = _pdf_text(out)
    assert "Adresse IP publique de sortie inconnue : connexion impossible (ConnectError)" in text
    assert "Adresse IP publique inconnue : connexion impossible (ConnectError)" in text


def test_report_renders_from_a_capture_result_and_hashes_a_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "provenance").mkdir(parents=True)
    (data_dir / "page.txt").write_text("Avis n°1\n", encoding="utf-8")
    (data_dir / "provenance" / "clock.json").write_text("{}\n", encoding="utf-8")
    (data_dir / "report.pdf").write_bytes(b"ancien rapport")
    warc = tmp_path / "capture.warc.gz"
    warc.write_bytes(b"WARC")
    hashes = data_file_hashes(data_dir=data_dir, extra={"warc/capture.warc.gz": warc})
    assert hashes == {
        "page.txt": "36ddf8ac8ea666566847fefc5765f85c7d554147887de82ccf8448d813ed2173",
        "provenance/clock.json": "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356",
        "warc/capture.warc.gz": "252e3eb31f410bcb3c1b1805a499b31c70a4acc4c63dcb85bd9f99e7a3654adc",
    }
    plain = _capture()
    result = CaptureResult(
        url=plain["url"],
        final_url=plain["final_url"],
        http_status=404,
        error=None,
        title="",
        started_at=datetime(2025, 7, 1, 22, 30, 0, tzinfo=UTC),
        finished_at=datetime(2025, 7, 1, 22, 30, 9, tzinfo=UTC),
        out_dir=tmp_path,
        data_dir=data_dir,
        warc_paths=[warc],
        main_response_date=None,
        redirect_chain=[],
        blocked=[],
        files={},
        warc_sha256={},
        environment=plain["environment"],
        network=plain["network"],
        clock=plain["clock"],
        actions=[],
    )
    out = report_render(capture=result, file_hashes=hashes, out_path=data_dir / "report.pdf")
    text = _pdf_text(out)
    assert "Statut HTTP 404" in text
    # 22:30 UTC on 1 July is 00:30 the next day in Paris (summer time)
    assert "2025-07-01 22:30:00 UTC (00:30:00, heure de Paris, le 02/07/2025)" in text
    assert "Aucune réponse reçue pour le document principal." in text
    assert f"page.txt {hashes['page.txt']}" in text
