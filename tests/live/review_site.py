"""A review platform on loopback for the live stage: the page a doctor complains about.

It listens on 127.0.0.2 (the only address the stage allow-lists for captures and monitoring),
publishes its reviews as schema.org JSON-LD as review platforms do, and can gain a review
between two scans.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.2"
DEFAMATORY = "Ce médecin est un escroc qui facture des actes jamais réalisés."

REVIEWS: list[dict[str, str]] = [
    {
        "author": "Sophie L.",
        "date": "2026-10-02",
        "rating": "5",
        "text": "Médecin attentif et à l'écoute, je recommande.",
    },
    {"author": "Jean D.", "date": "2026-11-20", "rating": "1", "text": DEFAMATORY},
]
NEW_REVIEW = {
    "author": "Karim B.",
    "date": "2026-12-01",
    "rating": "1",
    "text": "Un charlatan qui devrait être radié, fuyez.",
}


def review_page(reviews: list[dict[str, str]]) -> str:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Physician",
        "name": "Dr Claire Martin",
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": f"{sum(int(r['rating']) for r in reviews) / len(reviews):.1f}",
            "bestRating": "5",
            "reviewCount": str(len(reviews)),
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
    items = "".join(
        f"<li class='avis'><strong>{r['author']}</strong> ({r['rating']}/5) : {r['text']}</li>"
        for r in reviews
    )
    return (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
        "<title>Dr Claire Martin — avis patients</title>"
        f"<script type='application/ld+json'>{json.dumps(data, ensure_ascii=False)}</script>"
        "</head><body><h1>Dr Claire Martin, médecin généraliste</h1>"
        f"<ul>{items}</ul></body></html>"
    )


class ReviewSite:
    """Serves ``/avis/dr-claire-martin`` on 127.0.0.2 (a free port) in a thread."""

    path = "/avis/dr-claire-martin"

    def __init__(self) -> None:
        self.reviews = list(REVIEWS)
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path.split("?", 1)[0] != site.path:  # ?page=2: the same page
                    self.send_error(404)
                    return
                body = review_page(site.reviews).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_port}{self.path}"

    def review_add(self, review: dict[str, str]) -> None:
        self.reviews.append(review)

    def __enter__(self) -> ReviewSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
