"""The certificate of cover: a PDF for a policy in force, refused for a lapsed one; one A4
page with its dates, sealed (PAdES) with the insurer's seal and verified with pyHanko."""

from __future__ import annotations

import datetime
import io
import re
import subprocess

import pytest
from asn1crypto import x509
from django.contrib.messages import get_messages
from django.test import Client
from django_tenants.utils import tenant_context
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from cover.models import Policy
from cover.services.policies import certificate_render
from evidence.models import SealKey
from evidence.pades import SEAL_FIELD
from evidence.seal import pem_to_der
from tests.cover.factories import PolicyFactory

pytestmark = pytest.mark.django_db


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    with tenant_context(tenant.insurer):
        client.force_login(user)
    return client


def test_an_active_policy_gets_its_certificate_as_a_pdf(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory()

    response = _client(tenant_a, policy.doctor.user).get(
        f"/portail/contrat/{policy.number}/attestation.pdf"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="attestation-{policy.number}.pdf"'
    )
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_a_past_due_policy_gets_no_certificate_and_a_french_reason(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(status=Policy.Status.PAST_DUE)

    response = _client(tenant_a, policy.doctor.user).get(
        f"/portail/contrat/{policy.number}/attestation.pdf"
    )

    assert response.status_code == 302
    assert response["Location"] == "/portail/contrat/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Ce contrat n'est pas en vigueur : aucune attestation ne peut être délivrée."
    ]


def test_another_doctors_policy_is_a_404(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory()
        intruder = PolicyFactory().doctor.user

    response = _client(tenant_a, intruder).get(f"/portail/contrat/{policy.number}/attestation.pdf")

    assert response.status_code == 404


def _text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-layout", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()


def _trust(ca_cert_pem: str) -> ValidationContext:
    return ValidationContext(
        trust_roots=[x509.Certificate.load(pem_to_der(ca_cert_pem.encode("ascii")))]
    )


def _long_policy() -> Policy:
    """A policy whose doctor fills every line, on a day it is in force, renewing in a year."""
    policy = PolicyFactory(
        doctor__practice_name="Cabinet médical des Hauts-de-Seine et du Val-de-Marne réunis",
        doctor__practice_address="12 bis, avenue du Général-Leclerc, bâtiment B, 3e étage",
        doctor__city="Boulogne-Billancourt",
        start_date=datetime.date(2026, 1, 15),
        renewal_date=datetime.date(2027, 1, 15),
    )
    return policy


def test_the_certificate_fits_one_page_with_its_dates_and_the_signature_line(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = _long_policy()
        pdf = certificate_render(policy=policy, on=datetime.date(2026, 12, 6))

    reader = PdfFileReader(io.BytesIO(pdf))
    text = _text(pdf)
    pages = text.rstrip("\f").split("\f")

    assert int(reader.root["/Pages"]["/Count"]) == 1
    assert len(pages) == 1
    assert "Date d'effet" in text and "15/01/2026" in text
    assert "Prochaine échéance" in text
    assert "15/01/2027, renouvelable par tacite reconduction" in text
    assert "Fait le 06/12/2026, pour servir et valoir ce que de droit." in pages[0]
    assert "Cachet électronique" in pages[0]


def test_a_cancelled_to_be_policy_certificate_states_its_end_date_not_a_renewal(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(
            start_date=datetime.date(2026, 1, 15),
            end_date=datetime.date(2027, 1, 15),
            cancel_requested_at=datetime.datetime(2026, 12, 1, 9, tzinfo=datetime.UTC),
        )
        text = _text(certificate_render(policy=policy, on=datetime.date(2026, 12, 6)))

    assert "Fin de la garantie" in text
    assert "15/01/2027 (résiliation demandée, sans renouvellement)" in text
    assert "Prochaine échéance" not in text


def test_the_certificate_is_sealed_by_the_insurer_and_verifies_against_its_seal_ca(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = _long_policy()
        pdf = certificate_render(policy=policy, on=datetime.date(2026, 12, 6))
        seal = SealKey.objects.order_by("-created_at").first()

    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    status = validate_pdf_signature(signatures[0], _trust(seal.ca_cert_pem))

    assert [s.field_name for s in signatures] == [SEAL_FIELD]
    assert signatures[0].sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert (status.intact, status.valid, status.trusted, status.bottom_line) == (
        True,
        True,
        True,
        True,
    )
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.signing_cert.subject.native["organization_name"] == seal.organisation
    # The visible stamp sits on the page, inside the box the layout keeps free.
    annotation = signatures[0].sig_field
    x1, y1, x2, y2 = (float(v) for v in annotation["/Rect"])
    assert (x2 - x1, y2 - y1) == (198.0, 62.0)
    assert 0 < y1 < 80


def test_another_insurers_seal_ca_does_not_trust_the_certificate(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        pdf = certificate_render(policy=_long_policy(), on=datetime.date(2026, 12, 6))
    with tenant_context(tenant_b.insurer):
        from evidence.services.provisioning import evidence_provision

        other_ca = evidence_provision(organisation="Assureur B").ca_cert_pem

    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    status = validate_pdf_signature(signature, _trust(other_ca))

    assert (status.intact, status.valid, status.trusted) == (True, True, False)


def test_a_changed_byte_breaks_the_seal(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = _long_policy()
        pdf = certificate_render(policy=policy, on=datetime.date(2026, 12, 6))
        seal = SealKey.objects.order_by("-created_at").first()
    # The seal's own dictionary (signed, except /Contents) names the insurer in /Location.
    location = re.search(rb"/Location \(([^)]+)\)", pdf)
    assert location is not None
    start = location.start(1)
    tampered = pdf[:start] + b"Z" + pdf[start + 1 :]

    signature = PdfFileReader(io.BytesIO(tampered)).embedded_signatures[0]
    status = validate_pdf_signature(signature, _trust(seal.ca_cert_pem))

    assert tampered != pdf
    assert status.intact is False
