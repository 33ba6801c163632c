"""Local fakes for the monitoring engine: a review platform and a search API.

Both are real HTTP servers on 127.0.0.1 (http.server in a thread) that speak the protocols the
code talks to in production: HTML pages with schema.org markup or none, and the Google Custom
Search JSON API / Brave Web Search API request and response formats. Nothing leaves loopback.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.cleanup.dns import FakeDns, fake_dns_serve

LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)


# --------------------------------------------------------------------------- review platform


@dataclass
class FakePage:
    body: bytes
    content_type: str | None = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    send_length: bool = True


class FakeSite:
    """Pages in memory, keyed by path (with query string). Tests replace pages between two
    scans to simulate a platform that changes."""

    def __init__(self) -> None:
        self.pages: dict[str, FakePage] = {}
        self.requests: list[str] = []
        self.base_url = ""

    def put(self, path: str, body: bytes | str, **kwargs: Any) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.pages[path] = FakePage(body=data, **kwargs)
        return self.url(path)

    def url(self, path: str) -> str:
        return self.base_url + path


def _site_handler(site: FakeSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_GET(self) -> None:  # noqa: N802
            site.requests.append(self.path)
            page = site.pages.get(self.path)
            if page is None:
                page = FakePage(b"<html><body>introuvable</body></html>", status=404)
            if page.delay_s:
                time.sleep(page.delay_s)
            self.send_response(page.status)
            if page.content_type:
                self.send_header("Content-Type", page.content_type)
            for name, value in page.headers.items():
                self.send_header(name, value)
            if page.send_length:
                self.send_header("Content-Length", str(len(page.body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(page.body)

    return Handler


# --------------------------------------------------------------------------- search API


GOOGLE_KEY = "AIzaTEST-google-key-0123456789"
GOOGLE_CX = "0123456789abcdef:egide"
BRAVE_TOKEN = "BSA-test-token-9876543210"


@dataclass
class FakeSearchApi:
    """Results per query as (url, title, snippet); `fail_next` makes the next requests answer
    with a given (status, json body) to exercise error handling."""

    results: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[tuple[int, Any]] = field(default_factory=list)
    base_url: str = ""


def google_error(status: int, message: str, reason: str, status_name: str, info: str = "") -> Any:
    body: dict[str, Any] = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": status_name,
        }
    }
    if info:
        body["error"]["details"] = [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": info}
        ]
    return body


def brave_error(status: int, code: str, detail: str) -> Any:
    return {
        "type": "ErrorResponse",
        "error": {"id": "e-1", "status": status, "code": code, "detail": detail, "meta": {}},
        "time": 1700000000,
    }


def _api_handler(api: FakeSearchApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def _json(self, status: int, body: Any) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            api.requests.append(
                {"path": parts.path, "params": params, "headers": dict(self.headers.items())}
            )
            if api.fail_next:
                self._json(*api.fail_next.pop(0))
                return
            if parts.path == "/customsearch/v1":
                self._google(params)
            elif parts.path == "/res/v1/web/search":
                self._brave(params)
            else:
                self._json(404, {"error": "not found"})

        def _google(self, params: dict[str, str]) -> None:
            if params.get("key") != GOOGLE_KEY:
                self._json(
                    400,
                    google_error(
                        400,
                        "API key not valid. Please pass a valid API key.",
                        "badRequest",
                        "INVALID_ARGUMENT",
                        "API_KEY_INVALID",
                    ),
                )
                return
            if params.get("cx") != GOOGLE_CX:
                self._json(
                    400, google_error(400, "Request contains an invalid argument.", "invalid", "")
                )
                return
            num, start = int(params.get("num", "10")), int(params.get("start", "1"))
            if not 1 <= num <= 10 or start + num > 101:
                self._json(
                    400, google_error(400, "Request contains an invalid argument.", "invalid", "")
                )
                return
            rows = api.results.get(params["q"], [])
            page = rows[start - 1 : start - 1 + num]
            body: dict[str, Any] = {
                "kind": "customsearch#search",
                "searchInformation": {"totalResults": str(len(rows))},
            }
            if page:
                body["items"] = [
                    {
                        "kind": "customsearch#result",
                        "title": t,
                        "link": u,
                        "displayLink": urlsplit(u).hostname,
                        "snippet": s,
                    }
                    for u, t, s in page
                ]
            self._json(200, body)

        def _brave(self, params: dict[str, str]) -> None:
            if self.headers.get("X-Subscription-Token") != BRAVE_TOKEN:
                self._json(
                    422,
                    brave_error(
                        422,
                        "SUBSCRIPTION_TOKEN_INVALID",
                        "The provided subscription token is invalid.",
                    ),
                )
                return
            count, offset = int(params.get("count", "20")), int(params.get("offset", "0"))
            rows = api.results.get(params["q"], [])
            page = rows[offset * count : offset * count + count]
            self._json(
                200,
                {
                    "type": "search",
                    "query": {
                        "original": params["q"],
                        "more_results_available": len(rows) > (offset + 1) * count,
                    },
                    "web": {
                        "type": "search",
                        "results": [
                            {"title": t, "url": u, "description": s, "family_friendly": True}
                            for u, t, s in page
                        ],
                    },
                },
            )

    return Handler


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def _site_server() -> Iterator[tuple[FakeSite, str]]:
    site = FakeSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _site_handler(site))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def review_site(_site_server: tuple[FakeSite, str]) -> FakeSite:
    site, base = _site_server
    site.pages.clear()
    site.requests.clear()
    site.base_url = base
    return site


@pytest.fixture(scope="session")
def _api_server() -> Iterator[tuple[FakeSearchApi, str]]:
    api = FakeSearchApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _api_handler(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield api, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def search_api(_api_server: tuple[FakeSearchApi, str]) -> FakeSearchApi:
    api, base = _api_server
    api.results.clear()
    api.requests.clear()
    api.fail_next.clear()
    api.base_url = base
    return api


# --------------------------------------------------------------------------- page builders


def jsonld_page(*, reviews: list[dict[str, Any]], rating: str, count: int) -> str:
    """A doctor's page on a platform that publishes JSON-LD (reviews without @id)."""
    data = {
        "@context": "https://schema.org",
        "@type": "Physician",
        "name": "Dr Claire Martin",
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": rating,
            "bestRating": "5",
            "reviewCount": str(count),
        },
        "review": [
            {
                "@type": "Review",
                "author": {"@type": "Person", "name": r["author"]},
                "datePublished": r["date"],
                "reviewRating": {"@type": "Rating", "ratingValue": r["rating"], "bestRating": "5"},
                "reviewBody": r["text"],
            }
            for r in reviews
        ],
    }
    items = "".join(f"<li>{r['author']} : {r['text']}</li>" for r in reviews)
    return (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Dr Claire Martin"
        f"</title><script type='application/ld+json'>{json.dumps(data, ensure_ascii=False)}"
        f"</script></head><body><h1>Dr Claire Martin</h1><ul>{items}</ul></body></html>"
    )


SCAN1_REVIEWS = [
    {
        "author": "Sophie L.",
        "date": "2024-03-02",
        "rating": "5",
        "text": "Médecin attentif et à l'écoute, je recommande.",
    },
    {
        "author": "Marc D.",
        "date": "2024-04-10",
        "rating": "1",
        "text": "Attente de deux heures, consultation bâclée.",
    },
    {
        "author": "Julie P.",
        "date": "2024-05-20",
        "rating": "2",
        "text": "Secrétariat injoignable au téléphone.",
    },
]
SCAN2_REVIEWS = [
    SCAN1_REVIEWS[0],
    {
        "author": "Marc D.",
        "date": "2024-04-10",
        "rating": "1",
        "text": "Attente de deux heures, consultation bâclée. Ce médecin est un escroc.",
    },
    {
        "author": "Karim B.",
        "date": "2024-06-01",
        "rating": "1",
        "text": "Un vrai charlatan, il m’a charcuté et mérite d'être radié.",
    },
]

MICRODATA_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"></head><body>
<div itemscope itemtype="https://schema.org/Physician">
  <h1 itemprop="name">Dr Paul Bernard</h1>
  <div itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating">
    Note <span itemprop="ratingValue">7,5</span>/<span itemprop="bestRating">10</span>
    sur <span itemprop="reviewCount">2</span> avis</div>
  <div itemprop="review" itemscope itemtype="https://schema.org/Review" itemid="#avis-101">
    <span itemprop="author">Nadia R.</span>
    <meta itemprop="datePublished" content="2024-02-14T09:30:00+01:00">
    <div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
      <span itemprop="ratingValue">9</span><meta itemprop="bestRating" content="10"></div>
    <p itemprop="reviewBody">Très bon suivi, explications claires.</p>
  </div>
  <div itemprop="review" itemscope itemtype="https://schema.org/Review" itemid="#avis-102">
    <span itemprop="author">Luc T.</span>
    <meta itemprop="datePublished" content="2024-03-01">
    <div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
      <span itemprop="ratingValue">6</span><meta itemprop="bestRating" content="10"></div>
    <p itemprop="reviewBody">Correct, mais retard important.</p>
  </div>
</div></body></html>"""

RDFA_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"></head>
<body vocab="https://schema.org/">
<div typeof="Physician" resource="#medecin">
  <h1 property="name">Dr Anne Leroy</h1>
  <div property="aggregateRating" typeof="AggregateRating">
    <span property="ratingValue">4.5</span> / 5 — <span property="reviewCount">2</span> avis</div>
  <div property="review" typeof="Review" resource="#r-7">
    <span property="author" typeof="Person"><span property="name">Hélène V.</span></span>
    <span property="datePublished" content="2024-01-08">8 janvier 2024</span>
    <div property="reviewRating" typeof="Rating"><meta property="ratingValue" content="5">
      <meta property="bestRating" content="5"></div>
    <p property="reviewBody">Disponible et rassurante.</p>
  </div>
  <div property="review" typeof="Review" resource="#r-8">
    <span property="author" typeof="Person"><span property="name">Omar K.</span></span>
    <span property="datePublished">3 février 2024</span>
    <div property="reviewRating" typeof="Rating"><meta property="ratingValue" content="4">
      <meta property="bestRating" content="5"></div>
    <p property="reviewBody">Bon accueil.</p>
  </div>
</div></body></html>"""


def demo_page(
    *, reviews: list[dict[str, Any]], rating: str, count: int, extra: str = "", charset: str = ""
) -> str:
    """A page of the demo platform without any schema.org markup (CSS profile `demo-avis`)."""
    head = f'<meta charset="{charset}">' if charset else ""
    blocks = "".join(
        f'<article class="avis" data-avis-id="{r["id"]}"><span class="avis-auteur">{r["author"]}'
        f'</span><span class="avis-date" data-date="{r["date"]}">{r["date"]}</span>'
        + (
            f'<span class="avis-experience" data-date="{r["experience"]}">'
            f"Consultation du {r['experience']}</span>"
            if r.get("experience")
            else ""
        )
        + f'<span class="avis-note" data-note="{r["rating"]}">{r["rating"]}/5</span>'
        f'<p class="avis-texte">{r["text"]}</p></article>'
        for r in reviews
    )
    return (
        f"<!doctype html><html lang='fr'><head>{head}<title>Avis</title></head><body>"
        f"<div class='note-moyenne' data-note='{rating}'>{rating}</div>"
        f"<span class='nombre-avis' data-nombre='{count}'>{count} avis</span>"
        f"{blocks}{extra}</body></html>"
    )


LATIN1_REVIEWS = [
    {
        "id": "a1",
        "author": "Agnès F.",
        "date": "2024-02-01",
        "rating": "1",
        "text": "Très déçue, médecin désagréable et pressé.",
    },
    {
        "id": "a2",
        "author": "Rémi G.",
        "date": "2024-02-03",
        "rating": "4",
        "text": "Ponctuel, cabinet agréable.",
    },
]

JS_SHELL_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Avis</title>
</head><body><div id="app"></div>
<noscript>Activez JavaScript pour voir les avis.</noscript>
<script src="/app.js"></script></body></html>"""

JS_APP = """
document.getElementById('app').innerHTML =
  '<div class="note-moyenne" data-note="2">2</div>' +
  '<span class="nombre-avis" data-nombre="1">1 avis</span>' +
  '<article class="avis" data-avis-id="js-1"><span class="avis-auteur">Zoé M.</span>' +
  '<span class="avis-date" data-date="2024-07-07">7 juillet 2024</span>' +
  '<span class="avis-note" data-note="2">2/5</span>' +
  '<p class="avis-texte">Rendez-vous annulé sans prévenir.</p></article>';
"""


@pytest.fixture
def fake_dns() -> Iterator[FakeDns]:
    """A real DNS server on loopback whose answers the test scripts (see tests.cleanup.dns)."""
    yield from fake_dns_serve()
