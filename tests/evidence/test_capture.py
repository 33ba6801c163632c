"""Browser capture against the loopback test site: content after interactions, statuses,
redirects, WARC, provenance, and the SSRF guard end to end.

One Chromium per module (as a capture worker owns its browser); every capture gets a fresh
context. Allowed: 127.0.0.1 (and ::1 for ``localhost``); 127.0.0.2 plays an internal host and
must never receive a request.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image
from warcio.archiveiterator import ArchiveIterator

from evidence.browser import BrowserThread, browser_thread
from evidence.capture.result import CaptureBlocked, CaptureResult
from evidence.capture.run import capture_run
from evidence.capture.settings import PROGRESS
from evidence.prechecks import PrecheckConfig
from tests.evidence.pages import (
    CP1252_TEXT,
    ECHO_IP,
    GZIP_PAGE,
    PIXEL_PNG,
    REVIEW_COUNT,
    Services,
    Site,
    review_text,
)

CHROMIUM = settings.CHROMIUM_PATH  # the browser the evidence worker runs
ALLOW = {"127.0.0.1", "::1"}
WARCIO = str(Path(sys.executable).with_name("warcio"))

DATA_FILES = {
    "page.html",
    "page.pdf",
    "page.txt",
    "screenshot-full.png",
    "screenshot-viewport.png",
    "provenance/actions.jsonl",
    "provenance/clock.json",
    "provenance/environment.json",
    "provenance/network.json",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserThread]:
    """A browser thread, as the evidence worker owns one (capture_run runs in it)."""
    with browser_thread(chromium_path=CHROMIUM) as thread:
        yield thread


def _in_browser_thread(thread: BrowserThread, **kwargs) -> CaptureResult:
    return capture_run(browser=thread.browser(), browser_args=thread.args, **kwargs)


def _capture(browser: BrowserThread, url: str, out_dir: Path, **options) -> CaptureResult:
    return browser.call(
        _in_browser_thread,
        browser,
        url=url,
        out_dir=out_dir,
        chromium_path=CHROMIUM,
        allow=ALLOW,
        timeout_s=15,
        idle_timeout_s=5,
        behaviors_timeout_s=20,
        **options,
    )


def _text(result: CaptureResult) -> str:
    return (result.data_dir / "page.txt").read_text(encoding="utf-8")


def _actions(result: CaptureResult) -> list[dict]:
    lines = (result.data_dir / "provenance" / "actions.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _records(result: CaptureResult) -> list[tuple[dict, bytes, int | None]]:
    """(WARC headers, payload, HTTP status) of every record."""
    records = []
    with result.warc_paths[0].open("rb") as handle:
        for record in ArchiveIterator(handle):
            headers = dict(record.rec_headers.headers)
            status = None
            if record.rec_type == "response":
                status = int(record.http_headers.get_statuscode())
            records.append((headers, record.content_stream().read(), status))
    return records


def _responses(result: CaptureResult) -> dict[str, tuple[dict, bytes, int | None]]:
    return {
        headers["WARC-Target-URI"]: (headers, payload, status)
        for headers, payload, status in _records(result)
        if headers["WARC-Type"] == "response"
    }


def test_lazy_reviews_all_appear_after_scrolling(
    browser: BrowserThread, site: Site, tmp_path: Path
):
    # given a page whose 30 reviews load only when scrolled to
    # when captured
    result = _capture(browser, site.url("/lazy"), tmp_path / "c")
    # then every review is in the visible text, and the scrolling is logged
    text = _text(result)
    assert [n for n in range(1, REVIEW_COUNT + 1) if review_text(n) in text] == list(
        range(1, REVIEW_COUNT + 1)
    )
    assert "Fin des avis." in text
    scrolls = [a for a in _actions(result) if a["action"] == "scroll-done"]
    assert [a["engine"] for a in scrolls] == ["browsertrix-behaviors"]
    fetched = sorted(url for url in _responses(result) if "/api/reviews" in url)
    assert fetched == [site.url(f"/api/reviews?offset={n}") for n in (0, 10, 20)]


def test_consent_banner_is_clicked_and_logged(browser: BrowserThread, site: Site, tmp_path: Path):
    # given content hidden until a cookie choice is made
    result = _capture(browser, site.url("/consent"), tmp_path / "c")
    # then the refusal was clicked (never hidden with CSS), logged, and the content revealed
    assert _text(result) == (
        "Fiche du Dr Martin\n\nContenu révélé après le choix des cookies : "
        "le Dr Martin reçoit sur rendez-vous.\n"
    )
    clicks = [a for a in _actions(result) if a["action"] == "click"]
    assert [(c["purpose"], c["text"], c["selector"]) for c in clicks] == [
        ("consent-refuse", "Tout refuser", "button#refuse")
    ]
    assert clicks[0]["at"].endswith("Z")
    html = (result.data_dir / "page.html").read_text(encoding="utf-8-sig")
    assert 'id="cookie-banner"' not in html
    assert '<body class="">' in html


def test_lire_la_suite_expanders_are_clicked_but_links_are_not_followed(
    browser: BrowserThread, site: Site, tmp_path: Path
):
    result = _capture(browser, site.url("/expander"), tmp_path / "c")
    text = _text(result)
    assert "Suite cachée du premier\navis" not in text
    assert "Suite cachée du premier avis : le médecin a pris le temps d'expliquer." in text
    assert "Suite cachée du deuxième avis : mais diagnostic juste." in text
    clicks = [a for a in _actions(result) if a["action"] == "click"]
    assert [(c["purpose"], c["text"]) for c in clicks] == [
        ("expand", "Lire la suite"),
        ("expand", "Voir plus"),
    ]
    assert [hit.path for hit in site.hits if hit.path == "/autre-page"] == []
    assert result.final_url == site.url("/expander")


def test_redirect_chain_is_recorded_with_statuses(
    browser: BrowserThread, site: Site, services: Services, tmp_path: Path
):
    # given 301 → 302 → 200, and the pre-checks pointed at local NTP and IP echo services
    config = PrecheckConfig(
        ntp_servers=(f"127.0.0.1:{services.ntp_port}",),
        ip_echo_urls=(services.echo_url,),
        timeout_s=2.0,
    )
    result = _capture(browser, site.url("/redirect-start"), tmp_path / "c", prechecks=config)
    # then each hop is recorded with its status, Location and server address
    assert result.http_status == 200
    assert result.error is None
    assert result.final_url == site.url("/redirect-end")
    assert result.redirect_chain == [
        {
            "url": site.url("/redirect-start"),
            "status": 301,
            "location": "/redirect-middle",
            "server_ip": "127.0.0.1",
        },
        {
            "url": site.url("/redirect-middle"),
            "status": 302,
            "location": "/redirect-end",
            "server_ip": "127.0.0.1",
        },
        {"url": site.url("/redirect-end"), "status": 200, "server_ip": "127.0.0.1"},
    ]
    network = json.loads((result.data_dir / "provenance/network.json").read_text("utf-8"))
    assert network["redirect_chain"] == result.redirect_chain
    assert network["egress"]["ip"] == ECHO_IP
    clock = json.loads((result.data_dir / "provenance/clock.json").read_text("utf-8"))
    assert (clock["start"]["status"], clock["end"]["status"]) == ("ok", "ok")
    for moment in ("start", "end"):  # within ± half the round trip of the 2.5 s it runs ahead
        measured = clock[moment]
        assert abs(measured["offset_s"] - 2.5) <= measured["delay_s"] / 2 + 0.002
    # and the WARC holds one response per hop, each from 127.0.0.1, with its request linked
    responses = _responses(result)
    assert {url: (h["WARC-IP-Address"], status) for url, (h, _, status) in responses.items()} == {
        site.url("/redirect-start"): ("127.0.0.1", 301),
        site.url("/redirect-middle"): ("127.0.0.1", 302),
        site.url("/redirect-end"): ("127.0.0.1", 200),
    }
    response_ids = {h["WARC-Record-ID"] for h, _, _ in responses.values()}
    requests = [h for h, _, _ in _records(result) if h["WARC-Type"] == "request"]
    assert {h["WARC-Concurrent-To"] for h in requests} == response_ids
    assert len(requests) == 3


def test_warc_passes_warcio_check(browser: BrowserThread, site: Site, tmp_path: Path):
    result = _capture(browser, site.url("/redirect-start"), tmp_path / "c")
    check = subprocess.run(  # noqa: S603 — fixed tool
        [WARCIO, "check", "-v", str(result.warc_paths[0])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == 10  # warcinfo + 3×(response+request) + 3 resources
    kinds = sorted(h["WARC-Type"] for h, _, _ in _records(result))
    assert kinds == ["request"] * 3 + ["resource"] * 3 + ["response"] * 3 + ["warcinfo"]
    resources = [
        h["WARC-Target-URI"] for h, _, _ in _records(result) if h["WARC-Type"] == "resource"
    ]
    final = site.url("/redirect-end")
    assert resources == [f"urn:view:{final}", f"urn:text:{final}", f"urn:dom:{final}"]


def test_slow_resource_is_waited_for_and_archived(
    browser: BrowserThread, site: Site, tmp_path: Path
):
    result = _capture(browser, site.url("/slow"), tmp_path / "c")
    headers, payload, status = _responses(result)[site.url("/slow.png")]
    assert (status, payload, headers["WARC-IP-Address"]) == (200, PIXEL_PNG, "127.0.0.1")


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/missing", 404, "Page introuvable (404).\n"),
        ("/error", 500, "Erreur interne du serveur (500).\n"),
    ],
)
def test_error_pages_are_captured_as_they_are(
    browser: BrowserThread, site: Site, tmp_path: Path, path: str, status: int, text: str
):
    result = _capture(browser, site.url(path), tmp_path / "c")
    assert (result.http_status, result.error, _text(result)) == (status, None, text)
    assert _responses(result)[site.url(path)][2] == status


def test_windows_1252_page_is_decoded_and_archived_byte_for_byte(
    browser: BrowserThread, site: Site, tmp_path: Path
):
    result = _capture(browser, site.url("/cp1252"), tmp_path / "c")
    assert _text(result) == CP1252_TEXT + "\n"
    _headers, payload, _status = _responses(result)[site.url("/cp1252")]
    assert CP1252_TEXT.encode("cp1252") in payload
    assert payload.decode("cp1252").count(CP1252_TEXT) == 1
    assert (
        (result.data_dir / "page.html")
        .read_bytes()
        .startswith(b"\xef\xbb\xbf<!DOCTYPE html><html><head>")
    )


def test_compressed_body_is_archived_decoded_with_its_original_header(
    browser: BrowserThread, site: Site, tmp_path: Path
):
    result = _capture(browser, site.url("/gzip"), tmp_path / "c")
    with result.warc_paths[0].open("rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type == "response":
                http = record.http_headers
                payload = record.content_stream().read()
    assert payload == GZIP_PAGE.encode("utf-8")
    assert http.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert http.get_header("Content-Encoding") is None
    assert http.get_header("Content-Length") == str(len(payload))


def test_very_long_page_is_captured_full_height(browser: BrowserThread, site: Site, tmp_path: Path):
    result = _capture(browser, site.url("/long"), tmp_path / "c")
    assert _text(result) == "Début de la page longue.\n\nFin de la page longue.\n"
    with Image.open(result.data_dir / "screenshot-full.png") as full:
        assert full.size == (1366, 30000)
    # the first screen plus a 56 px band above it with the URL and UTC time
    with Image.open(result.data_dir / "screenshot-viewport.png") as first:
        assert first.size == (1366, 956)
        assert first.getpixel((1, 1)) == (20, 33, 61)


def test_iframe_content_is_captured(browser: BrowserThread, site: Site, tmp_path: Path):
    result = _capture(browser, site.url("/iframe"), tmp_path / "c")
    frame_url = f"http://localhost:{site.port}/framed"
    assert _text(result) == (
        f"Page qui contient un cadre.\n\n--- Cadre : {frame_url} ---\nContenu du cadre intégré.\n"
    )
    responses = _responses(result)
    assert sorted(responses) == [site.url("/iframe"), frame_url]
    assert {h["WARC-IP-Address"] for h, _, _ in responses.values()} == {"127.0.0.1"}


def test_data_directory_holds_every_artefact_with_its_hash(
    browser: BrowserThread, site: Site, tmp_path: Path
):
    steps: list[tuple[str, int]] = []
    result = _capture(
        browser,
        site.url("/missing"),
        tmp_path / "c",
        on_progress=lambda label, percent: steps.append((label, percent)),
    )
    on_disk = {
        p.relative_to(result.data_dir).as_posix() for p in result.data_dir.rglob("*") if p.is_file()
    }
    assert on_disk == DATA_FILES
    assert set(result.files) == DATA_FILES
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["data", "warc"]
    assert steps == list(PROGRESS.values())
    env = json.loads((result.data_dir / "provenance/environment.json").read_text("utf-8"))
    assert env["browser"]["version"] == browser.call(lambda: browser.browser().version)
    assert env["context"] == {
        "viewport": {"width": 1366, "height": 900},
        "locale": "fr-FR",
        "timezone_id": "Europe/Paris",
        "fresh_context": True,
        "cookies_at_start": 0,
        "cache": "vidé et désactivé",
        "service_workers": "bloqués",
    }
    assert env["software"]["behaviors"]["version"] == "0.8.4"
    assert (result.data_dir / "page.pdf").read_bytes().startswith(b"%PDF-")


def test_sub_request_to_a_forbidden_address_is_blocked_and_recorded(
    browser: BrowserThread, site: Site, tmp_path: Path
):
    # given an allowed page that loads an image from 127.0.0.2 (not allow-listed)
    hits_before = len(site.forbidden_hits)
    result = _capture(browser, site.url("/ssrf-image"), tmp_path / "c")
    # then the page is captured, the image request never left the browser, and it is recorded
    assert result.http_status == 200
    assert len(site.forbidden_hits) == hits_before == 0
    blocked_url = site.forbidden_url("/pixel.png")
    assert [
        (b["url"], b["resource_type"], b["addresses"], b["reason"]) for b in result.blocked
    ] == [
        (
            blocked_url,
            "Image",
            ["127.0.0.2"],
            "adresse non publique : 127.0.0.2 (boucle locale (loopback))",
        )
    ]
    network = json.loads((result.data_dir / "provenance/network.json").read_text("utf-8"))
    assert network["blocked"] == result.blocked
    assert blocked_url not in _responses(result)


def test_redirect_to_a_forbidden_address_blocks_the_capture(
    browser: BrowserThread, site: Site, tmp_path: Path
):
    out_dir = tmp_path / "c"
    with pytest.raises(CaptureBlocked) as blocked:
        _capture(browser, site.url("/ssrf-redirect"), out_dir)
    assert blocked.value.message_fr == (
        "Capture refusée : la page redirige vers une adresse non autorisée "
        f"({site.forbidden_url('/secret')})."
    )
    assert [b["url"] for b in blocked.value.blocked] == [site.forbidden_url("/secret")]
    assert site.forbidden_hits == []
    assert not out_dir.exists()


def test_first_url_outside_the_allow_list_is_refused_before_any_browsing(tmp_path: Path):
    out_dir = tmp_path / "c"
    with pytest.raises(CaptureBlocked) as blocked:
        capture_run(
            url="http://127.0.0.3:8000/",
            out_dir=out_dir,
            chromium_path=CHROMIUM,
            allow=ALLOW,
            timeout_s=5,
        )
    assert blocked.value.message_fr == (
        "Adresse non publique refusée pour « 127.0.0.3 » : 127.0.0.3 (boucle locale "
        "(loopback)). La capture ne contacte que des adresses publiques."
    )
    assert not out_dir.exists()


def test_tls_error_is_captured_as_what_it_is(browser: BrowserThread, site: Site, tmp_path: Path):
    result = _capture(browser, site.tls_url("/tls"), tmp_path / "c")
    assert result.http_status is None
    assert result.error == f"Page.goto: net::ERR_CERT_AUTHORITY_INVALID at {site.tls_url('/tls')}"
    assert result.redirect_chain == [{"url": site.tls_url("/tls"), "status": None}]
    assert set(result.files) == DATA_FILES
    skipped = [a for a in _actions(result) if a["action"] == "interactions-skipped"]
    assert [a["reason"] for a in skipped] == ["aucune réponse du serveur"]
    assert result.final_url == "chrome-error://chromewebdata/"


def test_existing_capture_is_never_overwritten(browser: BrowserThread, site: Site, tmp_path: Path):
    out_dir = tmp_path / "c"
    _capture(browser, site.url("/missing"), out_dir)
    before = (out_dir / "data" / "page.txt").read_bytes()
    with pytest.raises(FileExistsError):
        _capture(browser, site.url("/error"), out_dir)
    assert (out_dir / "data" / "page.txt").read_bytes() == before
