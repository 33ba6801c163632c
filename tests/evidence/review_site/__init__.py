"""A test site of review pages built like real platforms, CMS themes and consent managers.

Each page (``pages/*.html``, our own markup, no third-party asset) hides one marker sentence
that appears only after the right interaction: answering a consent banner (in the page, in a
same- or cross-origin iframe, in a shadow root), clicking « Voir plus d'avis » again and again,
opening the « Avis (7) » tab, « lire la suite », or scrolling an ``IntersectionObserver``
sentinel into view. The markers live only in this module: the server hands them out through
``/api/reviews`` and ``/api/marker``, so they are never in a page's HTML as served.

Two loopback servers serve the same files: 127.0.0.1 (the pages) and 127.0.0.3 (a second
origin, for cross-origin iframes). ``{{XORIGIN}}`` in a file becomes the second origin's URL.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

PAGES_DIR = Path(__file__).parent / "pages"
MAIN_HOST = "127.0.0.1"
CROSS_HOST = "127.0.0.3"


@dataclass(frozen=True)
class ReviewPage:
    """One page of the site and what its capture must show."""

    id: str
    file: str
    marker: str
    batches: int = 1
    # Consent banner expected in actions.jsonl: manager name (or « bouton générique ») and the
    # choices made, in order; None when the page has no banner.
    cmp: str | None = None
    choices: tuple[str, ...] = ()
    consent_in_frame: bool = False
    consent_in_shadow: bool = False


GENERIC = "bouton générique"

PAGES: tuple[ReviewPage, ...] = (
    ReviewPage(
        "p01",
        "p01-didomi.html",
        "Repère P01 : le Dr Lemoine rappelle toujours ses patients le lendemain.",
        cmp="Didomi",
        choices=("refuse",),
    ),
    ReviewPage(
        "p02",
        "p02-onetrust.html",
        "Repère P02 : la secrétaire a trouvé un créneau le jour même.",
        cmp="OneTrust",
        choices=("refuse",),
    ),
    ReviewPage(
        "p03",
        "p03-axeptio-shadow.html",
        "Repère P03 : le cabinet est accessible en fauteuil roulant.",
        cmp="Axeptio",
        choices=("refuse",),
        consent_in_shadow=True,
    ),
    ReviewPage(
        "p04",
        "p04-usercentrics-shadow.html",
        "Repère P04 : les explications sur le traitement étaient claires.",
        cmp="Usercentrics",
        choices=("refuse",),
        consent_in_shadow=True,
    ),
    ReviewPage(
        "p05",
        "p05-cmp-iframe-cross-origin.html",
        "Repère P05 : l'attente n'a pas dépassé dix minutes.",
        cmp="Sourcepoint",
        choices=("refuse",),
        consent_in_frame=True,
    ),
    ReviewPage(
        "p06",
        "p06-tarteaucitron.html",
        "Repère P06 : le parking devant le cabinet est gratuit.",
        cmp="tarteaucitron",
        choices=("refuse",),
    ),
    ReviewPage(
        "p07",
        "p07-generic-text-accept.html",
        "Repère P07 : la salle d'attente est lumineuse et calme.",
        cmp=GENERIC,
        choices=("accept",),
    ),
    ReviewPage(
        "p08",
        "p08-refuse-only.html",
        "Repère P08 : le docteur a pris le temps d'écouter mon fils.",
        cmp=GENERIC,
        choices=("refuse",),
    ),
    ReviewPage(
        "p09",
        "p09-consent-iframe-same-origin.html",
        "Repère P09 : l'ordonnance a été envoyée par messagerie sécurisée.",
        cmp=GENERIC,
        choices=("accept",),
        consent_in_frame=True,
    ),
    ReviewPage(
        "p10",
        "p10-widget-shadow-load-more.html",
        "Repère P10 : la téléconsultation s'est déroulée sans coupure.",
        batches=3,
    ),
    ReviewPage(
        "p11",
        "p11-io-infinite-scroll.html",
        "Repère P11 : le kinésithérapeute conseillé était excellent.",
        batches=4,
    ),
    ReviewPage(
        "p12",
        "p12-voir-plus-then-infinite.html",
        "Repère P12 : les résultats d'analyse ont été commentés en détail.",
        batches=4,
    ),
    ReviewPage(
        "p13",
        "p13-avis-suivants-link.html",
        "Repère P13 : le vaccin a été fait sans douleur pour ma fille.",
        batches=3,
    ),
    ReviewPage(
        "p14",
        "p14-avis-tab.html",
        "Repère P14 : la consultation a commencé exactement à l'heure.",
    ),
    ReviewPage(
        "p15",
        "p15-ellipsis-plus-span.html",
        "Repère P15 : le suivi de grossesse a été rassurant du début à la fin.",
    ),
    ReviewPage(
        "p16",
        "p16-voir-la-suite-role-button.html",
        "Repère P16 : le certificat pour le club de sport a été rédigé sur place.",
    ),
    ReviewPage(
        "p17",
        "p17-widget-iframe-cross-origin.html",
        "Repère P17 : l'accueil téléphonique est aimable et efficace.",
        batches=3,
    ),
    ReviewPage(
        "p18",
        "p18-iframe-inner-scroll.html",
        "Repère P18 : le médecin remplaçant connaissait bien mon dossier.",
        batches=3,
    ),
    ReviewPage(
        "p19",
        "p19-afficher-plus-delayed.html",
        "Repère P19 : la douleur au dos a disparu après deux séances.",
        batches=3,
    ),
    ReviewPage(
        "p20",
        "p20-reviews-tab-show-more.html",
        "Repère P20 : the doctor speaks excellent English with foreign patients.",
        batches=3,
    ),
    ReviewPage(
        "p21",
        "p21-cookie-wall.html",
        "Repère P21 : le rendez-vous en ligne a été confirmé par SMS.",
        cmp=GENERIC,
        choices=("refuse", "accept"),
    ),
    ReviewPage(
        "p22",
        "p22-sirdata-voir-tous.html",
        "Repère P22 : le tiers payant a été appliqué sans difficulté.",
        batches=2,
        cmp="Sirdata",
        choices=("accept",),
    ),
    ReviewPage(
        "p23",
        "p23-cookiebot-lire-la-suite.html",
        "Repère P23 : la dermatologue a retiré le grain de beauté en vingt minutes.",
        cmp="Cookiebot",
        choices=("refuse",),
    ),
)
PAGES_BY_ID = {page.id: page for page in PAGES}
# A page whose « Afficher les avis suivants » is a plain link to another address, with no script:
# clicking it would leave the page asked for, so the capture must cancel that navigation.
PLAIN_LINK_PAGE = "x01-lien-sans-script.html"

REVIEWERS = ("Claire", "Mehdi", "Sophie", "Julien", "Nadia", "Paul", "Inès", "Louis", "Aïcha")
OPINIONS = (
    "accueil chaleureux et ponctuel",
    "un peu d'attente mais consultation sérieuse",
    "médecin à l'écoute, explications précises",
    "cabinet propre, secrétariat joignable",
    "diagnostic rapide et juste",
)


def review_items(page_id: str, batch: int, size: int) -> list[str]:
    """Reviews of one batch; the last batch ends with the page's marker."""
    items = [
        f"{REVIEWERS[(batch * size + n) % len(REVIEWERS)]} ({page_id}, lot {batch}) : "
        f"{OPINIONS[(batch + n) % len(OPINIONS)]}."
        for n in range(size)
    ]
    if batch >= PAGES_BY_ID[page_id].batches:
        items[-1] = PAGES_BY_ID[page_id].marker
    return items


@dataclass
class ReviewSite:
    port: int
    cross_port: int
    hits: list[str] = field(default_factory=list)

    def url(self, page: ReviewPage | str) -> str:
        file = page.file if isinstance(page, ReviewPage) else page
        return f"http://{MAIN_HOST}:{self.port}/{file}"

    @property
    def cross_origin(self) -> str:
        return f"http://{CROSS_HOST}:{self.cross_port}"


def _handler(site: ReviewSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 — http.server's naming
            site.hits.append(self.path)
            parts = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(parts.query).items()}
            delay_ms = min(int(query.get("delay", "0") or 0), 3000)
            if parts.path in ("/api/reviews", "/api/marker"):
                page_id = query.get("id", "")
                if page_id not in PAGES_BY_ID:
                    self._send(404, "application/json", b'{"error": "page inconnue"}')
                    return
                time.sleep(delay_ms / 1000)  # the server is slow, as real ones are
                if parts.path == "/api/marker":
                    data: dict = {"text": PAGES_BY_ID[page_id].marker}
                else:
                    batch = max(1, int(query.get("page", "1")))
                    size = max(1, min(int(query.get("n", "4")), 20))
                    data = {
                        "items": review_items(page_id, batch, size),
                        "more": batch < PAGES_BY_ID[page_id].batches,
                    }
                body = json.dumps(data, ensure_ascii=False).encode()
                self._send(200, "application/json; charset=utf-8", body)
                return
            target = (PAGES_DIR / parts.path.lstrip("/")).resolve()
            if not target.is_file() or PAGES_DIR.resolve() not in target.parents:
                self._send(404, "text/plain; charset=utf-8", b"Page introuvable")
                return
            body = target.read_bytes()
            if target.suffix == ".html":
                body = body.replace(b"{{XORIGIN}}", site.cross_origin.encode())
                kind = "text/html; charset=utf-8"
            elif target.suffix == ".js":
                kind = "text/javascript; charset=utf-8"
            else:
                kind = "text/css; charset=utf-8"
            self._send(200, kind, body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Handler


def review_site_start() -> tuple[ReviewSite, list[ThreadingHTTPServer]]:
    main = ThreadingHTTPServer((MAIN_HOST, 0), BaseHTTPRequestHandler)
    cross = ThreadingHTTPServer((CROSS_HOST, 0), BaseHTTPRequestHandler)
    site = ReviewSite(port=main.server_address[1], cross_port=cross.server_address[1])
    for server in (main, cross):
        server.RequestHandlerClass = _handler(site)
        server.daemon_threads = True
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        ).start()
    return site, [main, cross]


@pytest.fixture(scope="module", name="review_site")
def review_site_fixture() -> Iterator[ReviewSite]:
    site, servers = review_site_start()
    yield site
    for server in servers:
        server.shutdown()
        server.server_close()
