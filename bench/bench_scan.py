"""Benchmark of the monitoring scan: fetch + extract of watched pages on one worker.

Serves N generated review pages (JSON-LD, microdata, RDFa and markup-free pages in turn) from a
local HTTP server in a child process, then, in this process:

1. baseline: a bare httpx GET of every page, no decoding, no parsing;
2. scan: `page_fetch` + `reviews_extract` of every page, timing fetch and parse separately;
3. memory: peak RSS of this process (resource) and the peak of Python allocations over a short
   traced pass (tracemalloc slows allocation, so it is kept out of the timed runs).

Only 127.0.0.1 is contacted. Run: .venv/bin/python bench/bench_scan.py [--pages 200]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import multiprocessing
import resource
import socket
import sys
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from cleanup.extract import reviews_extract  # noqa: E402
from cleanup.fetch import http_client_build, page_fetch  # noqa: E402

LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)
KINDS = ("jsonld", "microdata", "rdfa", "demo")
TEXT = (
    "Consultation ponctuelle, médecin à l'écoute qui prend le temps d'expliquer le traitement. "
    "Le secrétariat est joignable et l'attente reste raisonnable pour un cabinet de ville."
)


def page_html(index: int, reviews: int) -> str:
    kind = KINDS[index % len(KINDS)]
    filler = "<p>" + "Informations pratiques sur le cabinet, accès, horaires. " * 40 + "</p>"
    rows = [
        (f"Patient {index}-{j}", f"2024-{1 + j % 12:02d}-{1 + j % 28:02d}", 1 + j % 5, TEXT)
        for j in range(reviews)
    ]
    if kind == "jsonld":
        data = {
            "@context": "https://schema.org",
            "@type": "Physician",
            "name": f"Dr Test {index}",
            "aggregateRating": {"@type": "AggregateRating", "ratingValue": "3.1",
                                "reviewCount": str(reviews)},
            "review": [
                {"@type": "Review", "author": {"@type": "Person", "name": a},
                 "datePublished": d, "reviewRating": {"@type": "Rating", "ratingValue": r},
                 "reviewBody": t}
                for a, d, r, t in rows
            ],
        }  # fmt: skip
        body = f"<script type='application/ld+json'>{json.dumps(data)}</script>"
    elif kind == "microdata":
        body = (
            "<div itemscope itemtype='https://schema.org/Physician'>"
            + "".join(
                f"<div itemprop='review' itemscope itemtype='https://schema.org/Review'>"
                f"<span itemprop='author'>{a}</span><meta itemprop='datePublished' content='{d}'>"
                f"<div itemprop='reviewRating' itemscope itemtype='https://schema.org/Rating'>"
                f"<span itemprop='ratingValue'>{r}</span></div><p itemprop='reviewBody'>{t}</p></div>"
                for a, d, r, t in rows
            )
            + "</div>"
        )
    elif kind == "rdfa":
        body = (
            "<div vocab='https://schema.org/' typeof='Physician'>"
            + "".join(
                f"<div property='review' typeof='Review'><span property='author'>{a}</span>"
                f"<span property='datePublished' content='{d}'></span>"
                f"<div property='reviewRating' typeof='Rating'><span property='ratingValue'>{r}"
                f"</span></div><p property='reviewBody'>{t}</p></div>"
                for a, d, r, t in rows
            )
            + "</div>"
        )
    else:
        body = "".join(
            f"<article class='avis' data-avis-id='{index}-{n}'><span class='avis-auteur'>{a}"
            f"</span><span class='avis-date' data-date='{d}'></span>"
            f"<span class='avis-note' data-note='{r}'></span><p class='avis-texte'>{t}</p>"
            "</article>"
            for n, (a, d, r, t) in enumerate(rows)
        )
    return (
        f"<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Dr {index}</title>"
        f"</head><body><h1>Dr Test {index}</h1>{body}{filler}</body></html>"
    )


def serve(pages: int, reviews: int, ready: multiprocessing.synchronize.Event, port_box) -> None:  # type: ignore[name-defined]
    bodies = {f"/p/{i}": page_html(i, reviews).encode() for i in range(pages)}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            # Headers and body go out in two writes; without this, Nagle plus the client's
            # delayed ACK adds ~40 ms to every response and the benchmark measures TCP, not us.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format, *args):  # noqa: A002
            return

        def do_GET(self):  # noqa: N802
            body = bodies.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_box.value = server.server_address[1]
    ready.set()
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--reviews", type=int, default=10, help="reviews per page")
    parser.add_argument("--traced-pages", type=int, default=20)
    args = parser.parse_args()

    ready = multiprocessing.Event()
    port_box = multiprocessing.Value("i", 0)
    server = multiprocessing.Process(
        target=serve, args=(args.pages, args.reviews, ready, port_box), daemon=True
    )
    server.start()
    try:
        if not ready.wait(30):
            raise SystemExit("server did not start")
        base = f"http://127.0.0.1:{port_box.value}"
        urls = [f"{base}/p/{i}" for i in range(args.pages)]
        rss_start_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        # 1. baseline: bare GET
        with httpx.Client(timeout=httpx.Timeout(10.0), trust_env=False) as client:
            client.get(urls[0])  # open the connection
            t0 = time.perf_counter()
            total_bytes = sum(len(client.get(u).content) for u in urls)
            baseline_s = time.perf_counter() - t0

        # 2. scan: fetch + extract
        fetch_s = parse_s = 0.0
        by_kind = dict.fromkeys(KINDS, 0.0)
        found = 0
        with http_client_build(trust_env=False) as client:
            page_fetch(url=urls[0], client=client, allowed_networks=LOOPBACK)
            t_scan = time.perf_counter()
            for i, u in enumerate(urls):
                t0 = time.perf_counter()
                page = page_fetch(url=u, client=client, allowed_networks=LOOPBACK)
                t1 = time.perf_counter()
                extract = reviews_extract(html=page.html, url=u, platform="demo-avis")
                spent = time.perf_counter() - t1
                parse_s += spent
                by_kind[KINDS[i % len(KINDS)]] += spent
                fetch_s += t1 - t0
                found += len(extract.reviews)
            scan_s = time.perf_counter() - t_scan
        rss_peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        # 3. traced pass for Python heap peak
        traced = urls[: args.traced_pages]
        with http_client_build(trust_env=False) as client:
            tracemalloc.start()
            for u in traced:
                page = page_fetch(url=u, client=client, allowed_networks=LOOPBACK)
                reviews_extract(html=page.html, url=u, platform="demo-avis")
            _, heap_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    finally:
        server.terminate()
        server.join(5)

    expected = args.pages * args.reviews
    n = args.pages
    print(f"pages: {n} ({total_bytes / n / 1024:.1f} KiB each, {args.reviews} reviews, "
          f"kinds {'/'.join(KINDS)}), reviews found: {found}/{expected}")  # fmt: skip
    print(f"baseline bare GET     : {n / baseline_s * 60:10.0f} pages/min  ({baseline_s:.2f} s)")
    print(f"scan fetch+extract    : {n / scan_s * 60:10.0f} pages/min  ({scan_s:.2f} s)")
    work = fetch_s + parse_s
    print(f"  time fetching       : {fetch_s:.2f} s ({fetch_s / work:.0%})")
    print(f"  time parsing        : {parse_s:.2f} s ({parse_s / work:.0%})")
    print(f"  parse ms/page       : {parse_s / n * 1000:.1f}  (" + ", ".join(
        f"{k} {v / max(1, sum(1 for i in range(n) if KINDS[i % len(KINDS)] == k)) * 1000:.1f}"
        for k, v in by_kind.items()) + ")")  # fmt: skip
    print(f"peak RSS (process)    : {rss_peak_kib / 1024:.1f} MiB "
          f"(at start {rss_start_kib / 1024:.1f} MiB)")  # fmt: skip
    print(f"peak Python heap      : {heap_peak / 1024 / 1024:.1f} MiB "
          f"over {len(traced)} traced pages (tracemalloc)")  # fmt: skip
    if found != expected:
        raise SystemExit(f"extraction mismatch: {found} != {expected}")


if __name__ == "__main__":
    main()
