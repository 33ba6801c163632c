"""Full-page screenshots of tall pages taken in tiles
(``evidence.capture.screenshots.screenshot_full_write``) and one browser thread shared by two
worker threads (``evidence.browser.SharedBrowser``).

Issue 15.4: a 30,000 px page in one piece costs Chromium a bitmap of the whole page; in tiles
the worker stays lower, and the evidence must not change: the same pixels, the full height,
and the file's hash in the bundle's manifest.
"""

from __future__ import annotations

import hashlib
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image, ImageChops

from evidence.browser import BrowserThread, SharedBrowser, browser_thread
from evidence.capture.result import CaptureResult, file_sha256
from evidence.capture.run import capture_run
from evidence.capture.screenshots import SCREENSHOT_TILE_PX, screenshot_full_write
from evidence.tsa_server import TsaServer
from evidence.wacz_pack import wacz_pack
from tests.evidence.conftest import bundle_build_for_test
from tests.evidence.pages import Site

CHROMIUM = settings.CHROMIUM_PATH  # the browser the evidence worker runs
ALLOW = {"127.0.0.1", "::1"}

# Bands of different colours and text every 250 px: a tile put at the wrong height, dropped or
# repeated changes pixels.
BANDS_PAGE = (
    "<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Bandes</title>"
    "<style>body{margin:0} div{height:250px;font:20px sans-serif}</style></head><body>"
    + "".join(
        f"<div style='background:rgb({(n * 37) % 256},{(n * 91) % 256},{(n * 53) % 256})'>"
        f"Bande n°{n} — avis {n * 7}</div>"
        for n in range(21)
    )
    + "</body></html>"
).encode()


@pytest.fixture(scope="module")
def bands_url() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(BANDS_PAGE)))
            self.end_headers()
            self.wfile.write(BANDS_PAGE)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/bandes"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserThread]:
    with browser_thread(chromium_path=CHROMIUM) as thread:
        yield thread


def _screenshots(thread: BrowserThread, *, url: str, out: Path, tile_px: int) -> dict:
    """In the browser thread: the tiled screenshot and Playwright's own one-piece screenshot."""
    context = thread.browser().new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        info = screenshot_full_write(page=page, out_path=out / "tiled.png", tile_px=tile_px)
        (out / "one.png").write_bytes(page.screenshot(full_page=True))
        return info
    finally:
        context.close()


def test_tiled_screenshot_has_the_pixels_of_a_one_piece_screenshot(
    browser: BrowserThread, bands_url: str, tmp_path: Path
):
    info = browser.call(_screenshots, browser, url=bands_url, out=tmp_path, tile_px=1000)

    assert info == {"width": 1366, "height": 5250, "tiles": 6}
    with Image.open(tmp_path / "tiled.png") as tiled, Image.open(tmp_path / "one.png") as one:
        assert tiled.size == one.size == (1366, 5250)
        assert ImageChops.difference(tiled.convert("RGB"), one.convert("RGB")).getbbox() is None
        # the last band (n=20) is at the bottom, in its colour
        assert tiled.convert("RGB").getpixel((1300, 5240)) == (
            (20 * 37) % 256,
            20 * 91 % 256,
            20 * 53 % 256,
        )


def test_page_no_taller_than_a_tile_is_taken_in_one_piece(
    browser: BrowserThread, bands_url: str, tmp_path: Path
):
    info = browser.call(_screenshots, browser, url=bands_url, out=tmp_path, tile_px=6000)

    assert info == {"width": 1366, "height": 5250, "tiles": 1}
    assert (tmp_path / "tiled.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _capture(thread: BrowserThread, **kwargs) -> CaptureResult:
    return capture_run(browser=thread.browser(), browser_args=thread.args, **kwargs)


def test_very_long_page_is_tiled_full_height_and_its_hash_is_in_the_bundle_manifest(
    browser: BrowserThread, site: Site, tmp_path: Path, tsa_server: TsaServer, tsa_pki, seal_pki
):
    # when
    result = browser.call(
        _capture,
        browser,
        url=site.url("/long"),
        out_dir=tmp_path / "c",
        chromium_path=CHROMIUM,
        allow=ALLOW,
        timeout_s=15,
        idle_timeout_s=5,
        behaviors_timeout_s=20,
    )
    wacz_pack(
        warc_paths=result.warc_paths,
        out_path=result.data_dir / "capture.wacz",
        url=result.final_url,
        title=result.title or result.url,
        ts=result.main_response_date,
    )
    bundle = bundle_build_for_test(
        data_dir=result.data_dir,
        out_dir=tmp_path / "bundle",
        tsa_url=tsa_server.url,
        tsa=tsa_pki,
        seal=seal_pki,
    )
    # then
    full = result.data_dir / "screenshot-full.png"
    with Image.open(full) as image:
        assert image.size == (1366, 30000)
    actions = [json.loads(line) for line in (result.data_dir / "provenance" / "actions.jsonl")
               .read_text("utf-8").splitlines()]  # fmt: skip
    shots = [a for a in actions if a["action"] == "screenshot" and a["full_page"]]
    assert [(s["height"], s["tiles"]) for s in shots] == [(30000, -(-30000 // SCREENSHOT_TILE_PX))]
    digest = file_sha256(full)
    assert result.files["screenshot-full.png"] == digest
    with zipfile.ZipFile(bundle.zip_path) as archive:
        manifest = next(n for n in archive.namelist() if n.endswith("/manifest-sha256.txt"))
        lines = archive.read(manifest).decode("utf-8").splitlines()
    assert f"{digest}  data/screenshot-full.png" in lines
    assert hashlib.sha256(full.read_bytes()).hexdigest() == digest


# --- one browser thread, two worker threads -------------------------------------------------


def _page_title(thread: BrowserThread, url: str) -> tuple[str, str]:
    context = thread.browser().new_context()
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        return page.title(), threading.current_thread().name
    finally:
        context.close()


def test_two_worker_threads_share_one_browser_thread_and_the_last_one_out_closes_it(
    site: Site,
):
    shared = SharedBrowser(name="test-shared-browser", chromium_path=CHROMIUM)
    taken: dict[str, BrowserThread] = {}
    titles: dict[str, tuple[str, str]] = {}
    both_taken = threading.Barrier(2)
    checked = threading.Event()

    def worker(name: str, path: str, *, first: bool) -> None:
        taken[name] = thread = shared.take()
        both_taken.wait(timeout=30)
        titles[name] = thread.call(_page_title, thread, site.url(path))
        if not first:
            checked.wait(timeout=90)  # released only once the test has looked
        shared.release()

    workers = [
        threading.Thread(target=worker, args=("a", "/lazy"), kwargs={"first": True}),
        threading.Thread(target=worker, args=("b", "/iframe"), kwargs={"first": False}),
    ]
    for thread in workers:
        thread.start()
    workers[0].join(timeout=90)
    try:
        # one worker thread released: the browser thread stays for the other
        assert taken["a"] is taken["b"]
        assert taken["a"].is_alive and shared.users == 1
    finally:
        checked.set()
        workers[1].join(timeout=90)

    # both pages were loaded, in the one browser thread
    assert {name: t[1] for name, t in titles.items()} == {
        "a": "test-shared-browser",
        "b": "test-shared-browser",
    }
    assert all(title for title, _ in titles.values())
    # the last one out closed it; a later take starts a new one
    assert shared.users == 0 and not taken["a"].is_alive
    again = shared.take()
    try:
        assert again is not taken["a"] and again.is_alive
    finally:
        shared.release()
    assert not again.is_alive
