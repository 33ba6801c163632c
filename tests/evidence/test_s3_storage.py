"""Bundles on S3 object storage under Object Lock: a real S3 API (moto's server on loopback).

Given two real captures (insurers A and B) stored with ``EGIDE_EVIDENCE_STORAGE=s3``: each object
is locked in COMPLIANCE mode until now + its insurer's retention and encrypted; it can be neither
overwritten through the storage nor deleted through the raw S3 API; the app's download view gives
back the exact bytes, which verify; each insurer has its own key prefix and cannot fetch the
other's bundle. ``evidence_storage_check`` says when a bucket lacks Object Lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.exceptions import ClientError
from dateutil.relativedelta import relativedelta
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from moto.server import ThreadedMotoServer

from evidence import selectors
from evidence.models import Capture, CustodyEvent
from evidence.settings_models import EvidenceSettings, evidence_retention_years
from evidence.storage import WriteOnceTenantStorage
from evidence.verify import bundle_verdicts_ok, bundle_verify
from tests.conftest import staff_login
from tests.evidence.conftest_django import captures_delete
from tests.tenants.factories import ClaimsHandlerFactory, DoctorUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_env")]

BUCKET = "egide-preuves-test"
REGION = "eu-west-3"
KEYS = {"aws_access_key_id": "egide-test", "aws_secret_access_key": "egide-test-secret"}
RETENTION_A = 7  # insurer A changed it; B keeps the default (6)


@dataclass(frozen=True)
class S3:
    endpoint: str
    client: object  # boto3 S3 client, straight to the S3 API (no Égide code)

    def settings(self, bucket: str = BUCKET) -> dict:
        return {
            "EGIDE_EVIDENCE_STORAGE": "s3",
            "EGIDE_EVIDENCE_S3_BUCKET": bucket,
            "EGIDE_EVIDENCE_S3_ENDPOINT_URL": self.endpoint,
            "EGIDE_EVIDENCE_S3_REGION": REGION,
            "EGIDE_EVIDENCE_S3_ACCESS_KEY": KEYS["aws_access_key_id"],
            "EGIDE_EVIDENCE_S3_SECRET_KEY": KEYS["aws_secret_access_key"],
            "EGIDE_EVIDENCE_S3_SSE": "AES256",
        }

    def bucket_create(self, name: str, *, object_lock: bool) -> None:
        self.client.create_bucket(
            Bucket=name,
            ObjectLockEnabledForBucket=object_lock,
            CreateBucketConfiguration={"LocationConstraint": REGION},
        )


@pytest.fixture(scope="module", name="s3")
def s3_fixture(evidence_env) -> Iterator[S3]:
    """moto's S3 server on a free loopback port, a bucket with Object Lock, settings on S3."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **KEYS)
    s3 = S3(endpoint=endpoint, client=client)
    s3.bucket_create(BUCKET, object_lock=True)
    override = override_settings(**s3.settings())
    override.enable()
    yield s3
    override.disable()
    server.stop()


@dataclass(frozen=True)
class Stored:
    capture_id: int
    doctor_id: int
    name: str
    key: str
    before: dt.datetime
    after: dt.datetime


@dataclass(frozen=True)
class StoredPair:
    a: Stored
    b: Stored


@pytest.fixture(scope="module", name="stored")
def stored_fixture(
    s3, django_db_setup, django_db_blocker, browser_thread_shared
) -> Iterator[StoredPair]:
    """One real capture per insurer, through the real pipeline, stored on S3 (committed)."""
    from evidence.services.execution import capture_execute
    from evidence.services.requests import capture_request
    from tenants.models import Insurer
    from tests.evidence.pages import Site, _handler, _routes, _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    site = Site(port=server.server_address[1], forbidden_port=9, tls_port=9)
    server.RequestHandlerClass = _handler(site, site.hits, _routes(site))
    _serve(server)
    made: dict[str, tuple[Insurer, Stored]] = {}
    with django_db_blocker.unblock():
        insurer_a = Insurer.objects.get(schema_name="test_a")
        insurer_b = Insurer.objects.get(schema_name="test_b")
        with tenant_context(insurer_a):
            from wagtail.models import Site as WagtailSite

            EvidenceSettings.objects.update_or_create(
                site=WagtailSite.objects.get(is_default_site=True),
                defaults={"retention_years": RETENTION_A},
            )
            top_a = Capture.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with tenant_context(insurer_b):
            # B's capture ids start past A's: "B's capture id" must not name one of A's.
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('evidence_capture', 'id'), %s)",
                    [top_a + 1000],
                )
        for key, insurer in (("a", insurer_a), ("b", insurer_b)):
            with tenant_context(insurer):
                doctor = DoctorUserFactory(email=f"medecin-{uuid.uuid4().hex[:8]}@exemple.fr")
                capture_id = capture_request(
                    url=site.url("/autre-page"), requested_by=doctor, reason="Avis", enqueue=False
                )
                before = timezone.now()
                capture = capture_execute(capture_id=capture_id, browser=browser_thread_shared)
                after = timezone.now()
                assert capture.status == "complete", capture.error
                name = capture.bundle.name
                made[key] = (
                    insurer,
                    Stored(
                        capture_id=capture_id,
                        doctor_id=doctor.pk,
                        name=name,
                        key=WriteOnceTenantStorage().backend().key(name),
                        before=before,
                        after=after,
                    ),
                )
        server.shutdown()
        server.server_close()
        yield StoredPair(a=made["a"][1], b=made["b"][1])
        for insurer, stored in made.values():
            captures_delete(insurer, [stored.capture_id])
            with tenant_context(insurer):
                from django.contrib.auth import get_user_model

                get_user_model().objects.filter(pk=stored.doctor_id).delete()
        with tenant_context(insurer_a):
            EvidenceSettings.objects.all().delete()


def _body(s3: S3, key: str) -> bytes:
    return s3.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_each_bundle_is_locked_in_compliance_mode_until_its_insurers_retention(s3, stored):
    for item, years in ((stored.a, RETENTION_A), (stored.b, 6)):
        # when
        head = s3.client.head_object(Bucket=BUCKET, Key=item.key)
        # then
        assert (head["ObjectLockMode"], head["ServerSideEncryption"]) == ("COMPLIANCE", "AES256")
        until = head["ObjectLockRetainUntilDate"]
        earliest = item.before + relativedelta(years=years) - dt.timedelta(seconds=1)
        latest = item.after + relativedelta(years=years) + dt.timedelta(seconds=1)
        assert earliest <= until <= latest, (item.key, until, years)
        assert head["ContentType"] == "application/zip"


def test_bundles_of_two_insurers_land_under_their_own_prefix(s3, stored):
    # then
    assert stored.a.key == f"test_a/{stored.a.name}"
    assert stored.b.key == f"test_b/{stored.b.name}"
    assert stored.a.name.startswith("bundles/evidence-")
    listed = s3.client.list_objects_v2(Bucket=BUCKET, Prefix="test_a/")
    assert [item["Key"] for item in listed.get("Contents", [])] == [stored.a.key]


def test_a_stored_bundle_cannot_be_overwritten_through_the_storage(s3, stored, tenant_a):
    original = _body(s3, stored.a.key)
    with tenant_context(tenant_a.insurer):
        storage = WriteOnceTenantStorage()
        # when / then: the name is taken
        with pytest.raises(FileExistsError, match="existe déjà"):
            storage.save(stored.a.name, ContentFile(b"faux lot"))
        # and a writer that missed the existence check (a race) is refused by S3 itself
        with pytest.raises(FileExistsError, match="existe déjà"):
            storage.backend()._save(stored.a.name, ContentFile(b"faux lot"))
        with pytest.raises(PermissionError, match="écriture unique"):
            storage.delete(stored.a.name)
    # then: one version, the original bytes
    versions = s3.client.list_object_versions(Bucket=BUCKET, Prefix=stored.a.key)["Versions"]
    assert len(versions) == 1
    assert _body(s3, stored.a.key) == original


def test_the_locked_version_cannot_be_deleted_through_the_s3_api(s3, stored, tenant_a):
    head = s3.client.head_object(Bucket=BUCKET, Key=stored.a.key)
    # when
    with pytest.raises(ClientError) as refused:
        s3.client.delete_object(Bucket=BUCKET, Key=stored.a.key, VersionId=head["VersionId"])
    # then
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    again = s3.client.head_object(Bucket=BUCKET, Key=stored.a.key)
    assert (again["VersionId"], again["ETag"]) == (head["VersionId"], head["ETag"])
    with tenant_context(tenant_a.insurer):
        zip_sha256 = Capture.objects.get(pk=stored.a.capture_id).zip_sha256
    assert hashlib.sha256(_body(s3, stored.a.key)).hexdigest() == zip_sha256


def test_the_download_view_returns_the_stored_bytes_which_verify(s3, stored, tenant_a, tmp_path):
    from django.contrib.auth import get_user_model

    with tenant_context(tenant_a.insurer):
        doctor = get_user_model().objects.get(pk=stored.a.doctor_id)
        capture = Capture.objects.get(pk=stored.a.capture_id)
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        client.force_login(doctor)
    # when
    response = client.get(f"/preuves/{stored.a.capture_id}/telecharger/")
    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="{stored.a.name.rsplit("/", 1)[1]}"'
    )
    downloaded = b"".join(response.streaming_content)
    assert downloaded == _body(s3, stored.a.key)
    assert hashlib.sha256(downloaded).hexdigest() == capture.zip_sha256
    path = tmp_path / "lot.zip"
    path.write_bytes(downloaded)
    assert bundle_verdicts_ok(verdicts=bundle_verify(zip_path=path))


def test_admin_checks_and_thumbnail_read_the_bundle_from_s3(s3, stored, tenant_a):
    with tenant_context(tenant_a.insurer):
        capture = Capture.objects.get(pk=stored.a.capture_id)
        # when
        verdicts = selectors.capture_verdicts(capture=capture)
        png = selectors.capture_screenshot(capture=capture)
    # then
    assert [v for v in verdicts if not v.ok] == []
    assert verdicts[-1].name == "tagmanifest enregistré"
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("url", ["/preuves/{id}/telecharger/", "/admin/preuves/{id}/telecharger/"])
def test_insurer_a_cannot_fetch_the_bundle_of_b(s3, stored, tenant_a, tenant_b, url):
    # given staff of A with every evidence permission, and B's capture id unknown in A
    with tenant_context(tenant_a.insurer):
        assert not Capture.objects.filter(pk=stored.b.capture_id).exists()
        handler_a = ClaimsHandlerFactory()
        handler_a.is_superuser = True
        handler_a.save()
        # A's storage does not see B's key either (same relative name, other prefix)
        assert WriteOnceTenantStorage().exists(stored.b.name) is False
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(client, handler_a)
    before = _events(tenant_b, stored.b.capture_id)
    # when
    response = client.get(url.format(id=stored.b.capture_id))
    # then
    assert response.status_code == 404
    assert _events(tenant_b, stored.b.capture_id) == before


def test_storage_check_accepts_a_bucket_with_object_lock(s3, capsys):
    # when
    call_command("evidence_storage_check")
    # then
    out = capsys.readouterr().out
    assert "ÉCHEC" not in out
    assert "ok Verrouillage des objets (Object Lock) activé" in out
    assert "ok Gestion des versions activée." in out


def test_storage_check_reports_a_bucket_without_object_lock(s3, capsys):
    # given a plain bucket (no Object Lock, versioning never enabled)
    s3.bucket_create("egide-sans-verrou", object_lock=False)
    stdout = io.StringIO()
    # when
    with override_settings(EGIDE_EVIDENCE_S3_BUCKET="egide-sans-verrou"):
        with pytest.raises(CommandError, match="non conforme"):
            call_command("evidence_storage_check", stdout=stdout)
    # then
    out = stdout.getvalue()
    assert "ÉCHEC Verrouillage des objets (Object Lock) non activé sur « egide-sans-verrou »" in out
    assert "ÉCHEC Gestion des versions non activée sur « egide-sans-verrou »" in out


def test_storage_check_reports_a_missing_bucket(s3):
    stdout = io.StringIO()
    with override_settings(EGIDE_EVIDENCE_S3_BUCKET="egide-inexistant"):
        with pytest.raises(CommandError, match="non conforme"):
            call_command("evidence_storage_check", stdout=stdout)
    assert "ÉCHEC Compartiment « egide-inexistant » introuvable ou inaccessible" in (
        stdout.getvalue()
    )


def test_storage_check_on_the_filesystem_says_only_the_application_protects_bundles(
    evidence_env,
):
    stdout = io.StringIO()
    with override_settings(EGIDE_EVIDENCE_STORAGE="filesystem"):
        call_command("evidence_storage_check", stdout=stdout)
    lines = stdout.getvalue().splitlines()
    assert lines[0] == (
        f"ok Stockage local : {evidence_env.root}/<schéma>/ (fichiers en lecture seule, "
        "suppression refusée par l'application)."
    )
    assert lines[1].startswith("Attention : sur disque local, seul Égide protège les lots")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"EGIDE_EVIDENCE_S3_BUCKET": ""}, "demande EGIDE_EVIDENCE_S3_BUCKET"),
        ({"EGIDE_EVIDENCE_S3_SSE": "aucun"}, "valeurs possibles « AES256 » ou « aws:kms »"),
        ({"EGIDE_EVIDENCE_S3_SSE": "aws:kms"}, "demande EGIDE_EVIDENCE_S3_KMS_KEY_ID"),
        ({"EGIDE_EVIDENCE_STORAGE": "ftp"}, "valeurs possibles « filesystem » ou « s3 »"),
    ],
)
def test_storage_check_explains_an_incomplete_configuration(s3, overrides, message):
    with override_settings(**overrides), pytest.raises(CommandError, match=message):
        call_command("evidence_storage_check", stdout=io.StringIO())


def test_healthz_fails_when_the_bucket_is_not_locked(s3):
    from saas.health import check_evidence

    # given the locked bucket, then a plain one
    assert check_evidence(timeout_s=2.0) == "ok (S3, Object Lock)"
    s3.bucket_create("egide-sante-sans-verrou", object_lock=False)
    with override_settings(EGIDE_EVIDENCE_S3_BUCKET="egide-sante-sans-verrou"):
        # when / then
        with pytest.raises(OSError, match=r"Object Lock\) non activé"):
            check_evidence(timeout_s=2.0)


def test_insurer_admin_sets_the_retention_in_wagtail_settings(s3, tenant_a):
    from django.contrib.auth import get_user_model
    from wagtail.models import Site as WagtailSite

    with tenant_context(tenant_a.insurer):
        admin = get_user_model().objects.get(email=tenant_a.admin_email)
        site = WagtailSite.objects.get(is_default_site=True)
        before = evidence_retention_years()  # 6, or A's 7 while the module's captures exist
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(client, admin)
    url = f"/admin/settings/evidence/evidencesettings/{site.pk}/"
    # when: the page, then a value below the civil limitation period
    page = client.get(url)
    refused = client.post(url, {"retention_years": "4"})
    # then
    assert page.status_code == 200
    assert "Durée de conservation des preuves (années)" in page.content.decode()
    assert "article 2224 du Code civil" in page.content.decode()
    assert refused.status_code == 200
    assert "supérieure ou égale à 5" in refused.content.decode()
    with tenant_context(tenant_a.insurer):
        assert EvidenceSettings.objects.get(site=site).retention_years == before
        assert evidence_retention_years() == before
    # when: a valid value
    saved = client.post(url, {"retention_years": "10"})
    # then
    assert saved.status_code == 302
    with tenant_context(tenant_a.insurer):
        assert EvidenceSettings.objects.get(site=site).retention_years == 10
        assert evidence_retention_years() == 10


def _events(tenant, capture_id: int) -> int:
    with tenant_context(tenant.insurer):
        return CustodyEvent.objects.filter(capture_id=capture_id).count()


def test_sse_kms_encrypts_with_the_configured_key(s3, tenant_b):
    kms_key = "arn:aws:kms:eu-west-3:123456789012:key/egide-preuves"
    with (
        override_settings(EGIDE_EVIDENCE_S3_SSE="aws:kms", EGIDE_EVIDENCE_S3_KMS_KEY_ID=kms_key),
        tenant_context(tenant_b.insurer),
    ):
        # when
        name = WriteOnceTenantStorage().save("sonde/kms.txt", ContentFile(b"chiffre"))
    # then
    head = s3.client.head_object(Bucket=BUCKET, Key=f"test_b/{name}")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"], head["ObjectLockMode"]) == (
        "aws:kms",
        kms_key,
        "COMPLIANCE",
    )
