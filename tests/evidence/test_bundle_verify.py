"""Verifying bundles (evidence/verify.py) agrees with the standard tools, good or tampered."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import shutil
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from asn1crypto import cms, tsp, x509
from warcio.archiveiterator import ArchiveIterator

from evidence.pki import tsa_pki_generate
from evidence.seal import pem_to_der
from evidence.tsa_server import TsaServer
from evidence.verify import CheckVerdict, bundle_verdicts_ok, bundle_verify
from tests.evidence.conftest import (
    CAPTURE_ID,
    PAGE_HTML,
    PAGE_URL,
    VENV_BIN,
    VERIFY_BUNDLE_SH,
    bundle_build_for_test,
    rezip,
    run,
    unzip_to,
)

BAG = f"evidence-{CAPTURE_ID}"
ALL_CHECKS = ["archive", "structure", "bagit", "sha256", "timestamp", "signature", "wacz", "warc"]
WARC_IN_WACZ = "archive/capture.warc.gz"
BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# Where to flip one byte of a file: a function of the file's bytes returning an offset, chosen by
# parsing the file so that the flip always lands in the same meaningful field.
Position = Callable[[bytes], int]


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def _first(needle: bytes, at: int = 0) -> Position:
    """The byte ``at`` (negative: from its end) of the first occurrence of ``needle``."""
    return lambda data: data.index(needle) + at % len(needle)


def _manifest_digest(name: str) -> Position:
    """The first decimal digit of ``name``'s digest: flipped, it is still a hex digit (a, f not)."""

    def position(data: bytes) -> int:
        lines = [
            line
            for line in data.splitlines(keepends=True)
            if line.endswith(b"  " + name.encode() + b"\n")
        ]
        assert len(lines) == 1, (name, lines)
        start = data.index(lines[0])
        digest = lines[0].split(b" ")[0]
        return start + next(i for i, char in enumerate(digest) if chr(char).isdigit())

    return position


def _json_value(key: str, *, line: int = 0, at: int = 0) -> Position:
    """The character ``at`` of the string value of ``key`` on JSON line ``line`` (ASCII values)."""

    def position(data: bytes) -> int:
        lines = data.splitlines(keepends=True)
        value = json.loads(lines[line])[key]
        pair = f"{json.dumps(key)}: {json.dumps(value)}".encode()
        assert lines[line].count(pair) == 1, (key, lines[line])
        start = sum(len(previous) for previous in lines[:line]) + lines[line].index(pair)
        return start + len(pair) - 1 - len(value) + at % len(value)

    return position


def _pem_public_key(data: bytes) -> int:
    """A base64 character of a PEM certificate that encodes only bits of its public key.

    The character is taken at the middle of the key's BIT STRING and is one that, flipped, is
    still base64: the certificate still decodes, to the same DER except inside the key.
    """
    begin = data.index(b"\n", data.index(b"-----BEGIN CERTIFICATE-----")) + 1
    end = data.index(b"-----END CERTIFICATE-----")
    body = [i for i in range(begin, end) if data[i] not in b"\r\n"]  # offsets of the base64
    der = base64.b64decode(bytes(data[i] for i in body))
    key = x509.Certificate.load(der).public_key["public_key"].contents
    key_start = der.index(key)
    middle = (key_start + len(key) // 2) * 4 // 3  # a character encoding bits of that byte
    char = next(k for k in range(middle, len(body)) if data[body[k]] ^ 0x01 in BASE64)
    tampered = base64.b64decode(bytes(_flip(data, body[char])[i] for i in body))
    changed = [i for i, (a, b) in enumerate(zip(der, tampered, strict=True)) if a != b]
    assert changed and key_start < changed[0] <= changed[-1] < key_start + len(key), changed
    return body[char]


def _png_idat(data: bytes) -> int:
    """The middle byte of the IDAT chunk's data (the compressed pixels)."""
    offset = 8  # PNG signature
    while data[offset + 4 : offset + 8] != b"IDAT":
        offset += 12 + int.from_bytes(data[offset : offset + 4], "big")
    return offset + 8 + int.from_bytes(data[offset : offset + 4], "big") // 2


def _signature_value_end(signed_data: Callable[[bytes], cms.SignedData]) -> Position:
    """The last byte of the file, asserted to be the last byte of the signature value.

    The .tsr (TimeStampResp) and .p7s (ContentInfo) end with their only SignerInfo, which has no
    unsigned attributes, so their last byte is the last byte of the signature (ECDSA's s).
    """

    def position(data: bytes) -> int:
        (signer,) = signed_data(data)["signer_infos"]
        assert data.endswith(signer["signature"].native)
        return len(data) - 1

    return position


def _wacz_payload_flipped(wacz: bytes) -> bytes:
    """The WACZ with one byte of the archived page itself (the HTTP payload) flipped.

    The WARC's response record is decompressed, ``mauvais`` of the review in its payload becomes
    ``lauvais``, and the record is re-compressed as one gzip member (as warcio writes them) with
    its WARC headers untouched, so WARC-Block-Digest and WARC-Payload-Digest no longer match.
    The WACZ is re-packed with the same members, order, compression and dates: it is a valid
    ZIP, and only the WARC (so its hash in datapackage.json) differs.
    """
    with zipfile.ZipFile(io.BytesIO(wacz)) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info, content in members:
            copy = zipfile.ZipInfo(info.filename, info.date_time)
            copy.compress_type = info.compress_type
            copy.external_attr = info.external_attr
            tampered = _warc_payload_flipped(content) if info.filename == WARC_IN_WACZ else content
            archive.writestr(copy, tampered)
    return out.getvalue()


def _warc_payload_flipped(warc: bytes) -> bytes:
    iterator = ArchiveIterator(io.BytesIO(warc))
    for record in iterator:
        payload = record.raw_stream.read()
        uri = record.rec_headers.get_header("WARC-Target-URI")
        if record.rec_type == "response" and uri == PAGE_URL:
            block_length = int(record.rec_headers.get_header("Content-Length"))
            start = iterator.get_record_offset()
            end = start + iterator.get_record_length()  # this record's gzip member
            break
    else:
        raise AssertionError("no response record for the page in the WARC")
    assert payload == PAGE_HTML
    member = zlib.decompressobj(wbits=zlib.MAX_WBITS + 16)
    raw = member.decompress(warc[start:end])
    assert member.eof and not member.unused_data
    payload_start = raw.index(b"\r\n\r\n") + 4 + block_length - len(payload)
    assert raw[payload_start : payload_start + len(payload)] == payload
    raw = _flip(raw, payload_start + payload.index(b"mauvais"))
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return warc[:start] + compressor.compress(raw) + compressor.flush() + warc[end:]


class Tampering(NamedTuple):
    tamper: Callable[[bytes], bytes]  # the file's bytes -> the same with one byte flipped
    standard: set[str]  # checks failing in verify-bundle.sh (standard tools only)
    ours: set[str]  # checks failing in bundle_verify


def _at(position: Position, standard: set[str], ours: set[str]) -> Tampering:
    return Tampering(lambda data: _flip(data, position(data)), standard, ours)


# For each file of the bag: which byte is flipped, and which checks then fail in
# verify-bundle.sh and in bundle_verify. Each byte is found by parsing the file and lies in the
# field named below; the file keeps its structure, so what catches the flip is the manifest
# covering the file (bagit, sha256: manifest-sha256.txt for data/…, tagmanifest-sha256.txt for
# the tag files), plus the checks that use that field.
_MANIFEST = ({"bagit"}, {"bagit", "sha256"})
TAMPERINGS: dict[str, Tampering] = {
    # BagIt-Version 1.0 -> 1.1, a version bagit.py accepts
    "bagit.txt": _at(_first(b"BagIt-Version: 1.0", at=-1), *_MANIFEST),
    # Contact-Email preuves@ -> qreuves@; External-Identifier (checked by "structure") untouched
    "bag-info.txt": _at(_first(b"Contact-Email: p", at=-1), *_MANIFEST),
    # a digit of data/page.html's digest: every file is still listed ("structure" passes),
    # page.html no longer matches its digest
    "manifest-sha256.txt": _at(_manifest_digest("data/page.html"), *_MANIFEST),
    # a digit of bagit.txt's digest; the timestamp and the seal are over this very file
    "tagmanifest-sha256.txt": _at(
        _manifest_digest("bagit.txt"),
        {"bagit", "timestamp", "signature"},
        {"bagit", "sha256", "timestamp", "signature"},
    ),
    # the last byte of the signature value, which openssl checks (bytes of their unsigned
    # envelope are covered by test_unsigned_envelope_bytes_...: openssl misses some of them)
    "tagmanifest-sha256.txt.tsr": _at(
        _signature_value_end(
            lambda der: tsp.TimeStampResp.load(der)["time_stamp_token"]["content"]
        ),
        {"timestamp"},
        {"timestamp"},
    ),
    "tagmanifest-sha256.txt.p7s": _at(
        _signature_value_end(lambda der: cms.ContentInfo.load(der)["content"]),
        {"signature"},
        {"signature"},
    ),
    # the trust anchor named in the first openssl command: certs/tsa-ca.pem -> certs/tsa-ba.pem
    "VERIFY.md": _at(
        _first(b"-CAfile certs/tsa-ca.pem", at=len(b"-CAfile certs/tsa-")), *_MANIFEST
    ),
    # the CA's public key (no longer a point of the curve): the TSA certificate has no issuer
    "certs/tsa-ca.pem": _at(
        _pem_public_key, {"bagit", "timestamp"}, {"bagit", "sha256", "timestamp"}
    ),
    # the TSA's public key, which the token's signature is checked against (bundle_verify also
    # finds it differs from the token's embedded certificate)
    "certs/tsa.pem": _at(_pem_public_key, {"bagit", "timestamp"}, {"bagit", "sha256", "timestamp"}),
    # the CA's public key (no longer a point of the curve): the seal certificate has no issuer
    "certs/seal-ca.pem": _at(
        _pem_public_key, {"bagit", "signature"}, {"bagit", "sha256", "signature"}
    ),
    # its public key; openssl cms uses the certificate embedded in the .p7s, so certs/seal.pem
    # is caught by bagit (and by bundle_verify, which requires the embedded one to be this one)
    "certs/seal.pem": _at(_pem_public_key, {"bagit"}, {"bagit", "sha256", "signature"}),
    # the archived page inside the WARC (see _wacz_payload_flipped): the WARC no longer matches
    # its hash in datapackage.json (wacz) nor its record's block/payload digests (warcio check)
    "data/capture.wacz": Tampering(
        _wacz_payload_flipped,
        {"bagit", "wacz", "warc capture.warc.gz"},
        {"bagit", "sha256", "wacz", "warc capture.warc.gz"},
    ),
    # the review text, « Très mauvais accueil » -> « Très lauvais accueil »
    "data/page.html": _at(_first(b"mauvais"), *_MANIFEST),
    "data/page.txt": _at(_first(b"mauvais"), *_MANIFEST),
    # the version in the header, %PDF-1.4 -> %PDF-1.5
    "data/page.pdf": _at(_first(b"%PDF-1.4", at=-1), *_MANIFEST),
    "data/report.pdf": _at(_first(b"%PDF-1.4", at=-1), *_MANIFEST),
    # the compressed pixels, mid IDAT (the chunk's CRC, which no check reads, then mismatches)
    "data/screenshot-full.png": _at(_png_idat, *_MANIFEST),
    "data/screenshot-viewport.png": _at(_png_idat, *_MANIFEST),
    # a value of the provenance, the files still parse: the navigated URL (dr-martin ->
    # er-martin), the link of custody entry 2 to entry 1 (9f2c -> 8f2c), the clock source,
    # the browser, the server IP (127.0.0.1 -> 127.0.0.0)
    "data/provenance/actions.jsonl": _at(_json_value("url", at=-len("dr-martin")), *_MANIFEST),
    "data/provenance/custody.jsonl": _at(_json_value("prev", line=1), *_MANIFEST),
    "data/provenance/clock.json": _at(_json_value("source"), *_MANIFEST),
    "data/provenance/environment.json": _at(_json_value("browser"), *_MANIFEST),
    "data/provenance/network.json": _at(_json_value("server_ip", at=-1), *_MANIFEST),
    # a base64 character of the (placeholder) certificate, MIIB -> LIIB
    "data/provenance/tls/avis.example.test.pem": _at(_first(b"MIIB"), *_MANIFEST),
}


def _standard_failures(zip_path: Path) -> tuple[int, set[str]]:
    """Run verify-bundle.sh (unzip, bagit, openssl, wacz, warcio); return rc and failed checks."""
    env = {**os.environ, "VERIFY_VENV": str(VENV_BIN.parent)}
    result = run(["bash", str(VERIFY_BUNDLE_SH), str(zip_path)], env=env)
    failed = {
        line.removeprefix("FAIL ").split(":")[0]
        for line in result.stdout.splitlines()
        if line.startswith("FAIL ")
    }
    return result.returncode, failed


def _failed(verdicts: list[CheckVerdict]) -> set[str]:
    return {verdict.name for verdict in verdicts if not verdict.ok}


def _tampered_zip(zip_path: Path, tmp_path: Path, relative: str, position: int | None = None):
    """The bundle with ``relative`` tampered as in TAMPERINGS, or flipped at ``position``."""
    bag = unzip_to(zip_path, tmp_path / "unzipped")
    target = bag / relative
    data = target.read_bytes()
    tampered = TAMPERINGS[relative].tamper(data) if position is None else _flip(data, position)
    if relative != "data/capture.wacz":  # flipped inside its WARC: _wacz_payload_flipped
        assert sum(a != b for a, b in zip(data, tampered, strict=True)) == 1
    target.write_bytes(tampered)
    return rezip(bag, tmp_path / f"{BAG}.zip"), bag


def test_good_bundle_passes_every_check(built_bundle):
    # when
    verdicts = bundle_verify(zip_path=built_bundle.result.zip_path)

    # then
    gen_time = built_bundle.result.gen_time
    assert [(v.name, v.ok) for v in verdicts] == [
        (name, True) for name in ALL_CHECKS[:-1] + ["warc capture.warc.gz"]
    ]
    details = {v.name: v.detail for v in verdicts}
    assert details["structure"] == "24 fichiers, tous couverts"
    assert details["sha256"] == "21 empreintes SHA-256 recalculées et conformes"
    assert details["timestamp"] == (
        f"horodatage RFC 3161 valide, émis le {gen_time:%Y-%m-%d %H:%M:%S} UTC "
        f"(-attime {int(gen_time.timestamp())})"
    )
    assert details["signature"] == (
        "cachet CMS valide de « Common Name: Mutuelle Exemple des Médecins - cachet, "
        "Organization: Mutuelle Exemple des Médecins, Country: FR »"
    )
    assert bundle_verdicts_ok(verdicts=verdicts) is True
    assert _standard_failures(built_bundle.result.zip_path) == (0, set())


def test_every_file_of_the_bundle_is_listed_in_the_tamper_table(built_bundle, tmp_path):
    bag = unzip_to(built_bundle.result.zip_path, tmp_path)
    files = sorted(p.relative_to(bag).as_posix() for p in bag.rglob("*") if p.is_file())
    assert files == sorted(TAMPERINGS)


@pytest.mark.parametrize("relative", sorted(TAMPERINGS))
def test_flipping_one_byte_of_any_file_fails_standard_tools_and_bundle_verify(
    built_bundle, tmp_path, relative
):
    # given
    zip_path, _ = _tampered_zip(built_bundle.result.zip_path, tmp_path, relative)
    _, standard_expected, ours_expected = TAMPERINGS[relative]

    # when
    standard_rc, standard_failed = _standard_failures(zip_path)
    verdicts = bundle_verify(zip_path=zip_path)

    # then
    assert (standard_rc, standard_failed) == (1, standard_expected)
    assert _failed(verdicts) == ours_expected
    assert bundle_verdicts_ok(verdicts=verdicts) is False


def _tsr_offsets(bag: Path) -> dict[str, int]:
    tsr = (bag / "tagmanifest-sha256.txt.tsr").read_bytes()
    cert = pem_to_der((bag / "certs/tsa.pem").read_bytes())
    assert tsr[4:9] == b"\x30\x03\x02\x01\x00"  # status: PKIStatus granted (0)
    return {"status": 8, "embedded certificate": tsr.find(cert) + len(cert) // 2}


@pytest.mark.parametrize(
    ("field", "detail"),
    [
        ("status", "jeton d'horodatage invalide : horodatage refusé : statut granted_with_mods"),
        (
            "embedded certificate",
            "jeton d'horodatage invalide : signature du jeton : "
            "le certificat joint n'est pas celui désigné par la signature",
        ),
    ],
)
def test_unsigned_envelope_bytes_of_the_timestamp_are_caught_by_bundle_verify(
    built_bundle, tmp_path, field, detail
):
    # given a flip in a part of the .tsr that the TSA signature does not cover
    bag = unzip_to(built_bundle.result.zip_path, tmp_path / "probe")
    position = _tsr_offsets(bag)[field]
    zip_path, tampered = _tampered_zip(
        built_bundle.result.zip_path, tmp_path, "tagmanifest-sha256.txt.tsr", position
    )

    # when
    openssl = run(
        ["openssl", "ts", "-verify", "-data", "tagmanifest-sha256.txt",
         "-in", "tagmanifest-sha256.txt.tsr",
         "-CAfile", "certs/tsa-ca.pem", "-untrusted", "certs/tsa.pem"],
        cwd=tampered,
    )  # fmt: skip
    verdicts = {v.name: v for v in bundle_verify(zip_path=zip_path)}

    # then openssl alone does not notice (it trusts certs/tsa.pem and accepts grantedWithMods),
    # which is why bundle_verify pins these bytes
    assert openssl.returncode == 0
    assert (verdicts["timestamp"].ok, verdicts["timestamp"].detail) == (False, detail)


def test_file_slipped_in_outside_the_manifests_is_caught(built_bundle, tmp_path):
    # given
    bag = unzip_to(built_bundle.result.zip_path, tmp_path / "unzipped")
    (bag / "NOTE.txt").write_text("ajouté après coup\n")
    zip_path = rezip(bag, tmp_path / f"{BAG}.zip")

    # when
    bagit_rc = run([str(VENV_BIN / "python"), "-m", "bagit", "--validate", "."], cwd=bag).returncode
    verdicts = {v.name: v for v in bundle_verify(zip_path=zip_path)}

    # then bagit ignores unlisted tag files; bundle_verify does not
    assert bagit_rc == 0
    assert (verdicts["structure"].ok, verdicts["structure"].detail) == (
        False,
        "fichiers hors de tout manifeste : NOTE.txt",
    )


def test_expired_tsa_certificate_verifies_only_at_gen_time(tmp_path, capture_data_dir, seal_pki):
    # given a TSA whose certificate was valid from three years ago until one year ago, and a
    # bundle timestamped two years ago, inside that validity
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    expired = tsa_pki_generate(
        common_name="TSA expirée",
        not_before=now - dt.timedelta(days=3 * 365),
        not_after=now - dt.timedelta(days=365),
    )
    issued_at = now - dt.timedelta(days=2 * 365)
    with TsaServer(pki=expired, clock=lambda: issued_at) as server:
        result = bundle_build_for_test(
            data_dir=capture_data_dir,
            out_dir=tmp_path / "out",
            tsa_url=server.url,
            tsa=expired,
            seal=seal_pki,
        )
    bag = unzip_to(result.zip_path, tmp_path / "unzipped")
    command = [
        "openssl", "ts", "-verify", "-data", "tagmanifest-sha256.txt",
        "-in", "tagmanifest-sha256.txt.tsr",
        "-CAfile", "certs/tsa-ca.pem", "-untrusted", "certs/tsa.pem",
    ]  # fmt: skip

    verify_md = (bag / "VERIFY.md").read_text("utf-8")
    attime_snippet = verify_md.split("### Certificat de l'autorité d'horodatage expiré")[1]
    attime_snippet = attime_snippet.split("```sh\n")[1].split("```")[0]

    # when
    today = run(command, cwd=bag)
    at_gen_time = run([*command, "-attime", str(int(issued_at.timestamp()))], cwd=bag)
    as_documented = run(["bash", "-c", attime_snippet], cwd=bag)
    verdicts = {v.name: v for v in bundle_verify(zip_path=result.zip_path)}

    # then
    assert result.gen_time == issued_at
    assert today.returncode == 1
    assert "certificate has expired" in today.stdout + today.stderr
    assert (at_gen_time.returncode, at_gen_time.stdout.strip()) == (0, "Verification: OK")
    assert (as_documented.returncode, as_documented.stdout.strip()) == (0, "Verification: OK")
    assert verdicts["timestamp"].ok is True
    assert _standard_failures(result.zip_path) == (0, set())


def test_unreadable_archive_fails_every_check(tmp_path):
    # given
    zip_path = tmp_path / f"{BAG}.zip"
    zip_path.write_bytes(b"PK\x03\x04 not really a zip")

    # when
    verdicts = bundle_verify(zip_path=zip_path)

    # then
    assert [(v.name, v.ok) for v in verdicts] == [(name, False) for name in ALL_CHECKS]
    assert verdicts[1].detail == "non vérifié : archive illisible"


def test_archive_escaping_its_folder_is_refused(built_bundle, tmp_path):
    # given a bundle with an extra entry that would unzip outside the bag
    zip_path = tmp_path / f"{BAG}.zip"
    shutil.copy(built_bundle.result.zip_path, zip_path)
    with zipfile.ZipFile(zip_path, "a") as archive:
        archive.writestr(f"{BAG}/../../evil.txt", "x")

    # when
    verdicts = bundle_verify(zip_path=zip_path)

    # then
    assert (verdicts[0].name, verdicts[0].ok) == ("archive", False)
    assert verdicts[0].detail == (
        f"archive illisible : chemin dangereux dans l'archive : '{BAG}/../../evil.txt'"
    )
    assert not (tmp_path.parent / "evil.txt").exists()
