"""Long-term validity: a bundle's timestamp renewal chain outlives its first TSA certificate.

A bundle is time-stamped by a first TSA whose certificate expires in a day; a renewal is made
with a second, long-lived TSA; then, "after the first certificate expired" (``-attime`` in the
future), the original token alone fails while the chain verifies, with ``evidence.verify`` and
with ``verify-bundle.sh`` (openssl + sha256sum). Real PostgreSQL, real TSAs on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client, override_settings
from django_tenants.utils import tenant_context

from evidence.models import Capture, CustodyEvent, EvidenceRenewal
from evidence.pki import TsaPki, tsa_pki_generate
from evidence.renewal import (
    RenewalError,
    capture_renew,
    captures_renew,
    renewal_due,
    renewals_zip,
)
from evidence.selectors import capture_verdicts
from evidence.timestamp import TimestampUnavailable
from evidence.tsa_server import TsaServer
from evidence.verify import CheckVerdict, bundle_verify
from tests.conftest import staff_login
from tests.evidence.conftest import VENV_BIN, VERIFY_BUNDLE_SH, bundle_build_for_test, run
from tests.tenants.factories import ClaimsHandlerFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
AFTER_FIRST_EXPIRY = NOW + dt.timedelta(days=3)


@dataclass
class Tsa:
    pki: TsaPki
    server: TsaServer
    cert: Path
    ca: Path


def _tsa(tmp: Path, name: str, **validity) -> Tsa:
    pki = tsa_pki_generate(common_name=name, **validity)
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "tsa.pem").write_bytes(pki.cert_pem)
    (tmp / "tsa-ca.pem").write_bytes(pki.ca_cert_pem)
    return Tsa(pki, TsaServer(pki=pki).start(), tmp / "tsa.pem", tmp / "tsa-ca.pem")


@pytest.fixture(scope="module")
def tsas(tmp_path_factory) -> Iterator[tuple[Tsa, Tsa]]:
    root = tmp_path_factory.mktemp("tsas")
    short = _tsa(root / "short", "TSA courte", not_after=NOW + dt.timedelta(days=1))
    long = _tsa(root / "long", "TSA longue", valid_days=3650)
    yield short, long
    short.server.stop()
    long.server.stop()


def _tsa_settings(tsa: Tsa, root: Path, **extra) -> override_settings:
    return override_settings(
        EGIDE_TSA_URL=tsa.server.url,
        EGIDE_TSA_CERT_FILE=str(tsa.cert),
        EGIDE_TSA_CA_FILE=str(tsa.ca),
        EGIDE_TSA_TIMEOUT_S=5.0,
        EGIDE_EVIDENCE_ROOT=str(root),
        **extra,
    )


@pytest.fixture
def setup(tmp_path, tsas, capture_data_dir, seal_pki, tenant_a):
    """A complete capture of test_a whose bundle was time-stamped by the short-lived TSA;
    settings point at the long-lived TSA (the one "configured today")."""
    short, long = tsas
    built = bundle_build_for_test(
        data_dir=capture_data_dir,
        out_dir=tmp_path / "built",
        tsa_url=short.server.url,
        tsa=short.pki,
        seal=seal_pki,
        capture_id="12-1",
    )
    with _tsa_settings(long, tmp_path / "root"), tenant_context(tenant_a.insurer):
        capture = Capture.objects.create(
            url="https://avis.example.test/",
            status=Capture.Status.COMPLETE,
            tagmanifest_sha256=built.tagmanifest_sha256,
            zip_sha256=built.zip_sha256,
            gen_time=built.gen_time,
        )
        storage = Capture._meta.get_field("bundle").storage
        capture.bundle.name = storage.save(
            f"bundles/{built.zip_path.name}", ContentFile(built.zip_path.read_bytes())
        )
        capture.save()
        yield capture, built


def _download(capture: Capture, target: Path) -> tuple[Path, Path]:
    """The bundle ZIP and the renewals folder side by side in ``target``, through the storage."""
    target.mkdir(parents=True, exist_ok=True)
    storage = Capture._meta.get_field("bundle").storage
    zip_path = target / Path(capture.bundle.name).name
    with storage.open(capture.bundle.name, "rb") as handle:
        zip_path.write_bytes(handle.read())
    packed = renewals_zip(capture=capture)
    assert packed is not None
    with zipfile.ZipFile(io.BytesIO(packed[1])) as archive:
        archive.extractall(target)
    return zip_path, target / packed[0].removesuffix(".zip")


def _script(zip_path: Path, renewals: Path | None, at: dt.datetime | None):
    env = {**os.environ, "VERIFY_VENV": str(VENV_BIN.parent)}
    if at is not None:
        env["VERIFY_AT"] = str(int(at.timestamp()))
    command = ["bash", str(VERIFY_BUNDLE_SH), str(zip_path)]
    result = run([*command, str(renewals)] if renewals else command, env=env)
    failed = {
        line.removeprefix("FAIL ").split(":")[0]
        for line in result.stdout.splitlines()
        if line.startswith("FAIL ")
    }
    return result, failed


def _failed(verdicts: list[CheckVerdict]) -> set[str]:
    return {v.name for v in verdicts if not v.ok}


def _rezip_with(zip_path: Path, member: str, content: bytes, out: Path) -> Path:
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, content if info.filename == member else src.read(info))
    return out


def test_renewal_chain_verifies_after_the_first_tsa_certificate_expired(setup, tmp_path):
    capture, built = setup
    # given a bundle whose TSA certificate expires tomorrow
    due = renewal_due(capture=capture)
    assert due is not None and due.reason == EvidenceRenewal.Reason.TSA_EXPIRY
    # when it is renewed with the long-lived TSA
    renewal = capture_renew(capture=capture, reason=due.reason, detail=due.detail)
    zip_path, folder = _download(capture, tmp_path / "dl")
    bag = zip_path.stem

    # then the renewal is recorded, with its custody event, and is no longer due
    assert (renewal.seq, renewal.hash_algorithm) == (1, "sha256")
    assert renewal.gen_time >= built.gen_time
    assert renewal.tsa_not_after > NOW + dt.timedelta(days=3000)
    event = CustodyEvent.objects.filter(capture=capture).latest("seq")
    assert event.kind == CustodyEvent.Kind.RENEWED
    assert event.get_kind_display() == "Horodatage renouvelé"
    assert event.detail["sha256"] == renewal.record_sha256
    assert renewal_due(capture=capture) is None
    record = (folder / "renewal-1.txt").read_text("utf-8")
    assert f"SHA256 ({bag}/tagmanifest-sha256.txt.tsr) = " in record
    assert f"SHA256 ({bag}/tagmanifest-sha256.txt.p7s) = " in record

    # the original token alone no longer verifies after its certificate expired
    unzipped = tmp_path / "unzipped"
    zipfile.ZipFile(zip_path).extractall(unzipped)
    at = str(int(AFTER_FIRST_EXPIRY.timestamp()))
    original = run(
        ["openssl", "ts", "-verify", "-data", "tagmanifest-sha256.txt",
         "-in", "tagmanifest-sha256.txt.tsr", "-CAfile", "certs/tsa-ca.pem",
         "-untrusted", "certs/tsa.pem", "-attime", at],
        cwd=unzipped / bag,
    )  # fmt: skip
    assert original.returncode == 1
    assert "certificate has expired" in original.stdout + original.stderr

    # while the chain verifies, with Égide's verifier and with the standard tools
    verdicts = bundle_verify(zip_path=zip_path, at=AFTER_FIRST_EXPIRY)
    assert _failed(verdicts) == set(), verdicts
    assert {"renewals", "renewal 1"} <= {v.name for v in verdicts}
    result, failed = _script(zip_path, None, AFTER_FIRST_EXPIRY)
    assert (result.returncode, failed) == (0, set()), result.stdout + result.stderr
    assert "ok renewal 1" in result.stdout

    # and the last (renewal) token must itself be valid at the verification time
    much_later = NOW + dt.timedelta(days=20 * 365)
    assert "renewal 1" in _failed(bundle_verify(zip_path=zip_path, at=much_later))
    assert "renewal 1" in _script(zip_path, folder, much_later)[1]


def test_tampering_with_a_renewal_or_the_bundle_token_is_detected(setup, tmp_path):
    capture, _built = setup
    capture_renew(capture=capture, reason=EvidenceRenewal.Reason.FORCED)
    zip_path, folder = _download(capture, tmp_path / "dl")
    bag = zip_path.stem
    assert _failed(bundle_verify(zip_path=zip_path, renewals=folder)) == set()

    # a renewal file with one changed byte
    record = folder / "renewal-1.txt"
    original = record.read_bytes()
    record.write_bytes(original.replace(b"Renewal: 1", b"Renewal: 1 "))
    assert "renewal 1" in _failed(bundle_verify(zip_path=zip_path, renewals=folder))
    assert "renewal 1" in _script(zip_path, folder, None)[1]
    record.write_bytes(original)

    # a renewal token replaced by the bundle's own token
    token = folder / "renewal-1.txt.tsr"
    saved = token.read_bytes()
    with zipfile.ZipFile(zip_path) as archive:
        token.write_bytes(archive.read(f"{bag}/tagmanifest-sha256.txt.tsr"))
    assert "renewal 1" in _failed(bundle_verify(zip_path=zip_path, renewals=folder))
    assert "renewal 1" in _script(zip_path, folder, None)[1]
    token.write_bytes(saved)

    # the bundle's .tsr changed (last byte: inside the token's signature value)
    with zipfile.ZipFile(zip_path) as archive:
        tsr = bytearray(archive.read(f"{bag}/tagmanifest-sha256.txt.tsr"))
    tsr[-1] ^= 0x01
    tampered = _rezip_with(
        zip_path, f"{bag}/tagmanifest-sha256.txt.tsr", bytes(tsr), tmp_path / f"{bag}.zip"
    )
    failed = _failed(bundle_verify(zip_path=tampered, renewals=folder))
    assert {"timestamp", "renewal 1"} <= failed
    assert {"timestamp", "renewal 1"} <= _script(tampered, folder, None)[1]

    # a renewal missing from the middle of the chain: numbering not continuous
    (folder / "renewal-3.txt").write_bytes(original)
    assert "renewals" in _failed(bundle_verify(zip_path=zip_path, renewals=folder))
    assert "renewals" in _script(zip_path, folder, None)[1]


def test_command_dry_run_changes_nothing_and_second_run_renews_nothing(setup, capsys):
    capture, _built = setup
    events = CustodyEvent.objects.filter(capture=capture).count()
    storage = Capture._meta.get_field("bundle").storage
    folder = capture.bundle.name.removesuffix(".zip") + ".renewals"

    call_command("evidence_renew", "--schema", "test_a", "--dry-run")
    out = capsys.readouterr().out
    assert f"capture n° {capture.pk} : à renouveler (simulation)" in out
    assert EvidenceRenewal.objects.filter(capture=capture).count() == 0
    assert CustodyEvent.objects.filter(capture=capture).count() == events
    assert not storage.exists(f"{folder}/renewal-1.txt")

    call_command("evidence_renew", "--schema", "test_a", "--capture", str(capture.pk))
    out = capsys.readouterr().out
    assert f"capture n° {capture.pk} : renouvelée (n° 1" in out
    assert storage.exists(f"{folder}/renewal-1.txt")

    call_command("evidence_renew", "--schema", "test_a")
    out = capsys.readouterr().out
    assert "0 renouvelée(s)" in out
    assert EvidenceRenewal.objects.filter(capture=capture).count() == 1

    call_command("evidence_renew", "--schema", "test_a", "--capture", str(capture.pk), "--force")
    assert list(EvidenceRenewal.objects.filter(capture=capture).values_list("seq", "reason")) == [
        (1, "tsa-expiry"),
        (2, "forced"),
    ]
    assert CustodyEvent.objects.filter(capture=capture).count() == events + 2


def test_two_renewals_chain_and_verify_command(setup, tmp_path, capsys):
    capture, _built = setup
    capture_renew(capture=capture, reason=EvidenceRenewal.Reason.TSA_EXPIRY)
    capture_renew(capture=capture, reason=EvidenceRenewal.Reason.FORCED)
    zip_path, folder = _download(capture, tmp_path / "dl")
    record = (folder / "renewal-2.txt").read_text("utf-8")
    for name in ("renewal-1.txt", "renewal-1.txt.tsr", "renewal-1-tsa.pem", "VERIFY.md"):
        assert f"({folder.name}/{name}) = " in record
    assert _script(zip_path, folder, AFTER_FIRST_EXPIRY)[0].returncode == 0
    at = AFTER_FIRST_EXPIRY.isoformat()
    call_command("evidence_verify", str(zip_path), "--renewals", str(folder), "--at", at)
    out = capsys.readouterr().out
    assert "ok renewal 2" in out and "Lot conforme." in out
    # the staff screen's checks, recomputed from the stored files, include the chain
    verdicts = {v.name: v.ok for v in capture_verdicts(capture=capture)}
    assert verdicts["renewal 1"] and verdicts["renewal 2"] and verdicts["renewals"]


def test_failing_tsa_leaves_nothing_and_the_next_run_retries(setup, tsas, tmp_path):
    capture, _built = setup
    _short, long = tsas
    storage = Capture._meta.get_field("bundle").storage
    folder = capture.bundle.name.removesuffix(".zip") + ".renewals"
    events = CustodyEvent.objects.filter(capture=capture).count()
    down = TsaServer(pki=long.pki).start()
    url = down.url
    down.stop()
    # when the TSA does not answer
    with override_settings(EGIDE_TSA_URL=url):
        with pytest.raises(TimestampUnavailable):
            capture_renew(capture=capture, reason=EvidenceRenewal.Reason.TSA_EXPIRY)
        outcomes = captures_renew()
    # then nothing is written or recorded, and the failure is reported
    assert [(o.capture_id, o.status) for o in outcomes] == [(capture.pk, "failed")]
    assert EvidenceRenewal.objects.filter(capture=capture).count() == 0
    assert CustodyEvent.objects.filter(capture=capture).count() == events
    assert not storage.exists(f"{folder}/renewal-1.txt")
    assert not storage.exists(f"{folder}/VERIFY.md")
    # and the next run, with the TSA back, renews
    assert [o.status for o in captures_renew()] == ["renewed"]


def test_a_tsa_configured_with_another_certificate_is_refused(setup, tsas, tmp_path):
    capture, _built = setup
    short, long = tsas
    # the configured certificate file is not the one the TSA signs with
    with override_settings(EGIDE_TSA_CERT_FILE=str(short.cert), EGIDE_TSA_CA_FILE=str(short.ca)):
        with pytest.raises(RenewalError):
            capture_renew(capture=capture, reason=EvidenceRenewal.Reason.FORCED)
    assert EvidenceRenewal.objects.filter(capture=capture).count() == 0


def test_weak_hash_algorithm_renews_with_sha512_over_every_file(setup, tmp_path):
    capture, _built = setup
    with override_settings(
        EGIDE_EVIDENCE_WEAK_ALGORITHMS=["sha256"], EGIDE_EVIDENCE_RENEW_BEFORE_DAYS=0
    ):
        due = renewal_due(capture=capture)
        assert due is not None and due.reason == EvidenceRenewal.Reason.WEAK_ALGORITHM
        assert "sha256" in due.detail
        renewal = capture_renew(capture=capture, reason=due.reason, detail=due.detail)
        assert renewal.hash_algorithm == "sha512"
        assert renewal_due(capture=capture) is None
    zip_path, folder = _download(capture, tmp_path / "dl")
    record = (folder / "renewal-1.txt").read_text("utf-8")
    assert f"SHA512 ({zip_path.stem}/data/capture.wacz) = " in record
    assert "Hash-Algorithm: sha512" in record
    assert _failed(bundle_verify(zip_path=zip_path, renewals=folder)) == set()
    assert _script(zip_path, folder, None)[0].returncode == 0


def test_scheduled_job_renews_due_bundles(setup):
    from evidence.tasks import evidence_renew_due_task

    capture, _built = setup
    evidence_renew_due_task.fn()
    evidence_renew_due_task.fn()
    assert EvidenceRenewal.objects.filter(capture=capture).count() == 1


def test_renewals_of_a_are_invisible_from_b(setup, tenant_a, tenant_b):
    capture, _built = setup
    capture_renew(capture=capture, reason=EvidenceRenewal.Reason.FORCED)
    events = CustodyEvent.objects.filter(capture=capture).count()
    # staff of B with every permission
    with tenant_context(tenant_b.insurer):
        assert EvidenceRenewal.objects.count() == 0
        assert captures_renew(capture_id=capture.pk, force=True) == []
        handler_b = ClaimsHandlerFactory()
        handler_b.is_superuser = True
        handler_b.save()
        client_b = Client(HTTP_HOST=tenant_b.domain)
        staff_login(client_b, handler_b)
        response = client_b.get(f"/admin/preuves/{capture.pk}/renouvellements.zip")
    assert response.status_code == 404
    with tenant_context(tenant_a.insurer):
        assert CustodyEvent.objects.filter(capture=capture).count() == events
        assert EvidenceRenewal.objects.filter(capture=capture).count() == 1
        # staff of A download it, as a custody event
        handler_a = ClaimsHandlerFactory()
        handler_a.is_superuser = True
        handler_a.save()
        client_a = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client_a, handler_a)
        detail = client_a.get(f"/admin/preuves/{capture.pk}/")
        assert f"/admin/preuves/{capture.pk}/renouvellements.zip" in detail.content.decode()
        response = client_a.get(f"/admin/preuves/{capture.pk}/renouvellements.zip")
        assert response.status_code == 200
        names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        assert "evidence-12-1.renewals/renewal-1.txt.tsr" in names
        last = CustodyEvent.objects.filter(capture=capture).latest("seq")
        assert last.kind == CustodyEvent.Kind.DOWNLOADED
