"""A loopback review page whose reviews change between two captures (edited, removed, added).

A real HTTP server on 127.0.0.1; ``ReviewSite.publish`` swaps the reviews it serves, as a review
site does when an author edits or withdraws a review after a claim is opened.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

INSULT_REVIEW = "Jean D. : Le Dr Martin est un escroc."
INSULT_EDITED = "Jean D. : Le Dr Martin est un médecin peu aimable."
DEFAMATORY_REVIEW = "Marie P. : Il m'a facturé des actes jamais réalisés."
WAITING_REVIEW = "Luc R. : Attente interminable au cabinet."
NEW_REVIEW = "Sophie T. : Très bon accueil, je recommande."

BEFORE = (INSULT_REVIEW, DEFAMATORY_REVIEW, WAITING_REVIEW)
AFTER = (INSULT_EDITED, WAITING_REVIEW, NEW_REVIEW)


def review_page(reviews: Sequence[str]) -> bytes:
    items = "".join(f'<p class="review">{html.escape(r)}</p>' for r in reviews)
    return (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
        "<title>Avis sur le Dr Martin</title></head><body>"
        f"<h1>Avis sur le Dr Martin</h1>{items}</body></html>"
    ).encode()


@dataclass
class ReviewSite:
    port: int
    reviews: list[str] = field(default_factory=lambda: list(BEFORE))

    def url(self, path: str = "/avis/dr-martin") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def publish(self, reviews: Sequence[str]) -> None:
        self.reviews = list(reviews)


def review_site_start() -> tuple[ReviewSite, ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    site = ReviewSite(port=server.server_address[1])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 — http.server's name
            if self.path.split("?", 1)[0] != "/avis/dr-martin":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = review_page(site.reviews)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server.RequestHandlerClass = Handler
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    ).start()
    return site, server


@pytest.fixture(name="review_site")
def review_site_fixture() -> Iterator[ReviewSite]:
    site, server = review_site_start()
    yield site
    server.shutdown()
    server.server_close()
