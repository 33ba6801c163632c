"""A small review platform on loopback so that monitoring shows real data on the first start.

``./egide run`` serves it as the Procfile's ``reviews`` process (development only: the address
is allow-listed for fetch and capture in ``saas.settings.dev``, never in production). It
publishes one page per demo doctor with schema.org ``Review`` markup, as review platforms do,
and its reviews change over time, deterministically:

- version 1 on the first read of a page (the demo seed records it as the monitoring baseline);
- version 2 from the second read on: a new defamatory-looking review, and an older review
  edited by its author to a lower rating (the doctor's first « Lancer la veille » alerts on
  both);
- version 3 once version 2 has been served for ``STEP`` (a day): a new, positive review.

Reads are counted per page in ``<data>/state.json``, so a restart, or the seed's own server
(``demo_reviews_running``) followed by the Procfile's, continues where the last one stopped.
The doctors, their reviews and the listing are data in ``saas.embedded.review_content``;
this module renders them (the markup below) and serves them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import html
import json
import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from django.conf import settings

from saas.embedded.review_content import (
    DOCTORS,
    LISTING_PLATFORM_NAME,
    LISTING_PROFILE,
    LISTINGS,
    PLATFORM_NAME,
    DemoDoctor,
    DemoListing,
    listing_path,
    page_path,
)

DEFAULT_PORT = 12113
PREFERRED_HOST = "127.0.0.2"
FALLBACK_HOST = "127.0.0.1"
STEP = datetime.timedelta(days=1)


# --------------------------------------------------------------------------- versions


def version_next(*, entry: dict[str, Any], now: datetime.datetime) -> tuple[int, dict[str, Any]]:
    """The version the next read of a page shows, and the page's state after that read."""
    reads = int(entry.get("reads", 0))
    since_raw = entry.get("v2_since")
    since = datetime.datetime.fromisoformat(since_raw) if since_raw else None
    if reads == 0:
        version = 1
    elif since is not None and now - since >= STEP:
        version = 3
    else:
        version = 2
        since = since or now
    state = {"reads": reads + 1, "v2_since": since.isoformat() if since else None}
    return version, state


class ReadCounter:
    """Reads per page, kept in a JSON file (written atomically) so restarts continue."""

    def __init__(self, path: Path, *, clock: Callable[[], datetime.datetime] | None = None) -> None:
        self.path = path
        self.clock = clock or (lambda: datetime.datetime.now(datetime.UTC))
        self.lock = threading.Lock()

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def read(self, slug: str) -> int:
        with self.lock:
            data = self._load()
            version, data[slug] = version_next(entry=data.get(slug, {}), now=self.clock())
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
            os.replace(tmp, self.path)
            return version


# --------------------------------------------------------------------------- pages


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}.bandeau{background:#fff4d6;border:1px solid #e0c060;padding:.5rem 1rem;"
    "border-radius:4px}.avis{border-bottom:1px solid #ddd;padding:.75rem 0}"
    ".note{color:#b36b00;font-weight:bold}"
)


# Review ids do not depend on the address the site is served on (EGIDE_DEMO_REVIEWS_PORT may
# change between two runs): the reserved ``.example`` domain names them, it is never fetched.
CANONICAL_BASE = "https://avis-sante.example"


def doctor_page(*, doctor: DemoDoctor, version: int) -> str:
    reviews = doctor.versions[version - 1]
    url = CANONICAL_BASE + page_path(doctor.slug)
    average = sum(r.rating for r in reviews) / len(reviews)
    data = {
        "@context": "https://schema.org",
        "@type": "Physician",
        "@id": f"{url}#medecin",
        "name": doctor.name,
        "medicalSpecialty": doctor.specialty,
        "address": {"@type": "PostalAddress", "addressLocality": doctor.city},
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": f"{average:.1f}",
            "bestRating": "5",
            "reviewCount": str(len(reviews)),
        },
        "review": [
            {
                "@type": "Review",
                "@id": f"{url}#{r.id}",
                "author": {"@type": "Person", "name": r.author},
                "datePublished": r.date,
                "reviewRating": {
                    "@type": "Rating",
                    "ratingValue": str(r.rating),
                    "bestRating": "5",
                },
                "reviewBody": r.text,
            }
            for r in reviews
        ],
    }
    items = "".join(
        f"<article class='avis' id='{_esc(r.id)}'><strong>{_esc(r.author)}</strong>, "
        f"le {_esc(r.date)} — <span class='note'>{r.rating}/5</span><p>{_esc(r.text)}</p>"
        "</article>"
        for r in reviews
    )
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
        f"<title>{_esc(doctor.name)} — avis patients — {_esc(PLATFORM_NAME)}</title>"
        f"<style>{STYLE}</style>"
        f"<script type='application/ld+json'>{payload}</script></head><body>"
        f"<p class='bandeau'>{_esc(PLATFORM_NAME)} : site de démonstration d'Égide, avis "
        "fictifs.</p>"
        f"<h1>{_esc(doctor.name)}</h1><p>{_esc(doctor.specialty)}, {_esc(doctor.city)} — "
        f"note moyenne {average:.1f}/5 sur {len(reviews)} avis</p>{items}</body></html>"
    )


def index_page() -> str:
    links = "".join(
        f"<li><a href='{page_path(d.slug)}'>{_esc(d.name)}</a>, {_esc(d.specialty)}</li>"
        for d in DOCTORS.values()
    ) + "".join(
        f"<li><a href='{listing_path(d.slug)}'>{_esc(d.doctor)}</a> — "
        f"{_esc(LISTING_PLATFORM_NAME)}</li>"
        for d in LISTINGS.values()
    )
    return (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
        f"<title>{_esc(PLATFORM_NAME)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_esc(PLATFORM_NAME)}</h1><p class='bandeau'>Site de démonstration d'Égide : "
        f"les médecins et les avis sont fictifs.</p><ul>{links}</ul></body></html>"
    )


# --------------------------------------------------------------------------- listing pages


def _french_rating(value: float) -> str:
    return f"{value:.1f}".replace(".", ",").removesuffix(",0")


def listing_page(*, listing: DemoListing, number: int) -> str:
    """Page ``number`` (1-based) of the listing's reviews, as PagesJaunes lays them out."""
    every = [r for page in listing.pages for r in page]
    average = sum(r.rating for r in every) / len(every)
    items = "".join(
        f"<li class='avis' data-avis-id='{_esc(r.id)}'>"
        f"<div class='avis-auteur'><span class='nom'>{_esc(r.author)}</span></div>"
        f"<p class='avis-date'>Le {_esc('/'.join(reversed(r.date.split('-'))))}</p>"
        f"<span class='avis-note'>{r.rating}/5</span>"
        f"<p class='avis-commentaire'>{_esc(r.text)}</p>"
        f"<a class='avis-lien' href='{listing_path(listing.slug, number)}#{_esc(r.id)}'>"
        "Lien vers cet avis</a></li>"
        for r in listing.pages[number - 1]
    )
    nav = []
    if number > 1:
        nav.append(
            f"<a class='pagination-precedente' rel='prev' "
            f"href='{listing_path(listing.slug, number - 1)}'>Avis précédents</a>"
        )
    nav.append(f"<span class='page-courante'>{number}</span>")
    if number < len(listing.pages):
        nav.append(
            f"<a class='pagination-suivante' rel='next' "
            f"href='{listing_path(listing.slug, number + 1)}'>Voir plus d'avis</a>"
        )
    return (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
        f"<title>{_esc(listing.doctor)}, {_esc(listing.activity.lower())} — "
        f"{_esc(LISTING_PLATFORM_NAME)}</title><style>{STYLE}</style></head><body>"
        f"<p class='bandeau'>{_esc(LISTING_PLATFORM_NAME)} : site de démonstration d'Égide, "
        "avis fictifs.</p><main class='fiche-pro'>"
        f"<h1 class='denomination'>{_esc(listing.doctor)}</h1>"
        f"<p class='activite'>{_esc(listing.activity)}</p>"
        f"<address>{_esc(listing.address)}</address><section id='avis'><h2>Avis</h2>"
        f"<div class='synthese-avis'><span class='note-globale'>{_french_rating(average)}/5"
        f"</span> <span class='nb-avis'>({len(every)} avis)</span></div>"
        f"<ul class='bloc-avis'>{items}</ul><nav class='pagination'>{' '.join(nav)}</nav>"
        "</section></main></body></html>"
    )


def listing_for_path(path: str) -> tuple[DemoListing, int] | None:
    """The listing and page number a path names, or None."""
    rest = path.removeprefix("/pagesjaunes/pros/") if path.startswith("/pagesjaunes/pros/") else ""
    slug, _, page = rest.partition("/")
    listing = LISTINGS.get(slug)
    if listing is None:
        return None
    if not page:
        return listing, 1
    number = page.removeprefix("page-")
    if page.startswith("page-") and number.isdigit() and 2 <= int(number) <= len(listing.pages):
        return listing, int(number)
    return None


# --------------------------------------------------------------------------- server


class DemoReviewSite:
    """The platform in a thread: ``start()``, ``stop()``; ``url`` is its base address."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        data_dir: Path,
        clock: Callable[[], datetime.datetime] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.counter = ReadCounter(Path(data_dir) / "state.json", clock=clock)
        self.log = log
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0].split("#", 1)[0]
                if path == "/":
                    site._send(self, 200, index_page())
                    return
                if path == "/robots.txt":
                    site._send(self, 200, "User-agent: *\nAllow: /\n", "text/plain")
                    return
                if found := listing_for_path(path):
                    listing, number = found
                    # counted as well, so one can see that a scan read every page
                    site.counter.read(f"{LISTING_PROFILE}/{listing.slug}/{number}")
                    if site.log:
                        site.log(f"{path} : page {number}")
                    site._send(self, 200, listing_page(listing=listing, number=number))
                    return
                slug = path.removeprefix("/avis/") if path.startswith("/avis/") else ""
                doctor = DOCTORS.get(slug)
                if doctor is None:
                    site._send(self, 404, "<!doctype html><p>Page introuvable.</p>")
                    return
                version = site.counter.read(slug)
                if site.log:
                    site.log(f"{path} : version {version}")
                site._send(self, 200, doctor_page(doctor=doctor, version=version))

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, body: str, kind: str = "text/html"
    ) -> None:
        data = body.encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", f"{kind}; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        handler.wfile.write(data)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> DemoReviewSite:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def demo_reviews_host() -> str:
    """127.0.0.2 where it can be bound (Linux routes all of 127/8), else 127.0.0.1 (macOS)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((PREFERRED_HOST, 0))
        except OSError:
            return FALLBACK_HOST
    return PREFERRED_HOST


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/robots.txt", timeout=2):  # noqa: S310 - loopback
            return True
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def demo_reviews_running() -> Iterator[str]:
    """Make sure the demo review site answers while the block runs; yields its base URL ("" when
    this environment has none, as in production).

    Why: ``./egide run`` seeds the demo (and its monitoring baseline) before the Procfile starts
    the ``reviews`` process, so the seed serves the site itself on the same address and data
    directory, then stops it.
    """
    base = getattr(settings, "EGIDE_DEMO_REVIEWS_URL", "")
    if not base or _answers(base):
        yield base
        return
    host, _, port = base.removeprefix("http://").partition(":")
    try:
        site = DemoReviewSite(
            host=host,
            port=int(port or DEFAULT_PORT),
            data_dir=Path(getattr(settings, "EGIDE_DEMO_REVIEWS_DIR", "var/demo-reviews")),
        ).start()
    except OSError:
        yield base  # the page stays unread; the doctor's first scan then sets the baseline
        return
    try:
        yield base
    finally:
        site.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Site d'avis de démonstration (boucle locale).")
    parser.add_argument("--host", default=os.environ.get("EGIDE_DEMO_REVIEWS_HOST") or "")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--data", default="var/demo-reviews")
    args = parser.parse_args(argv)
    host = args.host or demo_reviews_host()
    site = DemoReviewSite(
        host=host, port=args.port, data_dir=Path(args.data), log=lambda t: print(t, flush=True)
    )
    print(f"Site d'avis de démonstration : {site.url}/", flush=True)
    try:
        site.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        site.server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
