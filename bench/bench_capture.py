"""Capture cost: Égide's evidence pipeline vs a bare Playwright goto + full-page screenshot.

Usage: .venv/bin/python bench/bench_capture.py [--rounds 3] [--throughput 12]

Everything runs on 127.0.0.1: the script serves the test pages (lazy-loaded reviews, consent
banner, "lire la suite", long page, iframe, redirect chain) and a local RFC 3161 TSA. Both
methods share one Chromium (a fresh context per capture), driven from its own thread as the
evidence worker drives it (``evidence.browser.BrowserThread``), and run in the same process,
page after page, alternating, so machine load affects them alike.

Égide's pipeline is the whole thing a worker does except the database: pre-checks, capture with
interactions, screenshots, PDF, DOM, WARC, WACZ, French report, BagIt bag, CMS seal, RFC 3161
timestamp and the bundle's self-check. Prints the median and p95 seconds of each method and
their ratio, the peak memory (RSS of this process plus its browser and tools), then captures
per minute with 1 and 2 worker processes (each with its own browser, as the evidence workers).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evidence.bag import bundle_build  # noqa: E402
from evidence.browser import BrowserThread, browser_thread  # noqa: E402
from evidence.capture import capture_run  # noqa: E402
from evidence.pki import SealPki, TsaPki, seal_pki_generate, tsa_pki_generate  # noqa: E402
from evidence.report import data_file_hashes, report_render  # noqa: E402
from evidence.tsa_server import TsaServer  # noqa: E402
from evidence.wacz_pack import wacz_pack  # noqa: E402
from tests.evidence.pages import Site, _handler, _routes, _serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PATHS = ["/lazy", "/consent", "/expander", "/long", "/iframe", "/redirect-start"]


class PeakRss:
    """Peak resident memory of this process and all its descendants, sampled every 50 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        root = psutil.Process()
        total = 0
        for proc in [root, *root.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self.peak = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def site_start() -> tuple[Site, ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    site = Site(port=server.server_address[1], forbidden_port=9, tls_port=9)
    server.RequestHandlerClass = _handler(site, site.hits, _routes(site))
    _serve(server)
    return site, server


def _capture_in_thread(thread: BrowserThread, **kwargs):
    return capture_run(browser=thread.browser(), browser_args=thread.args, **kwargs)


def egide_capture(
    *,
    browser: BrowserThread,
    url: str,
    work: Path,
    n: int,
    tsa_url: str,
    tsa: TsaPki,
    seal: SealPki,
) -> None:
    # As the evidence worker: the browser part in the browser thread, the rest in this one.
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
    data = result.data_dir
    wacz_pack(
        warc_paths=result.warc_paths,
        out_path=data / "capture.wacz",
        url=result.final_url,
        title=result.title or url,
        ts=result.main_response_date,
    )
    hashes = data_file_hashes(data_dir=data, extra={"warc/capture.warc.gz": result.warc_paths[0]})
    report_render(capture=result, file_hashes=hashes, out_path=data / "report.pdf")
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


def bare_capture(*, browser: BrowserThread, url: str, work: Path, n: int) -> None:
    browser.call(_bare_in_thread, browser, url=url, work=work, n=n)


def _bare_in_thread(thread: BrowserThread, *, url: str, work: Path, n: int) -> None:
    context = thread.browser().new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        page.goto(url, wait_until="load", timeout=30_000)
        page.screenshot(path=str(work / f"bare-{n}.png"), full_page=True)
    finally:
        context.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _worker(args: tuple[list[str], str, TsaPki, SealPki]) -> int:
    urls, tsa_url, tsa, seal = args
    with (
        tempfile.TemporaryDirectory(prefix="egide-bench-") as tmp,
        browser_thread(chromium_path=CHROMIUM) as browser,
    ):
        for n, url in enumerate(urls):
            egide_capture(
                browser=browser, url=url, work=Path(tmp), n=n, tsa_url=tsa_url, tsa=tsa, seal=seal
            )
    return len(urls)


def throughput(*, processes: int, urls: list[str], tsa_url: str, tsa, seal) -> float:
    """Captures per minute with ``processes`` workers sharing the list (browser start included)."""
    shares = [urls[i::processes] for i in range(processes)]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        done = sum(pool.map(_worker, [(share, tsa_url, tsa, seal) for share in shares]))
    return done / ((time.perf_counter() - started) / 60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the page set")
    parser.add_argument("--throughput", type=int, default=12, help="captures per throughput run")
    args = parser.parse_args()

    site, server = site_start()
    tsa = tsa_pki_generate(common_name="TSA banc d'essai")
    seal = seal_pki_generate(organisation="Banc d'essai")
    tsa_server = TsaServer(pki=tsa, host="127.0.0.1", port=0).start()
    timings: dict[str, list[float]] = {"egide": [], "bare": []}
    peaks: dict[str, int] = {"egide": 0, "bare": 0}
    meter = PeakRss()
    with (
        tempfile.TemporaryDirectory(prefix="egide-bench-") as tmp,
        browser_thread(chromium_path=CHROMIUM) as browser,
    ):
        work = Path(tmp)
        n = 0
        # warm-up, not measured
        bare_capture(browser=browser, url=site.url("/consent"), work=work, n=-1)
        for _round in range(args.rounds):
            for path in PATHS:
                n += 1
                url = site.url(path)
                for method in ("egide", "bare"):
                    with meter:
                        started = time.perf_counter()
                        if method == "egide":
                            egide_capture(
                                browser=browser, url=url, work=work, n=n,
                                tsa_url=tsa_server.url, tsa=tsa, seal=seal,
                            )  # fmt: skip
                        else:
                            bare_capture(browser=browser, url=url, work=work, n=n)
                        timings[method].append(time.perf_counter() - started)
                    peaks[method] = max(peaks[method], meter.peak)

    print(f"Pages: {len(PATHS)} × {args.rounds} rounds = {len(timings['egide'])} captures each")
    print(f"{'method':<34}{'median s':>10}{'p95 s':>10}{'peak MiB':>10}")
    labels = {"egide": "Égide (full evidence bundle)", "bare": "bare goto + full-page screenshot"}
    for method, values in timings.items():
        print(
            f"{labels[method]:<34}{statistics.median(values):>10.2f}"
            f"{percentile(values, 0.95):>10.2f}{peaks[method] / 2**20:>10.0f}"
        )
    print(
        "ratio Égide / bare: median "
        f"{statistics.median(timings['egide']) / statistics.median(timings['bare']):.1f}×, "
        f"p95 {percentile(timings['egide'], 0.95) / percentile(timings['bare'], 0.95):.1f}×"
    )

    urls = [site.url(PATHS[i % len(PATHS)]) for i in range(args.throughput)]
    for processes in (1, 2):
        rate = throughput(
            processes=processes, urls=urls, tsa_url=tsa_server.url, tsa=tsa, seal=seal
        )
        print(f"throughput, {processes} worker process(es): {rate:.1f} captures/min")
    tsa_server.stop()
    server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
