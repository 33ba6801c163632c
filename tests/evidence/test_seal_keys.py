"""Seal private keys are encrypted at rest: envelope encryption, migration, rotation.

A dump of an insurer's schema holds no private key; a ciphertext moved to another row or
schema does not decrypt; rotating the master key re-wraps data keys only, after which the old
master key can be deleted and bundles still seal and verify with the standard tools.
"""

from __future__ import annotations

import base64
import io
import os
import secrets
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings
from django_tenants.utils import tenant_context

from common.keys import (
    SealKeyDecryptError,
    master_key_current,
    master_key_default_path,
    master_key_id,
)
from evidence.models import SealKey
from evidence.pki import seal_pki_generate
from evidence.seals import seal_current, seal_key_store, seal_material, seal_private_key_pem
from tests.evidence.conftest import bundle_build_for_test, run, unzip_to
from tests.saas.production_env import REPO, production_env

pytestmark = pytest.mark.django_db


def _key_file(path: Path) -> Path:
    path.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    path.chmod(0o600)
    return path


def _pem_body(pem: bytes) -> list[str]:
    return [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]


def test_without_configuration_a_master_key_file_is_created_private_and_kept(tmp_path):
    with override_settings(
        VAR_DIR=tmp_path,
        EGIDE_MASTER_KEY_FILE="",
        EGIDE_MASTER_KEY="",
        EGIDE_MASTER_KEY_CREATE=True,
    ):
        first = master_key_current()
        second = master_key_current()
        path = master_key_default_path()
    assert path == tmp_path / "keys" / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_bytes())) == 32
    assert first.key_id == second.key_id == master_key_id(first.key)


def test_a_malformed_master_key_is_refused_in_french(tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("trop-court\n")
    with override_settings(EGIDE_MASTER_KEY_FILE=str(bad)), pytest.raises(Exception) as caught:
        master_key_current()
    assert "clé maîtresse" in str(caught.value)


def test_production_refuses_to_start_without_a_master_key(tmp_path):
    env = production_env(tmp_path)
    del env["EGIDE_MASTER_KEY_FILE"]
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: EGIDE_MASTER_KEY_FILE : clé maîtresse absente" in result.stderr


def test_a_stored_seal_key_decrypts_only_in_its_own_row_and_schema(tenant_a, tenant_b):
    pki = seal_pki_generate(organisation="Assureur test A", valid_days=30)
    with tenant_context(tenant_a.insurer):
        seal = seal_key_store(
            organisation="Assureur test A",
            origin=SealKey.Origin.PLATFORM,
            key_pem=pki.key_pem,
            cert_pem=pki.cert_pem,
            ca_cert_pem=pki.ca_cert_pem,
        )
        stored = SealKey.objects.get(pk=seal.pk)
        assert seal_private_key_pem(seal=stored) == pki.key_pem
        assert b"PRIVATE KEY" not in bytes(stored.key_ciphertext)
        # The same ciphertext pasted onto another row of the schema does not decrypt.
        other = SealKey.objects.exclude(pk=seal.pk).first()
        other.key_ciphertext, other.data_key_wrapped = (
            stored.key_ciphertext,
            stored.data_key_wrapped,
        )
        with pytest.raises(SealKeyDecryptError):
            seal_private_key_pem(seal=other)
    with tenant_context(tenant_b.insurer):
        # Nor in another insurer's schema, even with the same row id.
        with pytest.raises(SealKeyDecryptError):
            seal_private_key_pem(seal=stored)


def test_a_dump_of_the_insurer_schema_holds_no_private_key(tenant_a):
    with tenant_context(tenant_a.insurer):
        seal = seal_current()
        key_pem = seal_private_key_pem(seal=seal)
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    command = ["pg_dump", "--schema=test_a", "--no-owner", "-U", db["USER"] or "postgres"]
    if db.get("HOST"):
        command += ["-h", db["HOST"]]
    if db.get("PORT"):
        command += ["-p", str(db["PORT"])]
    dump = subprocess.run(  # noqa: S603
        [*command, db["NAME"]], capture_output=True, text=True, timeout=120, env=env, check=True
    ).stdout
    # The seal row is in the dump (its certificate and master key id), its key is not.
    assert "evidence_sealkey" in dump
    assert seal.master_key_id in dump
    assert _pem_body(seal.cert_pem.encode())[0] in dump
    assert "PRIVATE KEY" not in dump
    assert b"PRIVATE KEY" in key_pem
    for line in _pem_body(key_pem):
        assert line not in dump


def test_the_migration_encrypts_the_keys_already_in_a_schema(tenant_a):
    pki = seal_pki_generate(organisation="Assureur ancien", valid_days=30)
    loader = MigrationLoader(connection)
    state = loader.project_state(("evidence", "0001_initial"), at_end=True)
    migration = loader.get_migration("evidence", "0002_sealkey_envelope")
    for operation in migration.operations[:4]:  # the added fields, up to the RunPython
        operation.state_forwards("evidence", state)
    module = sys.modules[migration.__module__]
    with tenant_context(tenant_a.insurer):
        SealKey.objects.all().delete()  # rolled back with the test
        with connection.cursor() as cursor:
            # The schema as 0001 left it: a clear-text key column.
            cursor.execute("ALTER TABLE evidence_sealkey ADD COLUMN key_pem text")
            cursor.execute(
                "INSERT INTO evidence_sealkey (organisation, origin, key_ciphertext, "
                "data_key_wrapped, master_key_id, key_pem, cert_pem, ca_cert_pem, created_at) "
                "VALUES (%s, 'platform', '', '', '', %s, %s, %s, now()) RETURNING id",
                ["Assureur ancien", pki.key_pem.decode(), pki.cert_pem.decode(), "x"],
            )
            seal_id = cursor.fetchone()[0]
        module.seal_keys_encrypt(state.apps, SimpleNamespace(connection=connection))
        seal = SealKey.objects.get(pk=seal_id)
        assert seal.master_key_id == master_key_current().key_id
        assert b"PRIVATE KEY" not in bytes(seal.key_ciphertext)
        assert seal_private_key_pem(seal=seal) == pki.key_pem


def test_rotation_rewraps_every_data_key_and_the_old_master_key_can_go(
    tenant_a, tenant_b, tmp_path, capture_data_dir, session_tsa_server, tsa_pki
):
    # given: every seal wrapped by the default master key, and a new one
    old_default = master_key_default_path()
    new_file = _key_file(tmp_path / "new.key")
    with tenant_context(tenant_a.insurer):
        before_a = {
            s.pk: (bytes(s.key_ciphertext), s.cert_pem, bytes(s.data_key_wrapped))
            for s in SealKey.objects.all()
        }
    with tenant_context(tenant_b.insurer):
        count_b = SealKey.objects.count()
    # when: the new key is current, the old one still readable
    with override_settings(
        EGIDE_MASTER_KEY_FILE=str(new_file),
        EGIDE_MASTER_KEY_PREVIOUS_FILES=[str(old_default)],
    ):
        out = io.StringIO()
        call_command("evidence_keys_rotate", stdout=out)
        again = io.StringIO()
        call_command("evidence_keys_rotate", stdout=again)
    new_id = master_key_id(base64.b64decode(new_file.read_bytes()))
    lines = out.getvalue().splitlines()
    assert (
        f"test_a : {len(before_a)} clé(s) rechiffrée(s), 0 déjà sous la clé maîtresse actuelle"
        in lines
    )
    assert (
        f"test_b : {count_b} clé(s) rechiffrée(s), 0 déjà sous la clé maîtresse actuelle" in lines
    )
    assert (
        f"test_a : 0 clé(s) rechiffrée(s), {len(before_a)} déjà sous la clé maîtresse actuelle"
        in again.getvalue()
    )
    assert lines[-1].startswith(f"Clé maîtresse {new_id} : ")
    # then: only the wrapping changed
    with tenant_context(tenant_a.insurer):
        for seal in SealKey.objects.all():
            ciphertext, cert_pem, wrapped = before_a[seal.pk]
            assert (bytes(seal.key_ciphertext), seal.cert_pem) == (ciphertext, cert_pem)
            assert bytes(seal.data_key_wrapped) != wrapped
            assert seal.master_key_id == new_id
    # and: a second rotation, after which the replaced key file is deleted for good
    newer_file = _key_file(tmp_path / "newer.key")
    with override_settings(
        EGIDE_MASTER_KEY_FILE=str(newer_file), EGIDE_MASTER_KEY_PREVIOUS_FILES=[str(new_file)]
    ):
        call_command("evidence_keys_rotate", stdout=io.StringIO())
    new_file.unlink()
    # then: with the newest key alone, bundles still seal and verify
    with (
        override_settings(
            EGIDE_MASTER_KEY_FILE=str(newer_file), EGIDE_MASTER_KEY_PREVIOUS_FILES=[]
        ),
        tenant_context(tenant_a.insurer),
    ):
        material = seal_material(seal=seal_current())
        assert seal_current().master_key_id == master_key_id(
            base64.b64decode(newer_file.read_bytes())
        )
    result = bundle_build_for_test(
        data_dir=capture_data_dir,
        out_dir=tmp_path / "bundles",
        tsa_url=session_tsa_server.url,
        tsa=tsa_pki,
        seal=SimpleNamespace(
            key_pem=material.key_pem, cert_pem=material.cert_pem, ca_cert_pem=material.ca_pem
        ),
    )
    bag = unzip_to(result.zip_path, tmp_path / "unzipped")
    verified = run(
        [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER",
            "-in", "tagmanifest-sha256.txt.p7s", "-content", "tagmanifest-sha256.txt",
            "-CAfile", "certs/seal-ca.pem", "-purpose", "any", "-out", "/dev/null",
        ],
        cwd=bag,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    # and: the old master key alone no longer opens them
    with (
        override_settings(
            EGIDE_MASTER_KEY_FILE=str(old_default), EGIDE_MASTER_KEY_PREVIOUS_FILES=[]
        ),
        tenant_context(tenant_a.insurer),
        pytest.raises(SealKeyDecryptError),
    ):
        seal_private_key_pem(seal=seal_current())


def test_a_captured_bundle_says_which_seal_sealed_it(complete_capture):
    from tenants.models import Insurer

    insurer = Insurer.objects.get(schema_name="test_a")
    with tenant_context(insurer):
        from evidence.models import Capture

        capture = Capture.objects.get(pk=complete_capture.capture_id)
        subject = seal_material(seal=seal_current()).subject
        with capture.bundle.open("rb") as handle, zipfile.ZipFile(handle) as archive:
            name = next(n for n in archive.namelist() if n.endswith("/bag-info.txt"))
            bag_info = archive.read(name).decode()
    assert "Egide-Seal-Origin: platform-issued\n" in bag_info
    assert f"Egide-Seal-Subject: {subject}\n" in bag_info
