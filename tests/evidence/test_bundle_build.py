"""Building the evidence bundle ZIP (evidence/bag.py): layout, hashes, tools, fail closed."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import zipfile
from pathlib import Path

import pytest
from asn1crypto import tsp

from evidence.bag import BundleError, bundle_build
from evidence.pki import seal_pki_generate, tsa_pki_generate
from evidence.seal import SealError
from evidence.timestamp import TimestampMismatch, TimestampRefused, TimestampUnavailable
from evidence.tsa_server import TsaBehaviour, TsaServer
from tests.evidence.conftest import (
    CAPTURE_ID,
    ORGANISATION,
    VENV_BIN,
    VERIFY_BUNDLE_SH,
    bundle_build_for_test,
    run,
    unzip_to,
)

BAG = f"evidence-{CAPTURE_ID}"
TAG_FILES = [
    "bagit.txt",
    "bag-info.txt",
    "manifest-sha256.txt",
    "VERIFY.md",
    "certs/tsa-ca.pem",
    "certs/tsa.pem",
    "certs/seal-ca.pem",
    "certs/seal.pem",
]
PAYLOAD = [
    "data/capture.wacz",
    "data/page.html",
    "data/page.pdf",
    "data/page.txt",
    "data/provenance/actions.jsonl",
    "data/provenance/clock.json",
    "data/provenance/custody.jsonl",
    "data/provenance/environment.json",
    "data/provenance/network.json",
    "data/provenance/tls/avis.example.test.pem",
    "data/report.pdf",
    "data/screenshot-full.png",
    "data/screenshot-viewport.png",
]
# The verification commands of EVIDENCE.md, which VERIFY.md must repeat verbatim.
EVIDENCE_MD_COMMANDS = [
    "unzip evidence-<id>.zip && cd evidence-<id>",
    "bagit.py --validate .",
    "openssl ts -verify -data tagmanifest-sha256.txt -in tagmanifest-sha256.txt.tsr \\\n"
    "        -CAfile certs/tsa-ca.pem -untrusted certs/tsa.pem",
    "openssl cms -verify -binary -inform DER -in tagmanifest-sha256.txt.p7s \\\n"
    "        -content tagmanifest-sha256.txt -CAfile certs/seal-ca.pem -purpose any -out /dev/null",
    "wacz validate -f data/capture.wacz",
]


def _bag(built_bundle, tmp_path) -> Path:
    return unzip_to(built_bundle.result.zip_path, tmp_path)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_zip_unzips_to_the_layout_of_evidence_md(built_bundle):
    # when
    with zipfile.ZipFile(built_bundle.result.zip_path) as archive:
        names = archive.namelist()

    # then
    assert built_bundle.result.zip_path.name == f"{BAG}.zip"
    assert sorted(names) == sorted(
        f"{BAG}/{name}"
        for name in [
            *TAG_FILES,
            "tagmanifest-sha256.txt",
            "tagmanifest-sha256.txt.tsr",
            "tagmanifest-sha256.txt.p7s",
            *PAYLOAD,
        ]
    )


def test_bag_info_records_organisation_capture_and_payload(
    built_bundle, tmp_path, capture_data_dir
):
    # given
    bag = _bag(built_bundle, tmp_path)
    payload_files = [p for p in capture_data_dir.rglob("*") if p.is_file()]
    payload_bytes = sum(p.stat().st_size for p in payload_files)

    # when
    lines = (bag / "bag-info.txt").read_text("utf-8").splitlines()

    # then
    assert lines == [
        f"Source-Organization: {ORGANISATION}",
        "Contact-Email: preuves@example.test",
        f"External-Identifier: {CAPTURE_ID}",
        f"Bagging-Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d')}",
        f"Payload-Oxum: {payload_bytes}.13",
        f"Bag-Size: {payload_bytes / 1024:.1f} KB",
        "Bag-Software-Agent: Egide evidence bundler (bagit.py 1.9.0 compatible)",
    ]
    assert (bag / "bagit.txt").read_text() == (
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    )


def test_manifests_cover_payload_and_every_tag_file(built_bundle, tmp_path):
    # given
    bag = _bag(built_bundle, tmp_path)

    # when
    manifest = (bag / "manifest-sha256.txt").read_text().splitlines()
    tagmanifest = (bag / "tagmanifest-sha256.txt").read_text().splitlines()

    # then
    assert manifest == [f"{_sha256(bag / name)}  {name}" for name in PAYLOAD]
    assert tagmanifest == [f"{_sha256(bag / name)}  {name}" for name in TAG_FILES]


def test_result_carries_the_hashes_and_gen_time_of_the_files(built_bundle, tmp_path):
    # given
    bag = _bag(built_bundle, tmp_path)
    result = built_bundle.result

    # when
    token = tsp.TimeStampResp.load((bag / "tagmanifest-sha256.txt.tsr").read_bytes())
    tst = token["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed

    # then
    files = sorted(p.relative_to(bag).as_posix() for p in bag.rglob("*") if p.is_file())
    assert sorted(result.file_sha256) == files
    assert result.file_sha256 == {name: _sha256(bag / name) for name in files}
    assert result.tagmanifest_sha256 == _sha256(bag / "tagmanifest-sha256.txt")
    assert result.zip_sha256 == _sha256(result.zip_path)
    assert result.gen_time == tst["gen_time"].native
    assert result.timestamp_serial == tst["serial_number"].native
    assert tst["message_imprint"]["hashed_message"].native.hex() == result.tagmanifest_sha256


def test_standard_tools_accept_the_bundle(built_bundle, tmp_path):
    # given
    bag = _bag(built_bundle, tmp_path)
    wacz_dir = tmp_path / "wacz"
    with zipfile.ZipFile(bag / "data/capture.wacz") as archive:
        archive.extractall(wacz_dir)
    commands = {
        "bagit": [str(VENV_BIN / "python"), "-m", "bagit", "--validate", "."],
        "sha256sum payload": ["sha256sum", "--strict", "-c", "manifest-sha256.txt"],
        "sha256sum tags": ["sha256sum", "--strict", "-c", "tagmanifest-sha256.txt"],
        "openssl ts": [
            "openssl", "ts", "-verify", "-data", "tagmanifest-sha256.txt",
            "-in", "tagmanifest-sha256.txt.tsr",
            "-CAfile", "certs/tsa-ca.pem", "-untrusted", "certs/tsa.pem",
        ],
        "openssl cms": [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER",
            "-in", "tagmanifest-sha256.txt.p7s", "-content", "tagmanifest-sha256.txt",
            "-CAfile", "certs/seal-ca.pem", "-purpose", "any", "-out", "/dev/null",
        ],
        "wacz": [str(VENV_BIN / "wacz"), "validate", "-f", "data/capture.wacz"],
        "warcio": [str(VENV_BIN / "warcio"), "check", str(wacz_dir / "archive/capture.warc.gz")],
    }  # fmt: skip

    # when
    results = {name: run(command, cwd=bag) for name, command in commands.items()}

    # then
    assert {name: r.returncode for name, r in results.items()} == dict.fromkeys(commands, 0)
    assert results["openssl ts"].stdout.strip() == "Verification: OK"
    assert "CMS Verification successful" in results["openssl cms"].stderr


def test_verify_bundle_script_accepts_the_bundle(built_bundle):
    # when
    env = {**os.environ, "VERIFY_VENV": str(VENV_BIN.parent)}
    result = run(["bash", str(VERIFY_BUNDLE_SH), str(built_bundle.result.zip_path)], env=env)

    # then
    assert (result.returncode, result.stdout.splitlines()) == (
        0,
        ["ok bagit", "ok timestamp", "ok signature", "ok wacz", "ok warc capture.warc.gz"],
    )


def test_verify_md_gives_the_evidence_md_commands_in_french_and_english(built_bundle, tmp_path):
    # when
    text = (_bag(built_bundle, tmp_path) / "VERIFY.md").read_text("utf-8")

    # then
    assert [command in text for command in EVIDENCE_MD_COMMANDS] == [True] * 5
    assert text.count("## Français") == 1
    assert text.count("## English") == 1
    assert '-attime "$(date -u -d "$GENTIME" +%s)"' in text
    assert "certificate has expired" in text
    assert "warcio check /tmp/wacz/archive/*.warc*" in text
    assert f"`{BAG}`" in text


def test_tsa_down_raises_and_leaves_nothing(tmp_path, capture_data_dir, tsa_pki, seal_pki):
    # given a TSA that is not listening any more
    server = TsaServer(pki=tsa_pki).start()
    url = server.url
    server.stop()
    out = tmp_path / "out"

    # when / then
    with pytest.raises(TimestampUnavailable):
        bundle_build_for_test(
            data_dir=capture_data_dir, out_dir=out, tsa_url=url, tsa=tsa_pki, seal=seal_pki
        )
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [
        (TsaBehaviour.REJECT, TimestampRefused),
        (TsaBehaviour.HTTP_ERROR, TimestampUnavailable),
        (TsaBehaviour.WRONG_NONCE, TimestampMismatch),
        (TsaBehaviour.WRONG_IMPRINT, TimestampMismatch),
    ],
)
def test_bad_tsa_answers_raise_and_leave_nothing(
    tmp_path, capture_data_dir, tsa_pki, seal_pki, tsa_server, behaviour, error
):
    # given
    tsa_server.behaviour = behaviour
    out = tmp_path / "out"

    # when / then
    with pytest.raises(error):
        bundle_build_for_test(
            data_dir=capture_data_dir,
            out_dir=out,
            tsa_url=tsa_server.url,
            tsa=tsa_pki,
            seal=seal_pki,
        )
    assert list(out.iterdir()) == []


def test_seal_key_not_matching_its_certificate_fails_before_timestamping(
    tmp_path, capture_data_dir, tsa_pki, seal_pki, tsa_server
):
    # given the key of another seal
    other = seal_pki_generate(organisation="Autre assureur", valid_days=5)
    out = tmp_path / "out"

    # when / then
    with pytest.raises(SealError, match="ne correspond pas au certificat"):
        bundle_build(
            capture_id=CAPTURE_ID,
            data_dir=capture_data_dir,
            out_dir=out,
            bag_info={"Source-Organization": ORGANISATION},
            tsa_url=tsa_server.url,
            tsa_chain_pem=tsa_pki.cert_pem,
            tsa_ca_pem=tsa_pki.ca_cert_pem,
            seal_key_pem=other.key_pem,
            seal_cert_pem=seal_pki.cert_pem,
            seal_ca_pem=seal_pki.ca_cert_pem,
            timeout=5,
        )
    assert list(out.iterdir()) == []
    assert tsa_server.requests_served == 0


def test_tsa_not_trusted_by_the_given_ca_fails_the_self_check(
    tmp_path, capture_data_dir, seal_pki, tsa_server, tsa_pki
):
    # given a TSA CA that did not issue the TSA certificate
    stranger = tsa_pki_generate(common_name="Autre TSA", valid_days=5)
    out = tmp_path / "out"

    # when / then
    with pytest.raises(BundleError, match="contrôle horodatage en échec avant emballage"):
        bundle_build(
            capture_id=CAPTURE_ID,
            data_dir=capture_data_dir,
            out_dir=out,
            bag_info={"Source-Organization": ORGANISATION},
            tsa_url=tsa_server.url,
            tsa_chain_pem=tsa_pki.cert_pem,
            tsa_ca_pem=stranger.ca_cert_pem,
            seal_key_pem=seal_pki.key_pem,
            seal_cert_pem=seal_pki.cert_pem,
            seal_ca_pem=seal_pki.ca_cert_pem,
            timeout=5,
        )
    assert list(out.iterdir()) == []


def test_missing_wacz_is_refused(tmp_path, tsa_pki, seal_pki, tsa_server):
    # given
    data = tmp_path / "data"
    data.mkdir()
    (data / "page.html").write_text("<html></html>")

    # when / then
    with pytest.raises(
        BundleError, match="fichier obligatoire absent des données : data/capture.wacz"
    ):
        bundle_build_for_test(
            data_dir=data,
            out_dir=tmp_path / "out",
            tsa_url=tsa_server.url,
            tsa=tsa_pki,
            seal=seal_pki,
        )
    assert tsa_server.requests_served == 0


def test_missing_source_organization_is_refused(tmp_path, capture_data_dir, tsa_pki, seal_pki):
    with pytest.raises(BundleError, match="manque : Source-Organization"):
        bundle_build(
            capture_id=CAPTURE_ID,
            data_dir=capture_data_dir,
            out_dir=tmp_path,
            bag_info={},
            tsa_url="http://127.0.0.1:9/",
            tsa_chain_pem=tsa_pki.cert_pem,
            tsa_ca_pem=tsa_pki.ca_cert_pem,
            seal_key_pem=seal_pki.key_pem,
            seal_cert_pem=seal_pki.cert_pem,
            seal_ca_pem=seal_pki.ca_cert_pem,
        )


def test_bundles_are_write_once(tmp_path, capture_data_dir, tsa_pki, seal_pki, tsa_server):
    # given a bundle already built for this capture
    first = bundle_build_for_test(
        data_dir=capture_data_dir,
        out_dir=tmp_path,
        tsa_url=tsa_server.url,
        tsa=tsa_pki,
        seal=seal_pki,
    )
    before = first.zip_path.read_bytes()

    # when / then
    with pytest.raises(FileExistsError):
        bundle_build_for_test(
            data_dir=capture_data_dir,
            out_dir=tmp_path,
            tsa_url=tsa_server.url,
            tsa=tsa_pki,
            seal=seal_pki,
        )
    assert first.zip_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{BAG}.zip"]
