"""Packaging a capture's WARCs as a WACZ that the standard validators accept."""

from __future__ import annotations

import json
import zipfile

import pytest

from evidence.wacz_pack import WaczPackError, wacz_pack
from tests.evidence.conftest import PAGE_HTML, PAGE_TS, PAGE_URL, VENV_BIN, run, warc_write


def test_synthetic_warc_passes_warcio_check(tmp_path):
    # given / when
    warc = warc_write(path=tmp_path / "c.warc.gz", url=PAGE_URL, html=PAGE_HTML, when=PAGE_TS)
    checked = run([str(VENV_BIN / "warcio"), "check", "-v", str(warc)])

    # then both records pass their digests
    assert checked.returncode == 0
    assert checked.stdout.count("digest pass") == 2


def test_wacz_passes_wacz_validate_and_carries_the_main_page(tmp_path):
    # given
    warc = warc_write(path=tmp_path / "c.warc.gz", url=PAGE_URL, html=PAGE_HTML, when=PAGE_TS)

    # when
    wacz = wacz_pack(
        warc_paths=[warc],
        out_path=tmp_path / "capture.wacz",
        url=PAGE_URL,
        title="Avis",
        ts=PAGE_TS,
    )

    # then
    validated = run([str(VENV_BIN / "wacz"), "validate", "-f", str(wacz)])
    assert validated.returncode == 0
    assert "Validation succeeded" in validated.stdout
    with zipfile.ZipFile(wacz) as archive:
        package = json.loads(archive.read("datapackage.json"))
        stored = {i.filename: i.compress_type for i in archive.infolist()}
        pages = archive.read("pages/pages.jsonl").decode().splitlines()
    assert package["home"] == {"url": PAGE_URL, "ts": "2026-03-14T09:26:53Z"}
    assert (package["wacz_version"], package["title"]) == ("1.1.1", "Avis")
    assert sorted(stored) == [
        "archive/c.warc.gz",
        "datapackage-digest.json",
        "datapackage.json",
        "indexes/index.cdx.gz",
        "indexes/index.idx",
        "pages/pages.jsonl",
    ]
    # the WACZ spec requires WARCs and compressed indexes to be STORED (random access)
    assert stored["archive/c.warc.gz"] == zipfile.ZIP_STORED
    assert stored["indexes/index.cdx.gz"] == zipfile.ZIP_STORED
    page = json.loads(pages[1])
    assert (page["url"], page["ts"], page["title"]) == (
        PAGE_URL,
        "2026-03-14T09:26:53Z",
        "Dr Martin - avis",
    )
    assert not (tmp_path / "capture.wacz.partial").exists()


def test_warcs_inside_the_wacz_pass_warcio_check(tmp_path):
    # given
    warc = warc_write(path=tmp_path / "c.warc.gz", url=PAGE_URL, html=PAGE_HTML, when=PAGE_TS)
    wacz = wacz_pack(
        warc_paths=[warc], out_path=tmp_path / "capture.wacz", url=PAGE_URL, title="A", ts=PAGE_TS
    )

    # when
    with zipfile.ZipFile(wacz) as archive:
        archive.extract("archive/c.warc.gz", tmp_path / "x")
    checked = run([str(VENV_BIN / "warcio"), "check", str(tmp_path / "x/archive/c.warc.gz")])

    # then
    assert checked.returncode == 0


def test_main_page_missing_from_the_warc_fails_and_leaves_no_file(tmp_path):
    # given
    warc = warc_write(path=tmp_path / "c.warc.gz", url=PAGE_URL, html=PAGE_HTML, when=PAGE_TS)
    out = tmp_path / "capture.wacz"

    # when / then
    with pytest.raises(WaczPackError, match="wacz create a échoué"):
        wacz_pack(
            warc_paths=[warc],
            out_path=out,
            url="https://ailleurs.example.test/",
            title="A",
            ts=None,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.warc.gz"]


def test_existing_output_is_never_overwritten(tmp_path):
    # given
    warc = warc_write(path=tmp_path / "c.warc.gz", url=PAGE_URL, html=PAGE_HTML, when=PAGE_TS)
    out = tmp_path / "capture.wacz"
    out.write_bytes(b"earlier capture")

    # when / then
    with pytest.raises(FileExistsError):
        wacz_pack(warc_paths=[warc], out_path=out, url=PAGE_URL, title="A", ts=PAGE_TS)
    assert out.read_bytes() == b"earlier capture"
