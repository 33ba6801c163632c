"""Local key material for evidence bundles: a timestamp authority (TSA) and per-insurer seals.

Why this exists: EVIDENCE.md requires every bundle to carry an RFC 3161 timestamp and a CMS seal.
In production the timestamp comes from a qualified eIDAS TSA, but development, tests and the
onboarding of a new insurer need certificates the project generates itself. The profiles below
are the ones the standard verifiers demand:

- ``openssl ts -verify`` refuses a TSA certificate unless it carries
  ``extendedKeyUsage = critical, timeStamping`` (RFC 3161 §2.3);
- a seal certificate names the insurer in its subject and is limited to
  digitalSignature + nonRepudiation (contentCommitment), as an electronic seal is.

Pure Python (no Django) so that the TSA server and the verifier can run outside the web app.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Five minutes of back-dating absorbs clock skew between the machine that issues a certificate
# and the one that verifies it right away.
_BACKDATE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class TsaPki:
    """A TSA CA and the timestamp-signing certificate it issued, all PEM."""

    ca_cert_pem: bytes
    ca_key_pem: bytes
    cert_pem: bytes
    key_pem: bytes


@dataclass(frozen=True)
class SealPki:
    """A seal CA and one insurer's (or the platform's) seal certificate, all PEM."""

    ca_cert_pem: bytes
    ca_key_pem: bytes
    cert_pem: bytes
    key_pem: bytes


@dataclass(frozen=True)
class _Validity:
    not_before: dt.datetime
    not_after: dt.datetime


# Key usages per certificate profile, kept as data so the profiles can be read in one place.
_CA_KEY_USAGE = {"key_cert_sign": True, "crl_sign": True}
_TSA_KEY_USAGE = {"digital_signature": True, "content_commitment": True}
_SEAL_KEY_USAGE = {"digital_signature": True, "content_commitment": True}

_KEY_USAGE_FIELDS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def _key_usage(flags: dict[str, bool]) -> x509.KeyUsage:
    return x509.KeyUsage(**{name: flags.get(name, False) for name in _KEY_USAGE_FIELDS})


def _validity(
    *,
    valid_days: int,
    not_before: dt.datetime | None,
    not_after: dt.datetime | None,
) -> _Validity:
    start = not_before or (dt.datetime.now(dt.UTC) - _BACKDATE)
    end = not_after or (start + dt.timedelta(days=valid_days))
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("not_before/not_after must be timezone-aware")
    if end <= start:
        raise ValueError("not_after must be later than not_before")
    return _Validity(not_before=start, not_after=end)


def _key_new() -> ec.EllipticCurvePrivateKey:
    # P-256 ECDSA: accepted by OpenSSL, eIDAS (ETSI TS 119 312) and fast enough for tests.
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(*, organisation: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_issue(
    *, subject: x509.Name, validity: _Validity
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key_new()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity.not_before)
        .not_valid_after(validity.not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(_CA_KEY_USAGE), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf_issue(
    *,
    subject: x509.Name,
    validity: _Validity,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    key_usage: dict[str, bool],
    extended_key_usage: list[x509.ObjectIdentifier] | None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key_new()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity.not_before)
        .not_valid_after(validity.not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(key_usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if extended_key_usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended_key_usage), critical=True)
    return builder.sign(ca_key, hashes.SHA256()), key


def tsa_pki_generate(
    *,
    common_name: str,
    valid_days: int = 3650,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    ca_valid_days: int = 7300,
) -> TsaPki:
    """Create a TSA CA and a TSA certificate (EKU critical timeStamping).

    ``not_before``/``not_after`` bound the TSA certificate only (the CA stays valid for
    ``ca_valid_days`` from ``not_before``), so a test can build a TSA certificate that is
    already expired while its CA is not — the situation ``-attime`` exists for.
    """
    leaf_validity = _validity(valid_days=valid_days, not_before=not_before, not_after=not_after)
    ca_validity = _validity(
        valid_days=ca_valid_days,
        not_before=leaf_validity.not_before - _BACKDATE,
        not_after=None,
    )
    ca_cert, ca_key = _ca_issue(
        subject=_name(organisation=common_name, common_name=f"{common_name} Root CA"),
        validity=ca_validity,
    )
    cert, key = _leaf_issue(
        subject=_name(organisation=common_name, common_name=common_name),
        validity=leaf_validity,
        ca_cert=ca_cert,
        ca_key=ca_key,
        key_usage=_TSA_KEY_USAGE,
        extended_key_usage=[ExtendedKeyUsageOID.TIME_STAMPING],
    )
    return TsaPki(
        ca_cert_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        ca_key_pem=_key_pem(ca_key),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=_key_pem(key),
    )


def seal_pki_generate(
    *,
    organisation: str,
    valid_days: int = 3650,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    ca_valid_days: int = 7300,
) -> SealPki:
    """Create a seal CA and a seal certificate whose subject names ``organisation``."""
    leaf_validity = _validity(valid_days=valid_days, not_before=not_before, not_after=not_after)
    ca_validity = _validity(
        valid_days=ca_valid_days,
        not_before=leaf_validity.not_before - _BACKDATE,
        not_after=None,
    )
    ca_cert, ca_key = _ca_issue(
        subject=_name(organisation=organisation, common_name=f"{organisation} - AC cachet"),
        validity=ca_validity,
    )
    cert, key = _leaf_issue(
        subject=_name(organisation=organisation, common_name=f"{organisation} - cachet"),
        validity=leaf_validity,
        ca_cert=ca_cert,
        ca_key=ca_key,
        key_usage=_SEAL_KEY_USAGE,
        extended_key_usage=None,
    )
    return SealPki(
        ca_cert_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        ca_key_pem=_key_pem(ca_key),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=_key_pem(key),
    )
