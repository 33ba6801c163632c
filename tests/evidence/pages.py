"""A loopback test site for the capture tests: real HTTP servers on 127.0.0.1 and 127.0.0.2.

Each page reproduces one thing real review sites do (lazy loading on scroll, a consent banner
hiding the content, "lire la suite" expanders, redirect chains, slow resources, legacy
encodings). ``127.0.0.2`` plays the internal address the capture must never reach: it records
every hit so that a test can assert it stayed at zero.
"""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

# A valid 1×1 PNG, served by the slow resource and the forbidden host.
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8ffff3f0005fe02fea7d605e60000000049454e44ae426082"
)

REVIEW_COUNT = 30
REVIEW_BATCH = 10

GZIP_PAGE = "<title>Compressée</title><p>Page servie compressée (gzip).</p>"
CP1252_TEXT = "Médecin généraliste – « très à l'écoute » – consultation à 30 € – Œuvre"


def review_text(number: int) -> str:
    return f"Avis n°{number} : consultation du Dr Martin, patient {number}."


LAZY_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Avis chargés au défilement</title>
<style>body{margin:0;font-family:sans-serif} .intro{height:1000px}
.review{height:40px;margin:0}</style></head><body>
<h1>Avis des patients</h1><div class="intro">Faites défiler pour lire les avis.</div>
<div id="reviews"></div><p id="status">Chargement des avis…</p>
<script>
let loaded = 0, busy = false;
async function more() {
  if (busy || loaded >= {total}) return;
  if (window.innerHeight + window.scrollY < document.documentElement.scrollHeight - 200) return;
  busy = true;
  const items = await (await fetch('/api/reviews?offset=' + loaded)).json();
  for (const text of items) {
    const p = document.createElement('p'); p.className = 'review'; p.textContent = text;
    document.getElementById('reviews').appendChild(p);
  }
  loaded += items.length; busy = false;
  if (loaded >= {total}) document.getElementById('status').textContent = 'Fin des avis.';
}
window.addEventListener('scroll', more);
</script></body></html>
""".replace("{total}", str(REVIEW_COUNT))

CONSENT_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Bandeau de consentement</title>
<style>body.pending main{visibility:hidden}
#cookie-banner{position:fixed;inset:0;background:#fff;z-index:10;padding:40px}</style>
</head><body class="pending">
<div id="cookie-banner" role="dialog" aria-label="Gestion des cookies">
<p>Nous utilisons des cookies pour mesurer l'audience. Vous pouvez accepter ou refuser.</p>
<button type="button" id="accept">Tout accepter</button>
<button type="button" id="refuse">Tout refuser</button></div>
<main><h1>Fiche du Dr Martin</h1>
<p>Contenu révélé après le choix des cookies : le Dr Martin reçoit sur rendez-vous.</p></main>
<script>
function choose(value) {
  document.cookie = 'consent=' + value + '; path=/';
  document.getElementById('cookie-banner').remove();
  document.body.classList.remove('pending');
}
document.getElementById('accept').onclick = () => choose('yes');
document.getElementById('refuse').onclick = () => choose('no');
</script></body></html>
"""

EXPANDER_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Avis avec lire la suite</title></head><body>
<article><p>Premier avis : accueil correct.<span class="rest" hidden> Suite cachée du premier
avis : le médecin a pris le temps d'expliquer.</span></p>
<button type="button" class="toggle">Lire la suite</button></article>
<article><p>Deuxième avis : attente longue.<span class="rest" hidden> Suite cachée du deuxième
avis : mais diagnostic juste.</span></p>
<a href="#" class="toggle" role="button">Voir plus</a></article>
<article><p>Troisième avis :
<a href="/autre-page">lire la suite sur une autre page</a></p></article>
<script>
for (const el of document.querySelectorAll('.toggle')) {
  el.addEventListener('click', (event) => {
    event.preventDefault();
    const rest = el.parentElement.querySelector('.rest');
    rest.hidden = !rest.hidden;
    el.textContent = rest.hidden ? 'Lire la suite' : 'Réduire';
  });
}
</script></body></html>
"""

LONG_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Page très longue</title><style>html,body{margin:0;padding:0}</style></head><body>
<div style="height:30000px;position:relative;overflow:hidden">
<p style="margin:0">Début de la page longue.</p>
<p style="position:absolute;bottom:0;margin:0">Fin de la page longue.</p></div></body></html>
"""


@dataclass
class Hit:
    host: str
    path: str
    at: float


@dataclass
class Site:
    """A running test site; ``url(path)`` builds addresses on the allowed host."""

    port: int
    forbidden_port: int
    tls_port: int
    hits: list[Hit] = field(default_factory=list)
    forbidden_hits: list[Hit] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def forbidden_url(self, path: str) -> str:
        return f"http://127.0.0.2:{self.forbidden_port}{path}"

    def tls_url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.tls_port}{path}"


def _html(body: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return 200, [("Content-Type", "text/html; charset=utf-8")], body.encode("utf-8")


def _routes(site: Site) -> dict:
    """Path → handler(query) returning (status, headers, body)."""

    def redirect(status: int, location: str):
        return lambda _q: (status, [("Location", location), ("Content-Length", "0")], b"")

    def reviews(query: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        offset = int(query.get("offset", ["0"])[0])
        stop = min(offset + REVIEW_BATCH, REVIEW_COUNT)
        items = [review_text(n) for n in range(offset + 1, stop + 1)]
        return 200, [("Content-Type", "application/json")], json.dumps(items).encode()

    def slow_png(_q: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        time.sleep(2)
        return 200, [("Content-Type", "image/png")], PIXEL_PNG

    def cp1252(_q: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        body = (
            "<!doctype html><html><head><title>Encodage windows-1252</title></head><body>"
            f"<p>{CP1252_TEXT}</p></body></html>"
        ).encode("cp1252")
        return 200, [("Content-Type", "text/html; charset=windows-1252")], body

    def gzipped(_q: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")]
        return 200, headers, gzip.compress(GZIP_PAGE.encode("utf-8"), mtime=0)

    frame_origin = f"http://localhost:{site.port}"
    return {
        "/lazy": lambda _q: _html(LAZY_PAGE),
        "/api/reviews": reviews,
        "/consent": lambda _q: _html(CONSENT_PAGE),
        "/expander": lambda _q: _html(EXPANDER_PAGE),
        "/autre-page": lambda _q: _html("<p>Autre page</p>"),
        "/long": lambda _q: _html(LONG_PAGE),
        "/redirect-start": redirect(301, "/redirect-middle"),
        "/redirect-middle": redirect(302, "/redirect-end"),
        "/redirect-end": lambda _q: _html(
            "<title>Fin</title><p>Page finale après deux redirections.</p>"
        ),
        "/slow": lambda _q: _html(
            '<title>Lente</title><p>Page avec une image lente.</p><img src="/slow.png">'
        ),
        "/slow.png": slow_png,
        "/missing": lambda _q: (
            404,
            [("Content-Type", "text/html; charset=utf-8")],
            b"<title>Introuvable</title><p>Page introuvable (404).</p>",
        ),
        "/error": lambda _q: (
            500,
            [("Content-Type", "text/html; charset=utf-8")],
            b"<title>Erreur</title><p>Erreur interne du serveur (500).</p>",
        ),
        "/cp1252": cp1252,
        "/iframe": lambda _q: _html(
            "<title>Cadre</title><p>Page qui contient un cadre.</p>"
            f'<iframe src="{frame_origin}/framed" width="600" height="200"></iframe>'
        ),
        "/framed": lambda _q: _html("<p>Contenu du cadre intégré.</p>"),
        "/ssrf-image": lambda _q: _html(
            "<title>Image interne</title><p>Page publique avec une image interne.</p>"
            f'<img src="{site.forbidden_url("/pixel.png")}">'
        ),
        "/ssrf-redirect": redirect(302, site.forbidden_url("/secret")),
        "/gzip": gzipped,
        "/tls": lambda _q: _html("<p>Page servie en HTTPS.</p>"),
    }


def _handler(site: Site, hits: list[Hit], routes: dict | None):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 — http.server's naming
            parts = urlsplit(self.path)
            hits.append(Hit(self.headers.get("Host", ""), self.path, time.time()))
            if routes is None:
                status, headers, body = 200, [("Content-Type", "image/png")], PIXEL_PNG
            else:
                route = routes.get(parts.path)
                if route is None:
                    status, headers, body = 404, [("Content-Type", "text/plain")], b"absent"
                else:
                    status, headers, body = route(parse_qs(parts.query))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if not any(name == "Content-Length" for name, _ in headers):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Handler


def _self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1, unknown to the browser (a TLS error page)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(tz=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _serve(server: ThreadingHTTPServer) -> threading.Thread:
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    return thread


@pytest.fixture(scope="module", name="site")
def site_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The test site on 127.0.0.1 (allowed), 127.0.0.2 (forbidden) and HTTPS on 127.0.0.1."""
    main = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    forbidden = ThreadingHTTPServer(("127.0.0.2", 0), BaseHTTPRequestHandler)
    tls = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Site(
        port=main.server_address[1],
        forbidden_port=forbidden.server_address[1],
        tls_port=tls.server_address[1],
    )
    routes = _routes(state)
    main.RequestHandlerClass = _handler(state, state.hits, routes)
    forbidden.RequestHandlerClass = _handler(state, state.forbidden_hits, None)
    tls.RequestHandlerClass = _handler(state, state.hits, routes)
    cert, key = _self_signed_cert(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    tls.socket = context.wrap_socket(tls.socket, server_side=True)
    servers = [main, forbidden, tls]
    for server in servers:
        _serve(server)
    yield state
    for server in servers:
        server.shutdown()
        server.server_close()


# --- Local stand-ins for the external services the pre-checks ask (real protocols) ----------

NTP_FAKE_OFFSET_S = 2.5
ECHO_IP = "203.0.113.7"


def _udp_serve(handler) -> tuple[socket.socket, threading.Thread, threading.Event]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                packet, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = handler(packet)
            if reply:
                sock.sendto(reply, peer)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return sock, thread, stop


def ntp_reply(packet: bytes, *, offset_s: float = NTP_FAKE_OFFSET_S, stratum: int = 2) -> bytes:
    """An SNTP server reply whose clock runs ``offset_s`` ahead of the client's request time."""
    seconds, fraction = struct.unpack("!II", packet[40:48])
    client_time = seconds - 2_208_988_800 + fraction / 2**32
    server_time = client_time + offset_s
    stamp = struct.pack(
        "!II",
        int(server_time) + 2_208_988_800,
        int((server_time - int(server_time)) * 2**32) & 0xFFFFFFFF,
    )
    # LI=0 VN=4 mode=4 (server), stratum, poll, precision; root delay/dispersion; ref id;
    # then reference, originate (the client's transmit time), receive, transmit timestamps.
    header = bytes([(0 << 6) | (4 << 3) | 4, stratum, 6, 0xEC]) + bytes(8) + b"LOCL"
    return header + stamp + packet[40:48] + stamp + stamp


def dns_reply(packet: bytes, records: dict[str, list[str]]) -> bytes:
    """A DNS answer (A/AAAA) for ``records``; NXDOMAIN for unknown names."""
    query_id, _flags = struct.unpack("!HH", packet[:4])
    offset, labels = 12, []
    while packet[offset]:
        length = packet[offset]
        labels.append(packet[offset + 1 : offset + 1 + length].decode())
        offset += 1 + length
    qtype = struct.unpack("!H", packet[offset + 1 : offset + 3])[0]
    question = packet[12 : offset + 5]
    name = ".".join(labels)
    if name not in records:
        return struct.pack("!HHHHHH", query_id, 0x8183, 1, 0, 0, 0) + question
    answers = b""
    count = 0
    for ip in records[name]:
        addr = ipaddress.ip_address(ip)
        if (qtype == 1 and addr.version == 4) or (qtype == 28 and addr.version == 6):
            answers += struct.pack("!HHHIH", 0xC00C, qtype, 1, 60, len(addr.packed)) + addr.packed
            count += 1
    return struct.pack("!HHHHHH", query_id, 0x8180, 1, count, 0, 0) + question + answers


@dataclass
class Services:
    ntp_port: int
    dns_port: int
    echo_url: str
    echo_json_url: str
    echo_garbage_url: str
    echo_error_url: str
    closed_port: int


DNS_RECORDS: dict[str, list[str]] = {
    "avis.example": ["127.0.0.1"],
    "double.example": ["127.0.0.1", "10.0.0.8"],
    "v6.example": ["::1"],
    "metadata.example": ["169.254.169.254"],
}


def _closed_port() -> int:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture(scope="module", name="services")
def services_fixture() -> Iterator[Services]:
    """Fake NTP and DNS servers (UDP) and an IP echo service (HTTP), all on 127.0.0.1."""
    ntp_sock, _ntp_thread, ntp_stop = _udp_serve(ntp_reply)
    dns_sock, _dns_thread, dns_stop = _udp_serve(lambda packet: dns_reply(packet, DNS_RECORDS))
    bodies = {
        "/ip": (200, f"{ECHO_IP}\n".encode()),
        "/json": (200, json.dumps({"ip": ECHO_IP}).encode()),
        "/garbage": (200, b"<html>pas une adresse</html>"),
        "/error": (503, b"indisponible"),
    }

    class Echo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            status, body = bodies.get(self.path, (404, b""))
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    echo = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    _serve(echo)
    base = f"http://127.0.0.1:{echo.server_address[1]}"
    yield Services(
        ntp_port=ntp_sock.getsockname()[1],
        dns_port=dns_sock.getsockname()[1],
        echo_url=f"{base}/ip",
        echo_json_url=f"{base}/json",
        echo_garbage_url=f"{base}/garbage",
        echo_error_url=f"{base}/error",
        closed_port=_closed_port(),
    )
    ntp_stop.set()
    dns_stop.set()
    echo.shutdown()
    echo.server_close()
    ntp_sock.close()
    dns_sock.close()
