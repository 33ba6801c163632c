"""``manage.py evidence_capture`` and ``evidence_verify``, run from a shell as an operator would
(subprocesses, no web server, no worker)."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from evidence.models import Capture
from tests.evidence.conftest_django import REPO, VENV, captures_delete
from tests.evidence.pages import Site

pytestmark = pytest.mark.usefixtures("evidence_env")

CHECKS = ["archive", "structure", "bagit", "sha256", "timestamp", "signature", "wacz", "warc capture.warc.gz"]  # fmt: skip


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV / "bin" / "python"), "-W", "ignore", "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _tamper(bundle: Path, target: Path) -> Path:
    """A copy of the bundle with one byte of page.txt changed."""
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(target, "w") as copy:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.endswith("/data/page.txt"):
                data = bytes([data[0] ^ 0x01]) + data[1:]
            copy.writestr(info, data)
    return target


def test_capture_then_verify_from_the_shell(
    committed_db, tenant_a, site: Site, evidence_env, tmp_path
):
    env = evidence_env.worker_env()
    created: list[int] = []
    try:
        # when
        captured = _manage("evidence_capture", "--schema", "test_a", site.url("/expander"), env=env)
        # then it prints the path of a bundle on the write-once storage
        assert captured.returncode == 0, captured.stderr[-2000:]
        path = Path(captured.stdout.strip())
        match = re.fullmatch(
            rf"{evidence_env.root}/test_a/bundles/evidence-(\d+)-1\.zip", str(path)
        )
        assert match, captured.stdout
        created.append(int(match.group(1)))
        with tenant_context(tenant_a.insurer):
            capture = Capture.objects.get(pk=created[0])
            assert (capture.status, capture.requested_by, capture.http_status) == (
                "complete",
                None,
                200,
            )
            assert capture.custody.first().actor_label == "ligne de commande"

        # when verified
        verified = _manage("evidence_verify", str(path), env=env)
        # then one verdict per check, all ok
        lines = verified.stdout.splitlines()
        assert verified.returncode == 0, verified.stdout
        assert [line.split(" : ")[0] for line in lines[:-1]] == [f"ok {c}" for c in CHECKS]
        assert lines[-1] == "Lot conforme."

        # and a copy with one byte changed fails, with exit status 1
        tampered = _manage("evidence_verify", str(_tamper(path, tmp_path / path.name)), env=env)
        assert tampered.returncode == 1
        failed = [
            line.split(" : ")[0]
            for line in tampered.stdout.splitlines()
            if line.startswith("ÉCHEC")
        ]
        assert failed == ["ÉCHEC bagit", "ÉCHEC sha256"]
        assert tampered.stdout.splitlines()[-1] == "Lot NON conforme."
    finally:
        captures_delete(tenant_a.insurer, created)


@pytest.mark.django_db
def test_capture_command_refuses_a_malformed_url_in_french(tenant_a):
    with pytest.raises(CommandError) as raised:
        call_command("evidence_capture", "--schema", "test_a", "notre-site")
    assert (
        str(raised.value)
        == "Schéma « (aucun) » refusé : seules les adresses http:// et https:// peuvent être capturées."
    )
    with tenant_context(tenant_a.insurer):
        assert Capture.objects.count() == 0


@pytest.mark.django_db
def test_capture_command_refuses_an_unknown_insurer():
    with pytest.raises(CommandError) as raised:
        call_command("evidence_capture", "--schema", "inconnu", "http://127.0.0.1:1/")
    assert str(raised.value) == "Assureur inconnu pour le schéma « inconnu »."


def test_verify_command_on_a_missing_file(tmp_path):
    with pytest.raises(CommandError) as raised:
        call_command("evidence_verify", str(tmp_path / "absent.zip"))
    assert str(raised.value) == f"Fichier introuvable : {tmp_path / 'absent.zip'}"
