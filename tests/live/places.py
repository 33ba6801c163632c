"""A Places API (New) server on loopback for the live stage: what Google answers to
``places:searchText`` and ``places/{id}``, in the shapes of Google's published documentation.

It listens on 127.0.0.2 (the address the stage allow-lists for outbound requests) and answers
only with the right ``X-Goog-Api-Key`` and an ``X-Goog-FieldMask``, as Google does. The place's
reviews grow by one after the first read, so a second read has something new.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.2"
API_KEY = "AIzaSyLiveStageCleFactice0123456789ab"  # not a real key
PLACE_ID = "ChIJLiveStageDrMartinLyon0001"
PLACE_URI = f"https://maps.google.com/?cid=42&place_id={PLACE_ID}"


def _review(rid: str, *, rating: int, text: str, author: str, when: str) -> dict[str, Any]:
    return {
        "name": f"places/{PLACE_ID}/reviews/{rid}",
        "relativePublishTimeDescription": when,
        "rating": rating,
        "text": {"text": text, "languageCode": "fr"},
        "originalText": {"text": text, "languageCode": "fr"},
        "authorAttribution": {
            "displayName": author,
            "uri": f"https://www.google.com/maps/contrib/{rid}",
            "photoUri": "",
        },
        "publishTime": "2026-11-28T09:30:00Z",
        "flagContentUri": "https://www.google.com/local/review/rap/report?postId=live",
        "googleMapsUri": f"https://www.google.com/maps/reviews/{rid}",
    }


REVIEWS = [
    _review(
        "LiveR1",
        rating=5,
        text="Très à l'écoute, explications claires.",
        author="Anne D.",
        when="il y a 3 semaines",
    ),  # fmt: skip
    _review(
        "LiveR2", rating=4, text="Ponctuel et attentif.", author="Paul L.", when="il y a 2 semaines"
    ),  # fmt: skip
]
NEW_REVIEW = _review("LiveR3", rating=1, text="Médecin incompétent, à fuir absolument.",
                     author="Yves B.", when="il y a 1 jour")  # fmt: skip
NAME = {"text": "Cabinet du Dr Claire Martin", "languageCode": "fr"}
ADDRESS = "12 Rue des Lilas, 69003 Lyon, France"


class PlacesApi:
    """``base_url`` goes to ``EGIDE_PLACES_ENDPOINT``; ``requests`` counts what was asked."""

    def __init__(self) -> None:
        self.reads = 0
        self.requests: list[tuple[str, str]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                api.requests.append((self.command, path))
                status, data = api.answer(
                    self.command, path, self.headers.get("X-Goog-Api-Key"),
                    self.headers.get("X-Goog-FieldMask"),
                )  # fmt: skip
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = _answer  # noqa: N815
            do_POST = _answer  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.server.server_port}"

    def answer(
        self, method: str, path: str, key: str | None, mask: str | None
    ) -> tuple[int, dict[str, Any]]:
        if key != API_KEY:
            return 403, {"error": {"code": 403, "status": "PERMISSION_DENIED",
                                   "message": "API key not valid."}}  # fmt: skip
        if not mask:
            return 400, {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                   "message": "FieldMask is a required parameter"}}  # fmt: skip
        place = {"id": PLACE_ID, "displayName": NAME, "formattedAddress": ADDRESS,
                 "googleMapsUri": PLACE_URI}  # fmt: skip
        if method == "POST" and path == "/v1/places:searchText":
            return 200, {"places": [{**place, "rating": 4.5, "userRatingCount": 2}]}
        if method == "GET" and path == f"/v1/places/{PLACE_ID}":
            if "reviews" not in mask:  # the pick: identity only
                return 200, place
            self.reads += 1
            reviews = REVIEWS if self.reads == 1 else [NEW_REVIEW, *REVIEWS]
            rating = 4.5 if self.reads == 1 else round(sum(r["rating"] for r in reviews) / 3, 1)
            return 200, {**place, "rating": rating, "userRatingCount": len(reviews),
                         "reviews": reviews}  # fmt: skip
        return 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "Not found"}}

    def __enter__(self) -> PlacesApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
