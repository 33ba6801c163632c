"""The insurer's seal: provisioned once (onboarding), read by whatever signs in its name."""

from __future__ import annotations

from evidence.models import SealKey
from evidence.pki import seal_pki_generate
from evidence.seals import SealMaterial, seal_current, seal_key_store, seal_material


def evidence_provision(*, organisation: str) -> SealKey:
    """Give a new insurer its seal key and certificate (once; onboarding calls this).

    The key is generated here by the platform's own CA; an insurer may later import a
    qualified seal (``evidence.seals.seal_import``). The private key is stored encrypted.
    """
    existing = seal_current()
    if existing is not None:
        return existing
    pki = seal_pki_generate(organisation=organisation)
    return seal_key_store(
        organisation=organisation,
        origin=SealKey.Origin.PLATFORM,
        key_pem=pki.key_pem,
        cert_pem=pki.cert_pem,
        ca_cert_pem=pki.ca_cert_pem,
    )


def evidence_seal_material(*, organisation: str) -> SealMaterial:
    """The seal that signs now (provisioned if missing), its key decrypted in memory only.

    For documents other apps seal (PAdES certificates of cover); bundles read it the same way.
    """
    return seal_material(seal=evidence_provision(organisation=organisation))
