"""capture_request / capture_execute: validation, the whole pipeline, fail closed, re-captures.

Captures target the loopback test site of ``tests.evidence.pages``; the TSA is local.
"""

from __future__ import annotations

import os
import stat
import subprocess
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.test import override_settings
from django_tenants.utils import tenant_context

from cover.claims.selectors.claims import dashboards_invalidate
from evidence.models import Capture, CustodyEvent, SealKey
from evidence.services.execution import CaptureAttemptFailed, capture_execute
from evidence.services.provisioning import evidence_provision
from evidence.services.requests import capture_request
from evidence.storage import bundle_local_copy
from tests.evidence.conftest_django import VENV, VERIFY_BUNDLE_SH
from tests.evidence.pages import Site
from tests.tenants.factories import DoctorUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_env")]


def _kinds(capture: Capture) -> list[str]:
    return list(capture.custody.order_by("seq").values_list("kind", flat=True))


def _verify_sh(path) -> subprocess.CompletedProcess:
    env = {**os.environ, "VERIFY_VENV": str(VENV)}
    return subprocess.run(
        ["bash", str(VERIFY_BUNDLE_SH), str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "pas une adresse",
            "URL mal formée : elle contient des espaces ou des caractères de contrôle.",
        ),
        (
            "ftp://127.0.0.1/avis",
            "Schéma « ftp » refusé : seules les adresses http:// et https:// peuvent être capturées.",
        ),
        ("", "URL vide."),
    ],
)
def test_malformed_url_is_refused_in_french_and_nothing_is_created(tenant_a, url, message):
    # given
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory()
        # when
        with pytest.raises(ValidationError) as raised:
            capture_request(url=url, requested_by=doctor, reason="")
        # then
        assert raised.value.messages == [message]
        assert Capture.objects.count() == 0
        assert CustodyEvent.objects.count() == 0


def test_address_outside_the_allow_list_is_refused_before_anything_is_created(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory()
        with pytest.raises(ValidationError) as raised:
            capture_request(url="http://127.0.0.2:8080/x", requested_by=doctor, reason="")
        assert raised.value.messages == [
            "Adresse non publique refusée pour « 127.0.0.2 » : 127.0.0.2 (boucle locale "
            "(loopback)). La capture ne contacte que des adresses publiques."
        ]
        assert Capture.objects.count() == 0


def test_request_records_a_queued_capture_and_enqueues_it_after_commit(
    tenant_a, site: Site, django_capture_on_commit_callbacks
):
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory()
        # when
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            capture_id = capture_request(
                url=f"  {site.url('/lazy')} ", requested_by=doctor, reason="Avis diffamatoire"
            )
        # then
        capture = Capture.objects.get(pk=capture_id)
        assert (capture.url, capture.status, capture.progress, capture.reason) == (
            site.url("/lazy"),
            "queued",
            0,
            "Avis diffamatoire",
        )
        assert capture.requested_by == doctor
        assert _kinds(capture) == ["requested"]
        # the capture's message (the handlers' dashboards are also refreshed after commit)
        assert len([c for c in callbacks if c is not dashboards_invalidate]) == 1


def test_execute_produces_a_complete_sealed_bundle_that_the_standard_tools_accept(
    tenant_a, site: Site, capture_browser
):
    # given
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory()
        capture_id = capture_request(
            url=site.url("/lazy"), requested_by=doctor, reason="", enqueue=False
        )
        # when
        capture = capture_execute(capture_id=capture_id, browser=capture_browser)
        # then
        capture.refresh_from_db()
        assert (capture.status, capture.progress, capture.http_status, capture.attempts) == (
            "complete",
            100,
            200,
            1,
        )
        assert capture.final_url == site.url("/lazy")
        assert capture.page_title == "Avis chargés au défilement"
        assert capture.error == ""
        assert _kinds(capture) == ["requested", "started", "completed"]
        path = capture.bundle.path
        assert path.endswith(f"/test_a/bundles/evidence-{capture.pk}-1.zip")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
        result = _verify_sh(path)
        assert (result.returncode, result.stdout.splitlines()) == (
            0,
            ["ok bagit", "ok timestamp", "ok signature", "ok wacz", "ok warc capture.warc.gz"],
        )
        with zipfile.ZipFile(path) as archive:
            root = f"evidence-{capture.pk}-1"
            import hashlib

            tagmanifest = archive.read(f"{root}/tagmanifest-sha256.txt")
            custody_lines = archive.read(f"{root}/data/provenance/custody.jsonl").decode()
            bag_info = archive.read(f"{root}/bag-info.txt").decode()
        assert hashlib.sha256(tagmanifest).hexdigest() == capture.tagmanifest_sha256
        import json

        in_bundle = [json.loads(line) for line in custody_lines.splitlines()]
        assert [(e["seq"], e["kind"], e["hash"]) for e in in_bundle] == list(
            capture.custody.filter(seq__lte=2).values_list("seq", "kind", "hash")
        )
        assert "Source-Organization: Assureur test A\n" in bag_info


def test_a_404_page_is_captured_as_what_it_is(tenant_a, site: Site, capture_browser):
    with tenant_context(tenant_a.insurer):
        capture_id = capture_request(
            url=site.url("/missing"), requested_by=None, reason="", enqueue=False
        )
        capture = capture_execute(capture_id=capture_id, browser=capture_browser)
        assert (capture.status, capture.http_status, capture.page_title) == (
            "complete",
            404,
            "Introuvable",
        )


def test_a_tls_error_is_captured_as_what_it_is(tenant_a, site: Site, capture_browser):
    with tenant_context(tenant_a.insurer):
        capture_id = capture_request(
            url=site.tls_url("/tls"), requested_by=None, reason="", enqueue=False
        )
        capture = capture_execute(capture_id=capture_id, browser=capture_browser)
        assert (capture.status, capture.http_status) == ("complete", None)
        assert capture.page_error == (
            f"Page.goto: net::ERR_CERT_AUTHORITY_INVALID at {site.tls_url('/tls')}"
        )
        with bundle_local_copy(name=capture.bundle.name or "") as path:
            assert _verify_sh(path).returncode == 0


def test_recapture_of_the_same_url_links_to_the_earlier_capture(tenant_a, site: Site):
    with tenant_context(tenant_a.insurer):
        first = capture_request(
            url=site.url("/consent"), requested_by=None, reason="", enqueue=False
        )
        other = capture_request(url=site.url("/long"), requested_by=None, reason="", enqueue=False)
        second = capture_request(
            url=site.url("/consent"), requested_by=None, reason="", enqueue=False
        )
        third = capture_request(
            url=site.url("/consent"), requested_by=None, reason="", enqueue=False
        )
        previous = dict(Capture.objects.values_list("pk", "previous_id"))
        assert previous == {first: None, other: None, second: first, third: second}
        assert (
            CustodyEvent.objects.get(capture_id=third, seq=1).detail["previous_capture"] == second
        )


def test_tsa_down_fails_the_attempt_with_its_reason_and_never_completes(
    tenant_a, site: Site, capture_browser
):
    with tenant_context(tenant_a.insurer):
        capture_id = capture_request(
            url=site.url("/consent"), requested_by=None, reason="", enqueue=False
        )
        # when the TSA does not answer
        with (
            override_settings(EGIDE_TSA_URL="http://127.0.0.1:9/"),
            pytest.raises(CaptureAttemptFailed),
        ):
            capture_execute(capture_id=capture_id, browser=capture_browser)
        # then
        capture = Capture.objects.get(pk=capture_id)
        assert (capture.status, capture.progress, capture.attempts, capture.bundle.name) == (
            "queued",
            0,
            1,
            "",
        )
        # a short French reason for the doctor and the handler: no exception name, no address
        assert capture.error == "L'autorité d'horodatage ne répond pas."
        assert capture.tagmanifest_sha256 == ""
        assert _kinds(capture) == ["requested", "started"]


def test_attempts_are_bounded_then_the_capture_fails_with_its_reason(tenant_a, site: Site):
    # given a capture whose last allowed attempt died mid-run (still "running")
    with tenant_context(tenant_a.insurer):
        capture_id = capture_request(
            url=site.url("/consent"), requested_by=None, reason="", enqueue=False
        )
        Capture.objects.filter(pk=capture_id).update(status="running", attempts=4)
        # when it is delivered again
        capture = capture_execute(capture_id=capture_id)
        # then
        assert (capture.status, capture.attempts) == ("failed", 5)
        assert capture.error == (
            "Capture abandonnée après 4 tentatives. Dernière erreur : "
            "tentative interrompue (processus arrêté)"
        )
        assert _kinds(capture) == ["requested", "failed"]


def test_redirect_to_a_forbidden_address_fails_without_retry(tenant_a, site: Site, capture_browser):
    with tenant_context(tenant_a.insurer):
        capture_id = capture_request(
            url=site.url("/ssrf-redirect"), requested_by=None, reason="", enqueue=False
        )
        capture = capture_execute(capture_id=capture_id, browser=capture_browser)
        assert capture.status == "failed"
        assert capture.error.startswith(
            "Capture refusée : la page redirige vers une adresse non autorisée"
        )
        assert capture.bundle.name == ""
        assert site.forbidden_hits == []


def test_bundle_storage_is_write_once(tenant_a, evidence_env):
    with tenant_context(tenant_a.insurer):
        storage = Capture._meta.get_field("bundle").storage
        name = storage.save("bundles/essai-ecriture-unique.txt", ContentFile(b"v1"))
        with pytest.raises(FileExistsError):
            storage.save(name, ContentFile(b"v2"))
        with pytest.raises(PermissionError):
            storage.delete(name)
        path = evidence_env.root / "test_a" / "bundles" / "essai-ecriture-unique.txt"
        assert path.read_bytes() == b"v1"
        assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_onboarding_gave_each_insurer_its_own_seal(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        seal_a = SealKey.objects.get()
        assert evidence_provision(organisation="autre") == seal_a
    with tenant_context(tenant_b.insurer):
        seal_b = SealKey.objects.get()
    assert (seal_a.organisation, seal_b.organisation) == ("Assureur test A", "Assureur test B")
    assert seal_a.cert_pem != seal_b.cert_pem
