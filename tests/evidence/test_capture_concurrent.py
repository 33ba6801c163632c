"""Two captures at once in one Chromium (``BrowserThread(concurrency=2)``, as the evidence
worker runs them): each bundle holds its own page, its own bytes and its own refusals, and a
driver that dies fails the running captures instead of leaving them waiting.

The pages meet at a gate (``/gate.png``) that answers only once both captures have asked for
it, so the two are in the browser at the same time whatever the machine's speed; with one
capture at a time the gate would give up and the test says so.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
from django.conf import settings
from playwright.sync_api import Error as PlaywrightError
from warcio.archiveiterator import ArchiveIterator

from evidence.browser import DRIVER_NODE_OPTIONS, BrowserThread, browser_thread
from evidence.capture.result import CaptureResult
from evidence.capture.run import capture_run
from tests.evidence.pages import PIXEL_PNG, Site, _handler, _html, _serve

CHROMIUM = settings.CHROMIUM_PATH
ALLOW = {"127.0.0.1", "::1"}
GATE_WAIT_S = 20


class Gate:
    """Lets both pages' images through only once both have arrived (or after a timeout)."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=GATE_WAIT_S)
        self.met: list[bool] = []

    def __call__(self, _query: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            self.barrier.wait()
            self.met.append(True)
        except threading.BrokenBarrierError:
            self.met.append(False)
        return 200, [("Content-Type", "image/png")], PIXEL_PNG


@pytest.fixture(scope="module")
def pair_site() -> Iterator[tuple[Site, Gate]]:
    main = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    forbidden = ThreadingHTTPServer(("127.0.0.2", 0), BaseHTTPRequestHandler)
    site = Site(port=main.server_address[1], forbidden_port=forbidden.server_address[1], tls_port=9)
    gate = Gate()
    visits = itertools.count(1)

    def counter(_query: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        # Each request gets its own text: the same URL answers each capture differently.
        return _html(f"<p>Compteur de visites : visite n°{next(visits)}</p>")

    routes = {
        "/x": lambda _q: _html(
            "<title>Page X</title><p>Fiche X avec une image interne.</p>"
            '<iframe src="/counter" width="400" height="80"></iframe>'
            f'<img src="{site.forbidden_url("/pixel.png")}"><img src="/gate.png?page=x">'
        ),
        "/y": lambda _q: _html(
            "<title>Page Y</title><p>Fiche Y sans rien d'interne.</p>"
            '<iframe src="/counter" width="400" height="80"></iframe>'
            '<img src="/gate.png?page=y">'
        ),
        "/counter": counter,
        "/gate.png": gate,
    }
    main.RequestHandlerClass = _handler(site, site.hits, routes)
    forbidden.RequestHandlerClass = _handler(site, site.forbidden_hits, None)
    for server in (main, forbidden):
        _serve(server)
    yield site, gate
    for server in (main, forbidden):
        server.shutdown()
        server.server_close()


def _in_browser_thread(thread: BrowserThread, **kwargs) -> CaptureResult:
    return capture_run(browser=thread.browser(), browser_args=thread.args, **kwargs)


def _capture_async(thread: BrowserThread, url: str, out_dir: Path) -> Future[CaptureResult]:
    return thread.submit(
        _in_browser_thread,
        thread,
        url=url,
        out_dir=out_dir,
        chromium_path=CHROMIUM,
        allow=ALLOW,
        timeout_s=30,
        idle_timeout_s=5,
        behaviors_timeout_s=10,
    )


def _warc_responses(result: CaptureResult) -> dict[str, bytes]:
    with result.warc_paths[0].open("rb") as handle:
        return {
            record.rec_headers.get_header("WARC-Target-URI"): record.content_stream().read()
            for record in ArchiveIterator(handle)
            if record.rec_type == "response"
        }


def _network(result: CaptureResult) -> dict:
    return json.loads((result.data_dir / "provenance" / "network.json").read_text("utf-8"))


def test_two_captures_at_once_keep_their_own_requests_bytes_and_refusals(
    pair_site: tuple[Site, Gate], tmp_path: Path
):
    site, gate = pair_site
    with browser_thread(chromium_path=CHROMIUM, concurrency=2) as thread:
        pending = {
            name: _capture_async(thread, site.url(f"/{name}"), tmp_path / name)
            for name in ("x", "y")
        }
        results = {name: future.result(timeout=120) for name, future in pending.items()}

    # Both were in the browser at once: each page's image waited for the other's.
    assert gate.met == [True, True]
    x, y = results["x"], results["y"]
    assert x.started_at < y.finished_at and y.started_at < x.finished_at

    # The refusal is X's alone, and nothing reached the internal host.
    assert [entry["url"] for entry in _network(x)["blocked"]] == [site.forbidden_url("/pixel.png")]
    assert _network(y)["blocked"] == []
    assert site.forbidden_hits == []

    # Each WARC has its own page, not the other's...
    x_warc, y_warc = _warc_responses(x), _warc_responses(y)
    assert site.url("/x") in x_warc and site.url("/y") not in x_warc
    assert site.url("/y") in y_warc and site.url("/x") not in y_warc
    assert site.url("/gate.png?page=x") in x_warc and site.url("/gate.png?page=y") in y_warc
    assert site.url("/gate.png?page=y") not in x_warc

    # ...and for the URL both asked for, the bytes its own page received and showed.
    visit = {}
    for name, result, warc in (("x", x, x_warc), ("y", y, y_warc)):
        body = warc[site.url("/counter")].decode("utf-8")
        number = re.search(r"visite n°(\d+)", body)
        assert number is not None, body
        visit[name] = number.group(1)
        assert f"visite n°{visit[name]}" in (result.data_dir / "page.txt").read_text("utf-8")
    assert visit["x"] != visit["y"]


def _wait_for_flag(thread: BrowserThread, flags: dict, *, bound_s: float) -> str:
    """In the browser thread: wait (letting the loop run) until ``flags["b"]`` is set."""
    thread.browser()  # the loop only runs with Playwright started
    waited = 0.0
    while not flags.get("b"):
        if waited >= bound_s:
            return "alone"
        thread.pump(0.02)
        waited += 0.02
    return "together"


def _set_flag(flags: dict) -> str:
    flags["b"] = True
    return "b"


def _fail() -> None:
    raise ValueError("échec voulu")


def test_browser_thread_runs_up_to_its_concurrency_and_hands_each_caller_its_own_outcome():
    flags: dict = {}
    with browser_thread(chromium_path=CHROMIUM, concurrency=2) as thread:
        waiting = thread.submit(_wait_for_flag, thread, flags, bound_s=GATE_WAIT_S)
        failing = thread.submit(_fail)
        setting = thread.submit(_set_flag, flags)
        assert waiting.result(timeout=60) == "together"
        assert setting.result(timeout=60) == "b"
        with pytest.raises(ValueError, match="échec voulu"):
            failing.result(timeout=60)
        # the thread goes on after a failure
        assert thread.call(lambda: thread.browser().is_connected()) is True

    # One at a time: the second function only starts once the first has given up waiting.
    flags.clear()
    with browser_thread(chromium_path=CHROMIUM, concurrency=1) as thread:
        waiting = thread.submit(_wait_for_flag, thread, flags, bound_s=1.0)
        setting = thread.submit(_set_flag, flags)
        assert waiting.result(timeout=60) == "alone"
        assert setting.result(timeout=60) == "b"


def _driver_pids() -> set[int]:
    """Playwright drivers (node) started by this process."""
    pids = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "run-driver" in child.cmdline():
                pids.add(child.pid)
        except psutil.Error:  # gone meanwhile
            continue
    return pids


def _wait_forever(thread: BrowserThread, started: threading.Event) -> str:
    page = thread.browser().new_page()
    started.set()
    while True:
        page.wait_for_timeout(50)


def test_driver_killed_fails_the_running_captures_and_the_next_call_gets_a_new_one():
    before = _driver_pids()
    with browser_thread(chromium_path=CHROMIUM, concurrency=2) as thread:
        started = [threading.Event(), threading.Event()]
        running = [thread.submit(_wait_forever, thread, event) for event in started]
        for event in started:
            assert event.wait(timeout=60)
        (driver,) = _driver_pids() - before
        psutil.Process(driver).kill()
        for future in running:
            with pytest.raises(PlaywrightError):
                future.result(timeout=60)
        # a new driver and Chromium for the next call
        assert thread.call(lambda: thread.browser().new_page().evaluate("1 + 1")) == 2
        assert driver not in _driver_pids()


def _browser_tree(driver: int) -> dict:
    """The driver's environment and the kinds of Chromium processes it runs."""
    environ = Path(f"/proc/{driver}/environ").read_bytes().split(b"\0")
    kinds = set()
    for child in psutil.Process(driver).children(recursive=True):
        types = [arg for arg in child.cmdline() if arg.startswith("--type=")]
        kinds.add(types[0] if types else "browser")
    return {"environ": environ, "kinds": kinds}


def test_the_worker_browser_runs_its_driver_small_and_its_network_service_in_process():
    node_options = os.environ.get("NODE_OPTIONS")
    before = _driver_pids()
    with browser_thread(chromium_path=CHROMIUM) as thread:
        thread.call(lambda: thread.browser().new_page().goto("about:blank"))
        (driver,) = _driver_pids() - before
        tree = _browser_tree(driver)
    if node_options is None:
        assert f"NODE_OPTIONS={DRIVER_NODE_OPTIONS}".encode() in tree["environ"]
    # no utility process for the network service: it runs in the browser process
    assert "--type=utility" not in tree["kinds"]
    assert {"browser", "--type=renderer"} <= tree["kinds"]
    # this process's own environment is as it was
    assert os.environ.get("NODE_OPTIONS") == node_options
