"""TLS trust for captures: which certificate authorities a captured HTTPS page is checked against.

Chromium validates every HTTPS page it loads against the system's roots; a page that fails is
captured as the browser's error page. The chain the browser was served is saved in the bundle
(``provenance/tls/<host>.pem``) and validated again here, in Python, against the same roots
(certifi's Mozilla bundle) plus an optional extra authority, and the verdict is recorded in
network.json — so the report can say the chain holds, and anyone can redo it with
``openssl verify``.

The extra authority (``EGIDE_CAPTURE_EXTRA_CA_FILE``) exists for tests, whose pages are served
on loopback by a CA the project generates: Chromium is told to accept certificate chains that
contain exactly that CA's key (``--ignore-certificate-errors-spki-list``), nothing else. It is
empty in production, where no such flag is passed.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
import warnings
from datetime import datetime
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from evidence.prechecks import UNKNOWN, iso_utc


def pem_certificates_load(path: str | Path) -> list[x509.Certificate]:
    """The certificates of a PEM file; ``ValueError`` when it holds none."""
    return x509.load_pem_x509_certificates(Path(path).read_bytes())


def spki_sha256_b64(certificate: x509.Certificate) -> str:
    """Base64 SHA-256 of the SubjectPublicKeyInfo, as Chromium's SPKI allow-list expects."""
    der = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


def chromium_trust_args(extra_ca_file: str | Path | None) -> tuple[str, ...]:
    """Chromium arguments that make it accept chains holding the extra CA (none without one)."""
    if not extra_ca_file:
        return ()
    hashes = ",".join(spki_sha256_b64(cert) for cert in pem_certificates_load(extra_ca_file))
    return (f"--ignore-certificate-errors-spki-list={hashes}",)


@functools.cache
def _system_roots() -> tuple[x509.Certificate, ...]:
    with warnings.catch_warnings():
        # A few old roots have non-positive serial numbers; they still parse.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return tuple(x509.load_pem_x509_certificates(Path(certifi.where()).read_bytes()))


def tls_chain_verify(
    *,
    chain_pem: bytes,
    host: str,
    at: datetime,
    extra_ca_file: str | Path | None = None,
) -> dict:
    """Validate a served chain (leaf first) for ``host`` at ``at``; a record for network.json.

    Roots: certifi's bundle, plus the certificates of ``extra_ca_file``. The check follows
    RFC 5280 and the Web PKI profile (``cryptography.x509.verification``), name included.
    """
    roots_text = f"racines de confiance de certifi {certifi.__version__}"
    record: dict = {"checked_at": iso_utc(at), "trust": roots_text}
    try:
        chain = x509.load_pem_x509_certificates(chain_pem)
    except ValueError as exc:
        record["status"] = UNKNOWN + f"chaîne illisible ({exc})"
        return record
    roots = list(_system_roots())
    if extra_ca_file:
        roots += pem_certificates_load(extra_ca_file)
        record["trust"] = f"{roots_text}, plus l'autorité de {Path(extra_ca_file).name}"
    try:
        subject: x509.DNSName | x509.IPAddress = x509.IPAddress(
            ipaddress.ip_address(host.strip("[]"))
        )
    except ValueError:
        subject = x509.DNSName(host)
    try:
        verifier = PolicyBuilder().store(Store(roots)).time(at).build_server_verifier(subject)
        path = verifier.verify(chain[0], chain[1:])
    except (VerificationError, ValueError, TypeError) as exc:
        # Recorded, never fatal: the browser has already accepted or refused the page itself.
        record["status"] = UNKNOWN + f"chaîne non validée hors ligne ({exc})"
        return record
    record["status"] = "valide"
    record["path"] = [cert.subject.rfc4514_string() for cert in path]
    return record
