"""Captures get past consent walls and « voir plus » on pages built like real review platforms.

Every page of ``tests.evidence.review_site`` hides one marker sentence behind one interaction
(consent banner in the page, in an iframe or in a shadow root; « Voir plus d'avis »; « Avis (7) »
tab; « lire la suite »; IntersectionObserver infinite scroll; review widgets in shadow roots and
cross-origin iframes). Each page is captured once through the real pipeline (capture, WACZ,
report, BagIt bag, RFC 3161 timestamp from a local TSA, CMS seal); the test then checks that the
marker is in the bundle's text, that consent banners are logged with their screenshot, and that
the bundle passes the five standard verifiers (evidence/tools/verify-bundle.sh: bagit, openssl
ts, openssl cms, wacz, warcio), run in the background while the next page is captured.

Traffic: 127.0.0.1 (pages, TSA) and 127.0.0.3 (the second origin for cross-origin iframes).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from evidence.bag import bundle_build
from evidence.browser import BrowserThread
from evidence.capture.result import CaptureResult
from evidence.capture.run import capture_run
from evidence.report import data_file_hashes, report_render
from evidence.wacz_pack import wacz_pack
from tests.evidence.conftest_django import VENV, VERIFY_BUNDLE_SH
from tests.evidence.review_site import (  # noqa: F401 — fixture
    CROSS_HOST,
    GENERIC,
    MAIN_HOST,
    PAGES,
    PAGES_BY_ID,
    PLAIN_LINK_PAGE,
    ReviewPage,
    ReviewSite,
    review_site_fixture,
)
from tests.evidence.test_bundle_per_page import ALL_OK

CHROMIUM = settings.CHROMIUM_PATH  # the browser the evidence worker runs
ALLOW = {MAIN_HOST, CROSS_HOST}


@dataclass
class Captured:
    result: CaptureResult | None
    bundle: Path | None
    verify: subprocess.Popen | None
    seconds: float
    error: BaseException | None = None

    def member(self, suffix: str) -> bytes:
        assert self.bundle is not None
        with zipfile.ZipFile(self.bundle) as archive:
            names = [name for name in archive.namelist() if name.endswith(suffix)]
            assert len(names) == 1, (suffix, names)
            return archive.read(names[0])

    def members(self) -> list[str]:
        assert self.bundle is not None
        with zipfile.ZipFile(self.bundle) as archive:
            return archive.namelist()

    def actions(self) -> list[dict]:
        lines = self.member("data/provenance/actions.jsonl").decode("utf-8").splitlines()
        return [json.loads(line) for line in lines]


def _capture_in_thread(thread: BrowserThread, **kwargs) -> CaptureResult:
    return capture_run(browser=thread.browser(), browser_args=thread.args, **kwargs)


def _bundle(*, result: CaptureResult, page: ReviewPage, out: Path, tsa_url: str, tsa, seal) -> Path:
    data = result.data_dir
    wacz_pack(
        warc_paths=result.warc_paths,
        out_path=data / "capture.wacz",
        url=result.final_url,
        title=result.title or result.url,
        ts=result.main_response_date,
    )
    hashes = data_file_hashes(data_dir=data, extra={"warc/capture.warc.gz": result.warc_paths[0]})
    report_render(capture=result, file_hashes=hashes, out_path=data / "report.pdf")
    (data / "provenance" / "custody.jsonl").write_text("{}\n", "utf-8")
    built = bundle_build(
        capture_id=f"site-{page.id}",
        data_dir=data,
        out_dir=out,
        bag_info={"Source-Organization": "Site d'avis de test"},
        tsa_url=tsa_url,
        tsa_chain_pem=tsa.cert_pem,
        tsa_ca_pem=tsa.ca_cert_pem,
        seal_key_pem=seal.key_pem,
        seal_cert_pem=seal.cert_pem,
        seal_ca_pem=seal.ca_cert_pem,
    )
    return Path(built.zip_path)


def _verify_start(bundle: Path) -> subprocess.Popen:
    return subprocess.Popen(
        ["bash", str(VERIFY_BUNDLE_SH), str(bundle)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "VERIFY_VENV": str(VENV)},
    )


@pytest.fixture(scope="module")
def captured(
    review_site: ReviewSite,
    browser_thread_shared: BrowserThread,
    tmp_path_factory: pytest.TempPathFactory,
    session_tsa_server,
    tsa_pki,
    seal_pki,
) -> Iterator[dict[str, Captured]]:
    """Every page captured and bundled once; verifications run meanwhile, in the background."""
    work = tmp_path_factory.mktemp("review-site")
    done: dict[str, Captured] = {}
    for page in PAGES:
        started = time.monotonic()
        try:
            result = browser_thread_shared.call(
                _capture_in_thread,
                browser_thread_shared,
                url=review_site.url(page),
                out_dir=work / page.id,
                chromium_path=CHROMIUM,
                allow=ALLOW,
                timeout_s=15,
                idle_timeout_s=3,
                behaviors_timeout_s=10,
            )
            bundle = _bundle(
                result=result,
                page=page,
                out=work / "bundles",
                tsa_url=session_tsa_server.url,
                tsa=tsa_pki,
                seal=seal_pki,
            )
        except Exception as exc:  # noqa: BLE001 — reported by the page's own test
            done[page.id] = Captured(None, None, None, time.monotonic() - started, exc)
            continue
        done[page.id] = Captured(result, bundle, _verify_start(bundle), time.monotonic() - started)
    yield done
    for item in done.values():
        if item.verify is not None and item.verify.poll() is None:
            item.verify.kill()
            item.verify.wait()


def _raw_html(site: ReviewSite, page: ReviewPage) -> str:
    with urllib.request.urlopen(site.url(page), timeout=5) as response:  # noqa: S310 — loopback
        return response.read().decode("utf-8")


@pytest.mark.parametrize("page", PAGES, ids=[page.file.removesuffix(".html") for page in PAGES])
def test_hidden_review_is_captured_and_the_bundle_passes_the_standard_verifiers(
    captured: dict[str, Captured], review_site: ReviewSite, page: ReviewPage
):
    item = captured[page.id]
    assert item.error is None, repr(item.error)
    # the marker is not in the page as served: only the right interaction brings it
    assert page.marker not in _raw_html(review_site, page)
    text = item.member("data/page.txt").decode("utf-8")
    html = item.member("data/page.html").decode("utf-8-sig")
    assert page.marker in text or page.marker in html

    actions = item.actions()
    banners = [a for a in actions if a["action"] == "consent-banner"]
    has_screenshot = any(n.endswith("data/provenance/consent-banner.png") for n in item.members())
    if page.cmp is None:
        assert (banners, has_screenshot) == ([], False)
    else:
        assert [(b["cmp"], b["choice"]) for b in banners] == [(page.cmp, c) for c in page.choices]
        assert banners[0]["screenshot"] == "provenance/consent-banner.png"
        assert has_screenshot
        assert item.member("data/provenance/consent-banner.png")[:8] == b"\x89PNG\r\n\x1a\n"
        first = banners[0]
        assert first["frame_kind"] == (
            "cadre (iframe)" if page.consent_in_frame else "page principale"
        )
        assert first["shadow_root"] is page.consent_in_shadow
        consent_clicks = [a for a in actions if a["action"] == "click" and "cmp" in a]
        assert [c["purpose"] for c in consent_clicks] == [f"consent-{c}" for c in page.choices]
        assert all(c["frame"] == b["frame"] for c, b in zip(consent_clicks, banners, strict=True))

    assert item.verify is not None
    stdout, stderr = item.verify.communicate(timeout=180)
    assert (item.verify.returncode, stdout.splitlines()) == (0, ALL_OK), stderr


def test_a_banner_offering_only_refusals_is_never_reported_as_accepted(
    captured: dict[str, Captured],
):
    # given p08, whose banner offers « Continuer sans accepter → », « Personnaliser » and
    # « Refuser » but no acceptance
    item = captured["p08"]
    actions = item.actions()
    # then one refusal was clicked, nothing was accepted, and the content showed
    clicks = [(a["purpose"], a["text"]) for a in actions if a["action"] == "click"]
    assert clicks == [("consent-refuse", "Continuer sans accepter →")]
    assert [a["choice"] for a in actions if a["action"] == "consent-banner"] == ["refuse"]
    assert not [a for a in actions if a.get("purpose") == "consent-accept"]
    assert PAGES_BY_ID["p08"].marker in item.member("data/page.txt").decode("utf-8")


def test_a_cross_origin_widget_is_expanded_in_its_own_frame(captured: dict[str, Captured]):
    # given p17, whose reviews sit in an iframe served by the second origin (127.0.0.3)
    item = captured["p17"]
    clicks = [a for a in item.actions() if a["action"] == "click"]
    # then « Charger plus » was clicked in that frame until the widget had no more reviews
    assert [(c["purpose"], c["text"], c["frame_kind"]) for c in clicks] == [
        ("load-more", "Charger plus", "cadre (iframe)")
    ] * 2
    assert all(c["frame"].startswith(f"http://{CROSS_HOST}:") for c in clicks)


def test_every_page_of_the_site_is_captured_within_budget(captured: dict[str, Captured]):
    # the whole site (23 pages) is captured and bundled, each page well inside its budget
    slow = {pid: round(item.seconds, 1) for pid, item in captured.items() if item.seconds > 20}
    assert (len(captured), slow) == (len(PAGES), {})


def test_a_load_more_link_to_another_address_is_clicked_but_not_followed(
    review_site: ReviewSite, browser_thread_shared: BrowserThread, tmp_path: Path
):
    # given a « Afficher les avis suivants » that is a plain link to page 2, with no script
    url = review_site.url(PLAIN_LINK_PAGE)
    result = browser_thread_shared.call(
        _capture_in_thread,
        browser_thread_shared,
        url=url,
        out_dir=tmp_path / "c",
        chromium_path=CHROMIUM,
        allow=ALLOW,
        timeout_s=15,
        idle_timeout_s=3,
        behaviors_timeout_s=10,
    )
    # then the click is logged once, its navigation cancelled, and page 2 never requested
    actions = result.actions
    clicks = [(a["purpose"], a["text"]) for a in actions if a["action"] == "click"]
    assert clicks == [("load-more", "Afficher les avis suivants")]
    assert [a["action"] for a in actions if a["action"] == "link-not-followed"] == [
        "link-not-followed"
    ]
    assert result.final_url == url
    assert [hit for hit in review_site.hits if hit.startswith(f"/{PLAIN_LINK_PAGE}?")] == []
