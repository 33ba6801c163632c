"""Capture cost: Égide's warm evidence worker vs a bare fresh-process Playwright capture.

Usage: .venv/bin/python bench/bench_capture.py [--rounds 3] [--quick]

Issue 15.4: on a page set like real review sites (lazy list, consent wall, redirect chain,
ISO-8859-1 page, 30,000 px page, 3 s script, iframe, microdata), the warm evidence worker's full
sealed bundle must take no longer than a bare fresh-process Playwright ``goto`` + full-page
screenshot of the same pages, in the same run (Σ ratio ≤ 1.0), and one evidence worker must
stay under 800 MiB of peak RSS.

Everything runs on 127.0.0.1: this script serves the pages (``tests/evidence/pages.py`` plus a
few of its own, no third-party assets) and a local RFC 3161 TSA.

- **Bare**: for each page, a new Python process (``sync_playwright`` → ``chromium.launch`` with
  the capture's Chromium arguments → ``new_page`` → ``goto(url, wait_until="load")`` →
  ``screenshot(full_page=True)`` → close), timed from process start to exit.
- **Égide**: one worker process, started once, whose browser is already warm (as a running
  evidence worker), given the page set as its queue: for each page, pre-checks, capture with
  interactions, screenshots, PDF, DOM, WARC, WACZ, French report, BagIt bag, CMS seal and RFC
  3161 timestamp — the whole sealed bundle, as ``evidence.services.execution._pipeline`` builds it (the
  database aside). As in the worker, the queue is consumed by as many worker threads as the
  Procfile's "evidence" line gives (``--threads``; ``--threads 1`` here to compare), sharing one
  browser thread (``evidence.browser.SharedBrowser``, what ``evidence.tasks.worker_browser``
  hands out), which runs as many captures at once as ``EGIDE_CAPTURE_CONCURRENCY`` would
  (``--concurrency``, default: the number of threads; ``--concurrency 1`` to compare); one
  thread's post-processing overlaps the other's capture. The worker process limits its malloc
  arenas as ``saas.worker`` does. Per-step times (capture including the wait for the browser,
  WACZ, report, bag) of each page go to stderr; a page's latency counts from when a worker
  thread takes it.

Rounds alternate which side goes first. Printed: per-page median seconds of each side, the
median over rounds of each side's Σ (the Égide Σ is the wall time of its queue), their ratio,
and the peak RSS of the Égide worker's process tree (its Python process, Playwright driver and
Chromium), sampled every 20 ms.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evidence.capture import CHROMIUM_ARGS  # noqa: E402
from evidence.pki import SealPki, TsaPki, seal_pki_generate, tsa_pki_generate  # noqa: E402
from evidence.tsa_server import TsaServer  # noqa: E402
from tests.evidence.pages import Site, _handler, _html, _routes, _serve  # noqa: E402

# The worker's browser (``CHROMIUM_PATH`` in the settings): the same binary on both sides.
CHROMIUM = os.environ.get("EGIDE_CHROMIUM_PATH", "/usr/bin/chromium-headless-shell")
RSS_LIMIT_MIB = 800

# label → path; the kinds named by the issue.
PAGES: dict[str, str] = {
    "lazy list": "/lazy",
    "consent wall": "/consent",
    "redirect chain": "/redirect-start",
    "ISO-8859-1": "/latin1",
    "30,000 px": "/long",
    "3 s script": "/script-3s",
    "iframe": "/iframe",
    "microdata": "/microdata",
}
QUICK_PAGES = ["lazy list", "consent wall", "ISO-8859-1", "30,000 px"]

LATIN1_PAGE = (
    "<!doctype html><html lang='fr'><head><meta charset='iso-8859-1'>"
    "<title>Cabinet médical : avis</title></head><body><h1>Avis sur le Dr Lefèvre</h1>"
    "<p>« Très à l'écoute, ponctuel ; accueil chaleureux. » Hélène (Besançon)</p>"
    "<p>Tarif : 30 EUR la consultation ; ça a été très bien, même à l'accueil. ÿ ñ ß</p>"
    "</body></html>"
)

SCRIPT_3S_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Script de 3 secondes</title></head><body><h1>Avis calculés par un script lent</h1>
<p id="status">Calcul en cours…</p>
<script>
const start = performance.now();
while (performance.now() - start < 3000) { /* a page whose own script runs for 3 s */ }
document.getElementById('status').textContent = 'Avis affichés après 3 s de script.';
</script></body></html>
"""

MICRODATA_PAGE = (
    """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Fiche praticien (microdonnées)</title></head><body>
<div itemscope itemtype="https://schema.org/Physician">
<h1 itemprop="name">Dr Claire Martin</h1>
<div itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating">
Note <span itemprop="ratingValue">2.1</span>/5 sur <span itemprop="reviewCount">3</span> avis</div>
"""
    + "".join(
        f"""<div itemprop="review" itemscope itemtype="https://schema.org/Review">
<span itemprop="author" itemscope itemtype="https://schema.org/Person">
<span itemprop="name">Patient {n}</span></span>
<meta itemprop="datePublished" content="2026-11-0{n}">
<p itemprop="reviewBody">Avis n°{n} : attente trop longue, praticien pressé.</p></div>
"""
        for n in range(1, 4)
    )
    + "</div></body></html>\n"
)

# The bare side: a fresh Python process per page, nothing else.
BARE_SCRIPT = """
import json, sys
from playwright.sync_api import sync_playwright
url, out, chromium, args = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=chromium, args=args)
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(url, wait_until="load", timeout=30_000)
    page.screenshot(path=out, full_page=True)
    browser.close()
"""


def _process_kind(proc: psutil.Process) -> str:
    """« python », « playwright driver » or Chromium's process type (browser, renderer…)."""
    cmdline = proc.cmdline()
    if not cmdline:
        return proc.name()
    if "chrom" in Path(cmdline[0]).name:
        types = [arg.split("=", 1)[1] for arg in cmdline if arg.startswith("--type=")]
        return f"chromium {types[0] if types else 'browser'}"
    if Path(cmdline[0]).name == "node":
        return "playwright driver"
    return Path(cmdline[0]).name


class PeakRss:
    """Peak resident memory of a process and all its descendants, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.peak_pss = 0
        self.peak_parts: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, *, pss: bool = False) -> int:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        parts: dict[str, int] = {}
        for proc in procs:
            try:
                size = proc.memory_full_info().pss if pss else proc.memory_info().rss
                kind = _process_kind(proc)
            except psutil.Error:
                continue
            total += size
            parts[kind] = parts.get(kind, 0) + size
        if not pss and total > self.peak:
            self.peak_parts = parts
        return total

    def _run(self) -> None:
        tick = 0
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            if tick % 10 == 0:
                # PSS counts the pages Chromium's processes share once (slower to read).
                self.peak_pss = max(self.peak_pss, self._sample(pss=True))
            tick += 1
            time.sleep(0.02)

    def start(self) -> PeakRss:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def site_start() -> tuple[Site, ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    site = Site(port=server.server_address[1], forbidden_port=9, tls_port=9)
    routes = _routes(site)
    routes["/latin1"] = lambda _q: (
        200,
        [("Content-Type", "text/html; charset=iso-8859-1")],
        LATIN1_PAGE.encode("iso-8859-1"),
    )
    routes["/script-3s"] = lambda _q: _html(SCRIPT_3S_PAGE)
    routes["/microdata"] = lambda _q: _html(MICRODATA_PAGE)
    server.RequestHandlerClass = _handler(site, site.hits, routes)
    _serve(server)
    return site, server


# --- Égide worker process ----------------------------------------------------------------


def procfile_evidence_threads() -> int:
    """The ``--threads`` of the Procfile's "evidence" line: the bench runs what the worker runs."""
    procfile = Path(__file__).resolve().parent.parent / "Procfile"
    for line in procfile.read_text("utf-8").splitlines():
        if line.startswith("evidence:"):
            words = line.split()
            return int(words[words.index("--threads") + 1])
    raise SystemExit("Procfile: no evidence line")


def _worker_main(
    conn: Connection, tsa_url: str, tsa: TsaPki, seal: SealPki, threads: int, concurrency: int
) -> None:
    """An evidence worker without a database: a warm browser, then batches of URLs."""
    from common.memory import malloc_arenas_limit
    from evidence.browser import SharedBrowser

    malloc_arenas_limit()  # as saas.worker does, before any thread starts

    shared = SharedBrowser(name="evidence-browser", chromium_path=CHROMIUM, concurrency=concurrency)
    with tempfile.TemporaryDirectory(prefix="egide-bench-") as tmp:
        work = Path(tmp)
        shared.take().call(lambda: None)  # the worker is up; Chromium starts on first capture
        conn.send("ready")
        batch = 0
        while True:
            message = conn.recv()
            if message is None:
                break
            batch += 1
            started = time.perf_counter()
            latencies = egide_queue_run(
                shared=shared,
                threads=threads,
                urls=message,
                work=work / f"b{batch}",
                tsa_url=tsa_url,
                tsa=tsa,
                seal=seal,
            )
            conn.send((latencies, time.perf_counter() - started))
        shared.release()


def _capture_in_thread(thread, **kwargs):
    from evidence.capture.run import capture_run

    return capture_run(browser=thread.browser(), browser_args=thread.args, **kwargs)


def egide_queue_run(
    *,
    shared,
    threads: int,
    urls: list[str],
    work: Path,
    tsa_url: str,
    tsa: TsaPki,
    seal: SealPki,
) -> list[float]:
    """The worker's queue, consumed by ``threads`` worker threads sharing one browser thread
    (``evidence.browser.SharedBrowser``, as ``evidence.tasks.worker_browser``); per-URL latency
    from the moment a worker thread takes the URL to its sealed zip."""
    jobs: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()
    for job in enumerate(urls):
        jobs.put(job)
    latencies = [0.0] * len(urls)
    errors: list[BaseException] = []

    def worker_thread() -> None:
        browser = shared.take()
        try:
            while True:
                try:
                    n, url = jobs.get_nowait()
                except queue.Empty:
                    return
                started = time.perf_counter()
                egide_bundle_make(
                    browser=browser, n=n, url=url, work=work, tsa_url=tsa_url, tsa=tsa, seal=seal
                )
                latencies[n] = time.perf_counter() - started
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    pool = [threading.Thread(target=worker_thread) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise errors[0]
    return latencies


def egide_bundle_make(
    *, browser, n: int, url: str, work: Path, tsa_url: str, tsa: TsaPki, seal: SealPki
) -> None:
    """One message of the worker: capture in the browser thread, then bundle in this thread."""
    from common.memory import malloc_trim
    from evidence.bag import bundle_build
    from evidence.report import data_file_hashes, report_render
    from evidence.wacz_pack import wacz_pack

    started = time.perf_counter()
    result = browser.call(
        _capture_in_thread,
        browser,
        url=url,
        out_dir=work / f"c{n}",
        chromium_path=CHROMIUM,
        allow={"127.0.0.1"},
        timeout_s=30,
        idle_timeout_s=5,
        behaviors_timeout_s=20,
    )
    t1 = time.perf_counter()
    data = result.data_dir
    wacz_pack(
        warc_paths=result.warc_paths,
        out_path=data / "capture.wacz",
        url=result.final_url,
        title=result.title or url,
        ts=result.main_response_date,
    )
    t2 = time.perf_counter()
    hashes = data_file_hashes(data_dir=data, extra={"warc/capture.warc.gz": result.warc_paths[0]})
    report_render(capture=result, file_hashes=hashes, out_path=data / "report.pdf")
    malloc_trim()  # as the worker's pipeline does
    t3 = time.perf_counter()
    (data / "provenance" / "custody.jsonl").write_text("{}\n", "utf-8")
    bundle_build(
        capture_id=f"bench-{n}",
        data_dir=data,
        out_dir=work / "bundles",
        bag_info={"Source-Organization": "Banc d'essai"},
        tsa_url=tsa_url,
        tsa_chain_pem=tsa.cert_pem,
        tsa_ca_pem=tsa.ca_cert_pem,
        seal_key_pem=seal.key_pem,
        seal_cert_pem=seal.cert_pem,
        seal_ca_pem=seal.ca_cert_pem,
    )
    t4 = time.perf_counter()
    print(
        f"  [{url.rsplit('/', 1)[-1]}] capture (with wait for the browser) {t1 - started:.2f} "
        f"wacz {t2 - t1:.2f} report {t3 - t2:.2f} bag {t4 - t3:.2f}",
        file=sys.stderr,
    )


def _receive(conn: Connection, worker):
    while not conn.poll(1):
        if not worker.is_alive():
            raise SystemExit(f"the Égide worker died (exit code {worker.exitcode})")
    return conn.recv()


def bare_capture(*, url: str, out: Path) -> float:
    import json

    command = [
        sys.executable,
        "-c",
        BARE_SCRIPT,
        url,
        str(out),
        CHROMIUM,
        json.dumps(CHROMIUM_ARGS),
    ]
    for attempt in (1, 2):
        started = time.perf_counter()
        done = subprocess.run(command, check=attempt == 2, capture_output=True)  # noqa: S603
        if done.returncode == 0:
            return time.perf_counter() - started
        # Chromium now and then dies at launch (SIGSEGV) on a loaded machine: the worker
        # relaunches it (evidence.browser); here the bare run is retried once and said so.
        print(f"  bare run of {url} failed once; retried", file=sys.stderr)
    raise AssertionError("unreachable")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the page set")
    parser.add_argument("--quick", action="store_true", help="4 pages, 1 round")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="worker threads (default: the Procfile's evidence line); 1 to compare",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=0,
        help="captures at once in the browser (default: as many as worker threads, as "
        "EGIDE_CAPTURE_CONCURRENCY); 1 to compare",
    )
    args = parser.parse_args()
    labels = QUICK_PAGES if args.quick else list(PAGES)
    rounds = 1 if args.quick else args.rounds

    site, server = site_start()
    tsa = tsa_pki_generate(common_name="TSA banc d'essai")
    seal = seal_pki_generate(organisation="Banc d'essai")
    tsa_server = TsaServer(pki=tsa, host="127.0.0.1", port=0).start()
    urls = [site.url(PAGES[label]) for label in labels]

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    threads = args.threads or procfile_evidence_threads()
    concurrency = args.concurrency or threads
    worker = ctx.Process(
        target=_worker_main, args=(child, tsa_server.url, tsa, seal, threads, concurrency)
    )
    worker.start()
    meter = PeakRss(worker.pid or 0).start()
    assert _receive(parent, worker) == "ready"
    # Warm-up, not measured: the worker's browser starts; the bare side's caches fill.
    parent.send([site.url("/consent")])
    _receive(parent, worker)
    with tempfile.TemporaryDirectory(prefix="egide-bench-bare-") as tmp:
        bare_capture(url=site.url("/consent"), out=Path(tmp) / "warm.png")

        per_page: dict[str, dict[str, list[float]]] = {"egide": {}, "bare": {}}
        sums: dict[str, list[float]] = {"egide": [], "bare": []}
        for round_no in range(rounds):
            order = ("egide", "bare") if round_no % 2 == 0 else ("bare", "egide")
            for side in order:
                if side == "egide":
                    parent.send(urls)
                    latencies, wall = _receive(parent, worker)
                    sums["egide"].append(wall)
                    times = latencies
                else:
                    times = [
                        bare_capture(url=url, out=Path(tmp) / f"bare-{round_no}-{i}.png")
                        for i, url in enumerate(urls)
                    ]
                    sums["bare"].append(sum(times))
                for label, seconds in zip(labels, times, strict=True):
                    per_page[side].setdefault(label, []).append(seconds)
    parent.send(None)
    worker.join(60)
    meter.stop()
    tsa_server.stop()
    server.shutdown()

    print(
        f"Pages: {len(labels)} × {rounds} round(s); {threads} worker thread(s), "
        f"{concurrency} capture(s) at once in the browser; medians in s"
    )
    print(f"{'page':<18}{'Égide bundle':>14}{'bare fresh':>12}")
    for label in labels:
        egide = statistics.median(per_page["egide"][label])
        bare = statistics.median(per_page["bare"][label])
        print(f"{label:<18}{egide:>14.2f}{bare:>12.2f}")
    egide_sum = statistics.median(sums["egide"])
    bare_sum = statistics.median(sums["bare"])
    print(f"{'Σ (median)':<18}{egide_sum:>14.2f}{bare_sum:>12.2f}")
    ratio = egide_sum / bare_sum
    print(f"Σ ratio Égide / bare: {ratio:.2f} (target ≤ 1.00)")
    peak_mib = meter.peak / 2**20
    print(f"peak RSS of the Égide worker tree: {peak_mib:.0f} MiB (target ≤ {RSS_LIMIT_MIB} MiB)")
    print(f"peak PSS of the same tree (sampled every 0.2 s): {meter.peak_pss / 2**20:.0f} MiB")
    parts = ", ".join(
        f"{kind} {size / 2**20:.0f}" for kind, size in sorted(meter.peak_parts.items())
    )
    print(f"at the RSS peak, MiB by process: {parts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
