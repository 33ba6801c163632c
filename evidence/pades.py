"""PAdES seals on PDF documents (a certificate of cover, for instance), with pyHanko.

Why: a document the doctor shows to a third party must prove who issued it. A PAdES signature
(ETSI EN 319 142, subfilter ``ETSI.CAdES.detached``) made with the insurer's seal key
(``evidence.models.SealKey``) is checked by any PDF reader that trusts the insurer's seal CA,
and by ``pyhanko sign validate``. The visible stamp sits in a box the document's layout
reserves; without a box the signature is invisible but just as valid.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from asn1crypto import pem as asn1_pem
from asn1crypto import x509
from pyhanko.keys import load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from evidence.seal import pem_to_der

SEAL_FIELD = "CachetAssureur"


@dataclass(frozen=True)
class StampBox:
    """Where the visible stamp goes: page index and a PDF rectangle in points (x1, y1, x2, y2)."""

    page: int
    box: tuple[int, int, int, int]


def _certificate(pem: bytes) -> x509.Certificate:
    return x509.Certificate.load(pem_to_der(pem))


def _certificates(pem: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM chain (an imported seal's intermediates and root)."""
    if not asn1_pem.detect(pem):
        return [x509.Certificate.load(pem)]
    return [x509.Certificate.load(der) for _, _, der in asn1_pem.unarmor(pem, multiple=True)]


def pdf_seal(
    *,
    pdf: bytes,
    key_pem: bytes,
    cert_pem: bytes,
    ca_cert_pem: bytes,
    reason: str,
    location: str,
    stamp_text: str,
    stamp: StampBox | None = None,
) -> bytes:
    """Return ``pdf`` with a PAdES B-B seal appended (an incremental update, SHA-256).

    The seal certificate and its CA travel in the signature so a reader only needs to trust
    the CA. ``stamp_text`` may use pyHanko's ``%(signer)s`` and ``%(ts)s`` placeholders.
    """
    signer = signers.SimpleSigner(
        signing_cert=_certificate(cert_pem),
        signing_key=load_private_key_from_pemder_data(key_pem, passphrase=None),
        cert_registry=SimpleCertificateStore.from_certs(_certificates(ca_cert_pem)),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    field_spec = (
        fields.SigFieldSpec(sig_field_name=SEAL_FIELD, on_page=stamp.page, box=stamp.box)
        if stamp is not None
        else None
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer,
        stamp_style=TextStampStyle(stamp_text=stamp_text, border_width=1),
        new_field_spec=field_spec,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = io.BytesIO()
    pdf_signer.sign_pdf(writer, output=out)
    return out.getvalue()
