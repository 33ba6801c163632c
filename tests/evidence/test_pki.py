"""Certificate profiles of the local TSA and of the insurer seals (evidence/pki.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from evidence.pki import seal_pki_generate, tsa_pki_generate
from tests.evidence.conftest import run


def _write(tmp_path: Path, **files: bytes) -> dict[str, str]:
    paths = {}
    for name, content in files.items():
        (tmp_path / f"{name}.pem").write_bytes(content)
        paths[name] = str(tmp_path / f"{name}.pem")
    return paths


def test_tsa_certificate_has_critical_timestamping_eku_and_chains_to_its_ca(tmp_path):
    # given
    pki = tsa_pki_generate(common_name="TSA locale", valid_days=10)

    # when
    cert = x509.load_pem_x509_certificate(pki.cert_pem)
    ca = x509.load_pem_x509_certificate(pki.ca_cert_pem)
    paths = _write(tmp_path, ca=pki.ca_cert_pem, tsa=pki.cert_pem)
    verified = run(
        ["openssl", "verify", "-CAfile", paths["ca"], "-purpose", "timestampsign", paths["tsa"]]
    )

    # then
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical is True
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (key_usage.digital_signature, key_usage.content_commitment) == (True, True)
    assert key_usage.key_cert_sign is False
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "TSA locale"
    assert cert.issuer == ca.subject
    assert (verified.returncode, verified.stdout.strip()) == (0, f"{paths['tsa']}: OK")


def test_tsa_certificate_validity_can_be_placed_in_the_past():
    # given
    not_before = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    not_after = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)

    # when
    pki = tsa_pki_generate(common_name="TSA expirée", not_before=not_before, not_after=not_after)

    # then
    cert = x509.load_pem_x509_certificate(pki.cert_pem)
    ca = x509.load_pem_x509_certificate(pki.ca_cert_pem)
    assert (cert.not_valid_before_utc, cert.not_valid_after_utc) == (not_before, not_after)
    assert ca.not_valid_before_utc == dt.datetime(2019, 12, 31, 23, 55, tzinfo=dt.UTC)
    assert ca.not_valid_after_utc == dt.datetime(2039, 12, 26, 23, 55, tzinfo=dt.UTC)


def test_seal_certificate_names_the_insurer_and_is_limited_to_signing(tmp_path):
    # given
    organisation = "Assurance Médicale Exemple"

    # when
    pki = seal_pki_generate(organisation=organisation, valid_days=10)

    # then
    cert = x509.load_pem_x509_certificate(pki.cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == organisation
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "Assurance Médicale Exemple - cachet"
    )
    key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert key_usage.critical is True
    assert (
        key_usage.value.digital_signature,
        key_usage.value.content_commitment,
        key_usage.value.key_encipherment,
        key_usage.value.key_cert_sign,
    ) == (True, True, False, False)
    paths = _write(tmp_path, ca=pki.ca_cert_pem, seal=pki.cert_pem)
    verified = run(["openssl", "verify", "-CAfile", paths["ca"], paths["seal"]])
    assert verified.returncode == 0


def test_valid_days_sets_not_after():
    # given
    not_before = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    # when
    pki = seal_pki_generate(organisation="X", not_before=not_before, valid_days=365)

    # then
    cert = x509.load_pem_x509_certificate(pki.cert_pem)
    assert cert.not_valid_after_utc == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def test_naive_or_inverted_validity_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        tsa_pki_generate(common_name="T", not_before=dt.datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="later than"):
        seal_pki_generate(
            organisation="X",
            not_before=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
            not_after=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
