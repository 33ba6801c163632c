"""DNS rebinding and redirects: the address checked is the address connected to.

A real DNS server (UDP, on 127.0.0.1) answers an allowed address to the first question and a
forbidden one afterwards; the fetch's resolver asks it over the DNS protocol
(``common.address_guard.dns_server_resolver``). The process resolver (getaddrinfo) cannot be
pointed at a test server without editing /etc/resolv.conf, so the guard's resolver is injected.

Addresses: the allow-list is ``127.0.0.1/32``; ``127.0.0.2`` stands for the internal service an
attacker wants to reach (loopback, outside the allow-list). A trap server listens there on the
same port and records anything that reaches it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cleanup.fetch import (
    BlockedAddressError,
    FetchLimits,
    UnreachableError,
    http_client_build,
    page_fetch,
)
from common.net_guard import OutboundGuard, OutboundRefused, guarded_client

ALLOWED = (ipaddress.ip_network("127.0.0.1/32"),)
HOST = "avis.rebind.test"


# --------------------------------------------------------------------------- HTTP(S) servers


@dataclass
class Seen:
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)
    sni: list[str | None] = field(default_factory=list)
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)


def _handler(seen: Seen) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_GET(self) -> None:  # noqa: N802
            seen.requests.append((self.path, self.headers.get("Host", "")))
            status, headers, body = seen.routes.get(
                self.path, (200, {}, b"<html><body>fiche du praticien</body></html>")
            )
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _serve(address: str, port: int, seen: Seen, tls: ssl.SSLContext | None = None) -> Any:
    cls = _V6Server if ":" in address else ThreadingHTTPServer
    server = cls((address, port), _handler(seen))
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Pair:
    """An allowed site on 127.0.0.1 and a trap on 127.0.0.2, on the same port."""

    port: int
    site: Seen
    trap: Seen


def _pair(tls: ssl.SSLContext | None = None) -> Iterator[Pair]:
    for _attempt in range(20):
        site, trap = Seen(), Seen()
        first = _serve("127.0.0.1", 0, site, tls)
        port = first.server_address[1]
        try:
            second = _serve("127.0.0.2", port, trap, tls)
        except OSError:
            first.shutdown()
            first.server_close()
            continue
        yield Pair(port=port, site=site, trap=trap)
        for server in (first, second):
            server.shutdown()
            server.server_close()
        return
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


@pytest.fixture
def pair() -> Iterator[Pair]:
    yield from _pair()


# --------------------------------------------------------------------------- rebinding


def test_the_connection_goes_to_the_address_that_was_checked(fake_dns, pair):
    # given: the name answers 127.0.0.1 (allowed) once, then 127.0.0.2 (forbidden)
    fake_dns.answers[HOST] = [["127.0.0.1"], ["127.0.0.2"]]
    url = f"http://{HOST}:{pair.port}/fiche"
    # when
    page = page_fetch(url=url, allowed_networks=ALLOWED, resolver=fake_dns.resolver())
    # then: one resolution, the checked address served the page, under the original Host
    assert page.html == "<html><body>fiche du praticien</body></html>"
    assert fake_dns.a_questions(HOST) == 1
    assert pair.site.requests == [("/fiche", f"{HOST}:{pair.port}")]
    assert pair.trap.requests == []


def test_the_next_fetch_sees_the_new_answer_and_is_refused(fake_dns, pair):
    # given
    fake_dns.answers[HOST] = [["127.0.0.1"], ["127.0.0.2"]]
    url = f"http://{HOST}:{pair.port}/fiche"
    page_fetch(url=url, allowed_networks=ALLOWED, resolver=fake_dns.resolver())
    # when: the name has been re-pointed
    with pytest.raises(BlockedAddressError) as refused:
        page_fetch(url=url, allowed_networks=ALLOWED, resolver=fake_dns.resolver())
    # then
    assert str(refused.value) == f"Adresse non publique refusée pour {HOST} : 127.0.0.2"
    assert fake_dns.a_questions(HOST) == 2
    assert len(pair.site.requests) == 1
    assert pair.trap.requests == []


def test_a_reused_client_checks_every_request_again(fake_dns, pair):
    # given: one worker client for many fetches (connection reuse)
    fake_dns.answers[HOST] = [["127.0.0.1"], ["127.0.0.2"]]
    url = f"http://{HOST}:{pair.port}/fiche"
    with http_client_build() as client:
        page_fetch(url=url, client=client, allowed_networks=ALLOWED, resolver=fake_dns.resolver())
        # when / then
        with pytest.raises(BlockedAddressError):
            page_fetch(
                url=url, client=client, allowed_networks=ALLOWED, resolver=fake_dns.resolver()
            )
    assert pair.trap.requests == []


def test_a_name_with_one_forbidden_record_is_refused_before_any_connection(fake_dns, pair):
    # given
    fake_dns.answers[HOST] = [["127.0.0.1", "127.0.0.2"]]
    # when / then
    with pytest.raises(BlockedAddressError):
        page_fetch(
            url=f"http://{HOST}:{pair.port}/",
            allowed_networks=ALLOWED,
            resolver=fake_dns.resolver(),
        )
    assert pair.site.requests == [] and pair.trap.requests == []


def test_a_guarded_client_following_redirects_checks_each_hop(fake_dns, pair):
    # given: httpx follows the redirect itself; the hop's host resolves to the trap
    fake_dns.answers[HOST] = [["127.0.0.1"]]
    fake_dns.answers["interne.rebind.test"] = [["127.0.0.2"]]
    pair.site.routes["/go"] = (
        302,
        {"Location": f"http://interne.rebind.test:{pair.port}/admin"},
        b"",
    )
    guard = OutboundGuard(allowed_networks=ALLOWED, resolver=fake_dns.resolver())
    # when / then
    with guarded_client(guard=guard, follow_redirects=True) as client:
        with pytest.raises(OutboundRefused) as refused:
            client.get(f"http://{HOST}:{pair.port}/go")
    assert refused.value.reason == "address"
    assert [path for path, _host in pair.site.requests] == ["/go"]
    assert pair.trap.requests == []


# --------------------------------------------------------------------------- redirects


@pytest.fixture
def origin_on_127_0_0_2() -> Iterator[tuple[Seen, Seen, Seen, int]]:
    """An allowed site on 127.0.0.2 (allow-list 127.0.0.2/32), traps on 127.0.0.1 and ::1."""
    for _attempt in range(20):
        origin, trap4, trap6 = Seen(), Seen(), Seen()
        first = _serve("127.0.0.2", 0, origin)
        port = first.server_address[1]
        started = [first]
        try:
            started.append(_serve("127.0.0.1", port, trap4))
            started.append(_serve("::1", port, trap6))
        except OSError:
            for server in started:
                server.shutdown()
                server.server_close()
            continue
        yield origin, trap4, trap6, port
        for server in started:
            server.shutdown()
            server.server_close()
        return
    raise RuntimeError("no port free on 127.0.0.2, 127.0.0.1 and ::1")


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{port}/admin",
        "http://[::1]:{port}/admin",
        "http://[::ffff:127.0.0.1]:{port}/admin",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_a_redirect_from_an_allowed_host_to_an_internal_address_is_refused(
    origin_on_127_0_0_2, location
):
    # given
    origin, trap4, trap6, port = origin_on_127_0_0_2
    origin.routes["/jump"] = (302, {"Location": location.format(port=port)}, b"")
    # when / then
    with pytest.raises(BlockedAddressError) as refused:
        page_fetch(
            url=f"http://127.0.0.2:{port}/jump",
            allowed_networks=(ipaddress.ip_network("127.0.0.2/32"),),
            limits=FetchLimits(connect_s=0.5),
        )
    assert str(refused.value).startswith("Adresse non publique refusée pour ")
    assert [path for path, _host in origin.requests] == ["/jump"]
    assert trap4.requests == [] and trap6.requests == []


# --------------------------------------------------------------------------- TLS


@dataclass
class Pki:
    ca_pem: bytes
    server: ssl.SSLContext


def _pki(tmp_path: Path, names: list[str]) -> Pki:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Egide test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "leaf.pem", tmp_path / "leaf.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return Pki(ca_pem=ca.public_bytes(serialization.Encoding.PEM), server=server)


def _client_tls(pki: Pki) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.load_verify_locations(cadata=pki.ca_pem.decode("ascii"))
    return context


def _tls_pair(tmp_path: Path, names: list[str]) -> Iterator[tuple[Pair, Pki]]:
    pki = _pki(tmp_path, names)
    sni: list[str | None] = []

    def remember(_sock: Any, server_name: str | None, _context: Any) -> None:
        sni.append(server_name)

    pki.server.sni_callback = remember
    for found in _pair(pki.server):
        found.site.sni = sni
        yield found, pki


@pytest.fixture
def tls_pair(tmp_path) -> Iterator[tuple[Pair, Pki]]:
    yield from _tls_pair(tmp_path, [HOST])


@pytest.fixture
def tls_pair_other_name(tmp_path) -> Iterator[tuple[Pair, Pki]]:
    yield from _tls_pair(tmp_path, ["autre.rebind.test"])


def test_https_is_pinned_and_still_verified_for_the_original_hostname(fake_dns, tls_pair):
    # given: a certificate for the hostname only (no IP in it)
    found, pki = tls_pair
    fake_dns.answers[HOST] = [["127.0.0.1"], ["127.0.0.2"]]
    url = f"https://{HOST}:{found.port}/fiche"
    # when
    with http_client_build(verify=_client_tls(pki)) as client:
        page = page_fetch(
            url=url, client=client, allowed_networks=ALLOWED, resolver=fake_dns.resolver()
        )
    # then: SNI and Host name the site, the certificate matched it, the checked address answered
    assert page.html == "<html><body>fiche du praticien</body></html>"
    assert found.site.sni == [HOST]
    assert found.site.requests == [("/fiche", f"{HOST}:{found.port}")]
    assert found.trap.requests == []


def test_https_with_a_certificate_for_another_name_fails(fake_dns, tls_pair_other_name):
    # given: connecting by address must not weaken the name check
    found, pki = tls_pair_other_name
    fake_dns.answers[HOST] = [["127.0.0.1"]]
    # when / then
    with http_client_build(verify=_client_tls(pki)) as client:
        with pytest.raises(UnreachableError) as failed:
            page_fetch(
                url=f"https://{HOST}:{found.port}/fiche",
                client=client,
                allowed_networks=ALLOWED,
                resolver=fake_dns.resolver(),
            )
    assert "CERTIFICATE_VERIFY_FAILED" in str(failed.value)
    assert found.site.requests == []
