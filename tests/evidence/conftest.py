"""Fixtures for the evidence bundle core: key material, a local TSA, a synthetic capture.

Pure Python, no Django: these tests run with ``-p no:django --confcutdir=tests/evidence``.
The only network traffic is to the TSA started here on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from evidence.bag import BundleResult, bundle_build
from evidence.pki import SealPki, TsaPki, seal_pki_generate, tsa_pki_generate
from evidence.tsa_server import TsaServer
from evidence.wacz_pack import wacz_pack

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
VERIFY_BUNDLE_SH = REPO / "evidence" / "tools" / "verify-bundle.sh"

CAPTURE_ID = "cap-2026-0001"
PAGE_URL = "https://avis.example.test/praticien/dr-martin"
PAGE_TS = dt.datetime(2026, 3, 14, 9, 26, 53, tzinfo=dt.UTC)
PAGE_HTML = (
    "<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Dr Martin - avis</title>"
    "</head><body><h1>Dr Martin</h1><p>Avis : « Très mauvais accueil. »</p></body></html>"
).encode()
SERVER_IP = "127.0.0.1"
ORGANISATION = "Mutuelle Exemple des Médecins"


@dataclass(frozen=True)
class BuiltBundle:
    result: BundleResult
    tsa: TsaPki
    seal: SealPki


def png_bytes(*, width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real (tiny) PNG, so the payload looks like what a capture produces."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def warc_write(*, path: Path, url: str, html: bytes, when: dt.datetime) -> Path:
    """A WARC with one request/response pair carrying WARC-IP-Address, as a capture writes."""
    date = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        response_headers = StatusAndHeaders(
            "200 OK",
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(html)))],
            protocol="HTTP/1.1",
        )
        response = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(html),
            http_headers=response_headers,
            warc_headers_dict={"WARC-Date": date, "WARC-IP-Address": SERVER_IP},
        )
        request_headers = StatusAndHeaders(
            "GET /praticien/dr-martin HTTP/1.1",
            [("Host", "avis.example.test"), ("User-Agent", "Mozilla/5.0 Egide")],
            is_http_request=True,
        )
        request = writer.create_warc_record(
            url,
            "request",
            http_headers=request_headers,
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-IP-Address": SERVER_IP,
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        writer.write_record(response)
        writer.write_record(request)
    return path


def run(command: list[str], *, cwd: Path | None = None, env: dict | None = None):
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def unzip_to(zip_path: Path, target: Path) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)
    return target / zip_path.stem


def rezip(bag_dir: Path, zip_path: Path) -> Path:
    """Zip a bag directory back, as someone who tampered with it would."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(bag_dir.rglob("*")):
            if path.is_file():
                archive.write(path, f"{bag_dir.name}/{path.relative_to(bag_dir).as_posix()}")
    return zip_path


@pytest.fixture(scope="session")
def tsa_pki() -> TsaPki:
    return tsa_pki_generate(common_name="TSA de test Egide", valid_days=30)


@pytest.fixture(scope="session")
def seal_pki() -> SealPki:
    return seal_pki_generate(organisation=ORGANISATION, valid_days=30)


@pytest.fixture
def tsa_server(tsa_pki: TsaPki) -> Iterator[TsaServer]:
    server = TsaServer(pki=tsa_pki, host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def session_tsa_server(tsa_pki: TsaPki) -> Iterator[TsaServer]:
    server = TsaServer(pki=tsa_pki, host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def capture_wacz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wacz")
    warc = warc_write(path=work / "capture.warc.gz", url=PAGE_URL, html=PAGE_HTML, when=PAGE_TS)
    return wacz_pack(
        warc_paths=[warc],
        out_path=work / "capture.wacz",
        url=PAGE_URL,
        title="Dr Martin - avis",
        ts=PAGE_TS,
    )


@pytest.fixture(scope="session")
def capture_data_dir(tmp_path_factory: pytest.TempPathFactory, capture_wacz: Path) -> Path:
    """A data directory laid out like a real capture's (EVIDENCE.md, ``data/``)."""
    data = tmp_path_factory.mktemp("capture") / "data"
    (data / "provenance" / "tls").mkdir(parents=True)
    (data / "capture.wacz").write_bytes(capture_wacz.read_bytes())
    (data / "screenshot-full.png").write_bytes(png_bytes(width=8, height=24, rgb=(250, 250, 250)))
    (data / "screenshot-viewport.png").write_bytes(png_bytes(width=8, height=6, rgb=(20, 40, 60)))
    (data / "page.html").write_bytes(PAGE_HTML)
    (data / "page.txt").write_text("Dr Martin\nAvis : « Très mauvais accueil. »\n", "utf-8")
    (data / "page.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n")
    (data / "report.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n2 0 obj<<>>endobj\n%%EOF\n")
    provenance = {
        "environment.json": {"browser": "chromium", "locale": "fr-FR", "timezone": "UTC"},
        "network.json": {
            "egress_ip": None,
            "egress_ip_unknown": "no route",
            "server_ip": SERVER_IP,
        },
        "clock.json": {"source": "unknown", "reason": "no NTP server reachable"},
    }
    for name, content in provenance.items():
        (data / "provenance" / name).write_text(json.dumps(content, ensure_ascii=False), "utf-8")
    (data / "provenance" / "actions.jsonl").write_text(
        '{"at": "2026-03-14T09:26:50Z", "action": "navigate", "url": "' + PAGE_URL + '"}\n',
        "utf-8",
    )
    (data / "provenance" / "custody.jsonl").write_text(
        '{"seq": 1, "event": "captured", "prev": null}\n'
        '{"seq": 2, "event": "packaged", "prev": "9f2c"}\n',
        "utf-8",
    )
    (data / "provenance" / "tls" / "avis.example.test.pem").write_text(
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "utf-8"
    )
    return data


def bundle_build_for_test(
    *,
    data_dir: Path,
    out_dir: Path,
    tsa_url: str,
    tsa: TsaPki,
    seal: SealPki,
    capture_id: str = CAPTURE_ID,
) -> BundleResult:
    return bundle_build(
        capture_id=capture_id,
        data_dir=data_dir,
        out_dir=out_dir,
        bag_info={"Source-Organization": ORGANISATION, "Contact-Email": "preuves@example.test"},
        tsa_url=tsa_url,
        tsa_chain_pem=tsa.cert_pem,
        tsa_ca_pem=tsa.ca_cert_pem,
        seal_key_pem=seal.key_pem,
        seal_cert_pem=seal.cert_pem,
        seal_ca_pem=seal.ca_cert_pem,
        timeout=10,
    )


@pytest.fixture(scope="session")
def built_bundle(
    tmp_path_factory: pytest.TempPathFactory,
    capture_data_dir: Path,
    session_tsa_server: TsaServer,
    tsa_pki: TsaPki,
    seal_pki: SealPki,
) -> BuiltBundle:
    result = bundle_build_for_test(
        data_dir=capture_data_dir,
        out_dir=tmp_path_factory.mktemp("bundles"),
        tsa_url=session_tsa_server.url,
        tsa=tsa_pki,
        seal=seal_pki,
    )
    return BuiltBundle(result=result, tsa=tsa_pki, seal=seal_pki)
