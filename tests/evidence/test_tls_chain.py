"""The TLS chain of a successful HTTPS page: served by a local CA, saved in the bundle, valid.

A CA and a server certificate (SAN 127.0.0.1 and localhost) are generated here; a threaded
``ssl`` server on 127.0.0.1 serves the page with the full chain. The capture browser trusts that
CA through ``EGIDE_CAPTURE_EXTRA_CA_FILE`` only — Chromium accepts chains holding exactly its
key (``--ignore-certificate-errors-spki-list``) — and a certificate from any other CA is still
refused. ``openssl verify`` checks the saved chain against the CA, as a third party would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import ssl
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.test import override_settings
from django_tenants.utils import tenant_context

from evidence.browser import BrowserThread, browser_thread
from evidence.capture import CHROMIUM_ARGS
from evidence.capture.result import CaptureResult
from evidence.capture.run import capture_run
from evidence.services.execution import capture_execute
from evidence.services.requests import capture_request
from evidence.tls_chain import chromium_trust_args, tls_chain_verify

CHROMIUM = settings.CHROMIUM_PATH  # the browser the evidence worker runs
PAGE = "<!doctype html><title>Avis sécurisés</title><p>Page servie en HTTPS valide.</p>"


@dataclass(frozen=True)
class Authority:
    name: str
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class TlsSite:
    port: int
    ca_file: Path
    leaf: x509.Certificate
    ca: x509.Certificate
    negotiated: list[tuple[str, str]]  # (protocol, suite) of each request, server side

    def url(self, path: str = "/avis") -> str:
        return f"https://127.0.0.1:{self.port}{path}"


def _now() -> dt.datetime:
    return dt.datetime.now(tz=dt.UTC)


def _authority(name: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(days=1))
        .not_valid_after(_now() + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(name=name, key=key, cert=cert)


def _server_cert(ca: Authority) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "avis.localhost")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(hours=1))
        .not_valid_after(_now() + dt.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    return cert, key


# TLS 1.3 suites as the browser names them (CDP) and as OpenSSL does.
SUITES = {
    "AES_128_GCM": "TLS_AES_128_GCM_SHA256",
    "AES_256_GCM": "TLS_AES_256_GCM_SHA384",
    "CHACHA20_POLY1305": "TLS_CHACHA20_POLY1305_SHA256",
}


class _Page(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    negotiated: list[tuple[str, str]]

    def do_GET(self) -> None:  # noqa: N802 — http.server's naming
        cipher = self.connection.cipher()  # type: ignore[attr-defined]
        self.negotiated.append((cipher[1], cipher[0]))
        body = PAGE.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@contextlib.contextmanager
def _https_site(ca: Authority, directory: Path) -> Iterator[TlsSite]:
    """A threaded HTTPS server on 127.0.0.1 serving leaf + CA, certified by ``ca``."""
    leaf, key = _server_cert(ca)
    chain_file, key_file, ca_file = (
        directory / "chain.pem",
        directory / "key.pem",
        directory / "ca.pem",
    )
    chain_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM) + ca.pem())
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ca_file.write_bytes(ca.pem())
    negotiated: list[tuple[str, str]] = []
    handler = type("Page", (_Page,), {"negotiated": negotiated})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield TlsSite(
            port=server.server_address[1],
            ca_file=ca_file,
            leaf=leaf,
            ca=ca.cert,
            negotiated=negotiated,
        )
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def tls_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsSite]:
    with _https_site(_authority("AC de test Egide"), tmp_path_factory.mktemp("tls")) as site:
        yield site


@pytest.fixture(scope="module")
def other_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsSite]:
    """The same page certified by another CA, which nothing trusts."""
    with _https_site(_authority("AC inconnue"), tmp_path_factory.mktemp("other")) as site:
        yield site


@pytest.fixture(scope="module")
def trusting_browser(tls_site: TlsSite) -> Iterator[BrowserThread]:
    """A capture browser launched with the trust of ``tls_site``'s CA, as settings make it."""
    with (
        override_settings(EGIDE_CAPTURE_EXTRA_CA_FILE=str(tls_site.ca_file)),
        browser_thread(chromium_path=CHROMIUM) as thread,
    ):
        yield thread


def _capture(thread: BrowserThread, url: str, out_dir: Path, ca_file: Path) -> CaptureResult:
    def run(browser_thread: BrowserThread) -> CaptureResult:
        return capture_run(
            browser=browser_thread.browser(),
            browser_args=browser_thread.args,
            url=url,
            out_dir=out_dir,
            chromium_path=CHROMIUM,
            allow={"127.0.0.1"},
            timeout_s=15,
            idle_timeout_s=3,
            behaviors_timeout_s=5,
            tls_extra_ca_file=ca_file,
        )

    return thread.call(run, thread)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def test_the_browser_trusts_exactly_the_extra_ca(trusting_browser: BrowserThread, tls_site):
    # the only addition to the capture's arguments is the CA's key hash, nothing blanket
    extra = [arg for arg in trusting_browser.args if arg not in CHROMIUM_ARGS]
    assert extra == list(chromium_trust_args(tls_site.ca_file))
    assert len(extra) == 1 and extra[0].startswith("--ignore-certificate-errors-spki-list=")
    assert not any(arg == "--ignore-certificate-errors" for arg in trusting_browser.args)


def test_a_page_from_another_ca_is_still_refused(
    trusting_browser: BrowserThread, tls_site: TlsSite, other_site: TlsSite, tmp_path: Path
):
    result = _capture(trusting_browser, other_site.url(), tmp_path / "c", tls_site.ca_file)
    assert result.http_status is None
    assert result.error == f"Page.goto: net::ERR_CERT_AUTHORITY_INVALID at {other_site.url()}"
    assert not (result.data_dir / "provenance" / "tls").exists()


def test_the_chain_of_a_valid_https_page_is_saved_and_verifies(
    trusting_browser: BrowserThread, tls_site: TlsSite, tmp_path: Path
):
    # when a valid HTTPS page is captured
    tls_site.negotiated.clear()
    result = _capture(trusting_browser, tls_site.url(), tmp_path / "c", tls_site.ca_file)
    # then the page itself was captured
    assert (result.http_status, result.error, result.title) == (200, None, "Avis sécurisés")
    # and the chain as served (leaf, then CA) is saved as PEM under provenance/tls/
    netloc = f"127.0.0.1:{tls_site.port}"
    pem_name = f"provenance/tls/127.0.0.1_{tls_site.port}.pem"
    chain = x509.load_pem_x509_certificates((result.data_dir / pem_name).read_bytes())
    assert [_der(cert) for cert in chain] == [_der(tls_site.leaf), _der(tls_site.ca)]
    assert pem_name in result.files
    # and network.json records protocol, cipher, the chain file and its verification
    network = json.loads((result.data_dir / "provenance/network.json").read_text("utf-8"))
    tls = network["tls_by_host"][netloc]
    # (the suites the server negotiated for this capture's requests: the same one)
    assert set(tls_site.negotiated) == {("TLSv1.3", SUITES[tls["cipher"]])}
    assert tls["protocol"] == "TLS 1.3"
    assert (tls["subject"], tls["issuer"]) == ("avis.localhost", "AC de test Egide")
    assert (tls["chain_file"], tls["chain_length"]) == (pem_name, 2)
    assert tls["chain_verification"]["status"] == "valide"
    assert tls["chain_verification"]["path"] == ["CN=avis.localhost", "CN=AC de test Egide"]
    # and a third party's openssl agrees: the leaf verifies against the CA
    leaf_file, served_ca = tmp_path / "leaf.pem", tmp_path / "served-ca.pem"
    leaf_file.write_bytes(chain[0].public_bytes(serialization.Encoding.PEM))
    served_ca.write_bytes(chain[1].public_bytes(serialization.Encoding.PEM))
    verify = subprocess.run(  # noqa: S603 — fixed tool
        ["openssl", "verify", "-CAfile", str(tls_site.ca_file), str(leaf_file)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (verify.returncode, verify.stdout.strip()) == (0, f"{leaf_file}: OK")
    # and against another CA, it does not
    other = tmp_path / "other-ca.pem"
    other.write_bytes(_authority("AC inconnue").pem())
    refused = subprocess.run(  # noqa: S603 — fixed tool
        ["openssl", "verify", "-CAfile", str(other), str(leaf_file)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode == 2


@pytest.mark.django_db
def test_a_bundle_of_a_valid_https_page_holds_the_chain(
    evidence_env, tenant_a, tls_site: TlsSite, trusting_browser: BrowserThread
):
    # given the setting that the capture browser was launched with
    with override_settings(EGIDE_CAPTURE_EXTRA_CA_FILE=str(tls_site.ca_file)):
        with tenant_context(tenant_a.insurer):
            capture_id = capture_request(
                url=tls_site.url(), requested_by=None, reason="", enqueue=False
            )
            # when the capture runs through the pipeline
            capture = capture_execute(capture_id=capture_id, browser=trusting_browser)
            bundle_path = capture.bundle.path
    # then the bundle is complete and holds leaf and CA as served, verified
    assert (capture.status, capture.http_status) == ("complete", 200), capture.error
    root = f"evidence-{capture.pk}-{capture.attempts}/data"
    with zipfile.ZipFile(bundle_path) as archive:
        pem = archive.read(f"{root}/provenance/tls/127.0.0.1_{tls_site.port}.pem")
        network = json.loads(archive.read(f"{root}/provenance/network.json"))
    chain = x509.load_pem_x509_certificates(pem)
    assert [_der(cert) for cert in chain] == [_der(tls_site.leaf), _der(tls_site.ca)]
    tls = network["tls_by_host"][f"127.0.0.1:{tls_site.port}"]
    assert (tls["protocol"], tls["cipher"] in SUITES) == ("TLS 1.3", True)
    assert tls["chain_verification"]["status"] == "valide"


@pytest.mark.django_db
def test_production_refuses_an_extra_ca(tmp_path: Path, tls_site: TlsSite):
    from tests.saas.production_env import REPO, production_env

    env = production_env(tmp_path, EGIDE_CAPTURE_EXTRA_CA_FILE=str(tls_site.ca_file))
    result = subprocess.run(  # noqa: S603 — fixed command
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: EGIDE_CAPTURE_EXTRA_CA_FILE : autorité de "
        "certification de test : en production, les pages capturées sont validées contre les "
        "seules racines publiques / test certificate authority: in production, captured pages "
        "are validated against the public roots only"
    )


def test_a_chain_is_validated_offline_for_its_host_and_roots_only(tmp_path: Path):
    ca = _authority("AC hors ligne")
    leaf, _key = _server_cert(ca)
    chain_pem = leaf.public_bytes(serialization.Encoding.PEM) + ca.pem()
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.pem())
    # with the CA among the roots, for a name of the certificate: valid
    valid = tls_chain_verify(
        chain_pem=chain_pem, host="localhost", at=_now(), extra_ca_file=ca_file
    )
    assert (valid["status"], valid["path"]) == ("valide", ["CN=avis.localhost", "CN=AC hors ligne"])
    assert valid["trust"].endswith(", plus l'autorité de ca.pem")
    # with the public roots only, or for another name: recorded as not validated, with why
    unknown_ca = tls_chain_verify(chain_pem=chain_pem, host="127.0.0.1", at=_now())
    assert unknown_ca["status"].startswith("unknown: chaîne non validée hors ligne (")
    other_name = tls_chain_verify(
        chain_pem=chain_pem, host="avis.example", at=_now(), extra_ca_file=ca_file
    )
    assert other_name["status"].startswith("unknown: chaîne non validée hors ligne (")
    assert "path" not in unknown_ca and "path" not in other_name
