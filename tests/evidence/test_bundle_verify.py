"""Verifying bundles (evidence/verify.py) agrees with the standard tools, good or tampered."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from evidence.pki import tsa_pki_generate
from evidence.seal import pem_to_der
from evidence.tsa_server import TsaServer
from evidence.verify import CheckVerdict, bundle_verdicts_ok, bundle_verify
from tests.evidence.conftest import (
    CAPTURE_ID,
    VENV_BIN,
    VERIFY_BUNDLE_SH,
    bundle_build_for_test,
    rezip,
    run,
    unzip_to,
)

BAG = f"evidence-{CAPTURE_ID}"
ALL_CHECKS = ["archive", "structure", "bagit", "sha256", "timestamp", "signature", "wacz", "warc"]

# For each file of the bag: which checks fail once one of its bytes is flipped, in
# verify-bundle.sh (standard tools only) and in bundle_verify. Payload and tag files are caught
# by the manifests; the .tsr/.p7s by openssl; certificates also by the check that uses them.
TAMPER_EXPECTATIONS: dict[str, tuple[set[str], set[str]]] = {
    "bagit.txt": ({"bagit"}, {"bagit", "sha256"}),
    "bag-info.txt": ({"bagit"}, {"bagit", "sha256"}),
    # the middle byte of the manifest falls in a file name: the real file is then unlisted
    "manifest-sha256.txt": ({"bagit"}, {"bagit", "sha256", "structure"}),
    "tagmanifest-sha256.txt": (
        {"bagit", "timestamp", "signature"},
        {"bagit", "sha256", "timestamp", "signature"},
    ),
    "tagmanifest-sha256.txt.tsr": ({"timestamp"}, {"timestamp"}),
    "tagmanifest-sha256.txt.p7s": ({"signature"}, {"signature"}),
    "VERIFY.md": ({"bagit"}, {"bagit", "sha256"}),
    "certs/tsa-ca.pem": ({"bagit", "timestamp"}, {"bagit", "sha256", "timestamp"}),
    "certs/tsa.pem": ({"bagit", "timestamp"}, {"bagit", "sha256", "timestamp"}),
    "certs/seal-ca.pem": ({"bagit", "signature"}, {"bagit", "sha256", "signature"}),
    # openssl cms uses the certificate embedded in the .p7s; certs/seal.pem is caught by bagit
    # (and by bundle_verify, which requires the embedded certificate to be this one)
    "certs/seal.pem": ({"bagit"}, {"bagit", "sha256", "signature"}),
    "data/capture.wacz": (
        {"bagit", "wacz", "warc capture.warc.gz"},
        {"bagit", "sha256", "wacz", "warc"},
    ),
    **{
        f"data/{name}": ({"bagit"}, {"bagit", "sha256"})
        for name in [
            "page.html",
            "page.pdf",
            "page.txt",
            "report.pdf",
            "screenshot-full.png",
            "screenshot-viewport.png",
            "provenance/actions.jsonl",
            "provenance/clock.json",
            "provenance/custody.jsonl",
            "provenance/environment.json",
            "provenance/network.json",
            "provenance/tls/avis.example.test.pem",
        ]
    },
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


def _flip_position(path: Path, data: bytes, relative: str) -> int:
    """Which byte to flip.

    - the WACZ: the middle byte of the archived WARC inside it, so the change hits the web
      archive itself rather than ZIP bookkeeping;
    - the .tsr/.p7s: the last byte, inside the signature value. Bytes of their *unsigned*
      envelope are covered separately (test_unsigned_envelope_bytes_...), because
      openssl does not check all of them;
    - anything else: the middle byte.
    """
    if relative == "data/capture.wacz":
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("archive/capture.warc.gz")
        header = 30 + len(info.filename.encode()) + len(info.extra)
        return info.header_offset + header + info.compress_size // 2
    if relative.endswith((".tsr", ".p7s")):
        return len(data) - 1
    return len(data) // 2


def _tampered_zip(zip_path: Path, tmp_path: Path, relative: str, position: int | None = None):
    bag = unzip_to(zip_path, tmp_path / "unzipped")
    target = bag / relative
    data = bytearray(target.read_bytes())
    index = _flip_position(target, bytes(data), relative) if position is None else position
    data[index] ^= 0x01
    target.write_bytes(bytes(data))
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
    assert files == sorted(TAMPER_EXPECTATIONS)


@pytest.mark.parametrize("relative", sorted(TAMPER_EXPECTATIONS))
def test_flipping_one_byte_of_any_file_fails_standard_tools_and_bundle_verify(
    built_bundle, tmp_path, relative
):
    # given
    zip_path, _ = _tampered_zip(built_bundle.result.zip_path, tmp_path, relative)
    standard_expected, ours_expected = TAMPER_EXPECTATIONS[relative]

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
