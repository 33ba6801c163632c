"""The insurer's seal: storing it encrypted, reading it back in memory, importing a qualified one.

Why this exists: the seal key signs every bundle and every certificate of cover, so it lives
encrypted in the tenant schema (``common.keys``) and only this module decrypts it, for the
time of one signature. An insurer may replace the platform-issued seal by a qualified e-seal
bought from a qualified trust service provider, delivered as a PKCS#12 file (.p12/.pfx):
``seal_import`` checks it as a verifier would (password, key usage, validity, the chain up to
a root, the key matching the certificate) and refuses it, in French, with nothing stored,
otherwise. The newest seal seals new bundles; older ones stay for the record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from asn1crypto import core as asn1_core
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from common.keys import (
    data_key_rewrap,
    seal_key_context,
    seal_key_decrypt,
    seal_key_encrypt,
)
from evidence.models import SealKey
from tenants.db import connection

P12_MAX_BYTES = 64 * 1024
P12_PASSWORD_MAX_LENGTH = 512
CHAIN_MAX_LENGTH = 8
# bag-info.txt values naming where the seal comes from (EVIDENCE.md, « Every bundle says which »).
BAG_ORIGIN: dict[str, str] = {
    SealKey.Origin.PLATFORM.value: "platform-issued",
    SealKey.Origin.IMPORTED.value: "imported-qualified",
}


@dataclass(frozen=True)
class SealMaterial:
    """What a signature needs, the private key decrypted in memory for this use only."""

    organisation: str
    origin: str
    key_pem: bytes
    cert_pem: bytes
    ca_pem: bytes
    subject: str

    def bag_info(self) -> dict[str, str]:
        return {"Egide-Seal-Origin": BAG_ORIGIN[self.origin], "Egide-Seal-Subject": self.subject}


@dataclass(frozen=True)
class SealSummary:
    """The seal as the insurer admin sees it."""

    pk: int
    origin: str
    origin_label: str
    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    serial: str
    created_at: dt.datetime


def _context(seal: SealKey) -> bytes:
    return seal_key_context(schema_name=connection.schema_name, seal_id=seal.pk)


@transaction.atomic
def seal_key_store(
    *,
    organisation: str,
    origin: str,
    key_pem: bytes,
    cert_pem: bytes,
    ca_cert_pem: bytes,
    imported_by=None,
) -> SealKey:
    """Store a seal, its private key encrypted under a data key of its own.

    The associated data names the row, so the row is created first and filled in the same
    transaction: no clear key is ever written.
    """
    seal = SealKey.objects.create(
        organisation=organisation,
        origin=origin,
        key_ciphertext=b"",
        data_key_wrapped=b"",
        master_key_id="",
        cert_pem=cert_pem.decode("ascii"),
        ca_cert_pem=ca_cert_pem.decode("ascii"),
        imported_by=imported_by,
    )
    encrypted = seal_key_encrypt(key_pem=key_pem, context=_context(seal))
    seal.key_ciphertext = encrypted.key_ciphertext
    seal.data_key_wrapped = encrypted.data_key_wrapped
    seal.master_key_id = encrypted.master_key_id
    seal.save(update_fields=["key_ciphertext", "data_key_wrapped", "master_key_id"])
    return seal


def seal_private_key_pem(*, seal: SealKey) -> bytes:
    """The seal's private key (PEM), decrypted in memory; never store or log it."""
    return seal_key_decrypt(
        key_ciphertext=bytes(seal.key_ciphertext),
        data_key_wrapped=bytes(seal.data_key_wrapped),
        master_key_id=seal.master_key_id,
        context=_context(seal),
    )


def seal_current() -> SealKey | None:
    """The seal new bundles and documents are sealed with: the newest one."""
    return SealKey.objects.order_by("-created_at", "-pk").first()


def seal_material(*, seal: SealKey) -> SealMaterial:
    cert = x509.load_pem_x509_certificate(seal.cert_pem.encode("ascii"))
    return SealMaterial(
        organisation=seal.organisation,
        origin=seal.origin,
        key_pem=seal_private_key_pem(seal=seal),
        cert_pem=seal.cert_pem.encode("ascii"),
        ca_pem=seal.ca_cert_pem.encode("ascii"),
        subject=cert.subject.rfc4514_string(),
    )


def seal_summary(*, seal: SealKey) -> SealSummary:
    cert = x509.load_pem_x509_certificate(seal.cert_pem.encode("ascii"))
    return SealSummary(
        pk=seal.pk,
        origin=seal.origin,
        origin_label=str(SealKey.Origin(seal.origin).label),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        serial=f"{cert.serial_number:X}",
        created_at=seal.created_at,
    )


def seal_keys_rewrap() -> tuple[int, int]:
    """Re-wrap every data key of this schema under the current master key.

    Certificates and key ciphertexts are untouched. Returns (re-wrapped, already current).
    """
    rewrapped = current = 0
    with transaction.atomic():
        for seal in SealKey.objects.select_for_update().order_by("pk"):
            result = data_key_rewrap(
                data_key_wrapped=bytes(seal.data_key_wrapped),
                master_key_id=seal.master_key_id,
                context=_context(seal),
            )
            if result is None:
                current += 1
                continue
            seal.data_key_wrapped, seal.master_key_id = result
            seal.save(update_fields=["data_key_wrapped", "master_key_id"])
            rewrapped += 1
    return rewrapped, current


# --- PKCS#12 import --------------------------------------------------------------------------


def _looks_like_pfx(data: bytes) -> bool:
    """A DER PFX (RFC 7292 §4): SEQUENCE { version INTEGER 3, authSafe, macData }."""
    try:
        parsed = asn1_core.Sequence.load(data, strict=True)
        version = parsed[0]
    except (ValueError, TypeError, KeyError, IndexError):
        return False
    return isinstance(version, asn1_core.Integer) and version.native == 3


def _is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _valid_now(cert: x509.Certificate, now: dt.datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _chain_build(
    *, leaf: x509.Certificate, extra: list[x509.Certificate], now: dt.datetime
) -> list[x509.Certificate]:
    """Intermediates then root, each verified as the issuer of the one before."""
    if _is_self_signed(leaf):
        raise ValidationError(
            _("Le certificat du cachet est auto-signé : il doit être délivré par une autorité.")
        )
    chain: list[x509.Certificate] = []
    current = leaf
    for _step in range(CHAIN_MAX_LENGTH):
        issuer = None
        for candidate in extra:
            if candidate.subject != current.issuer or candidate in chain:
                continue
            try:
                current.verify_directly_issued_by(candidate)
            except (InvalidSignature, ValueError, TypeError):
                continue
            issuer = candidate
            break
        if issuer is None:
            raise ValidationError(
                _(
                    "La chaîne de certification est incomplète ou invalide : le certificat "
                    "de l'autorité « %(issuer)s » est absent du fichier ou ne l'a pas signé."
                )
                % {"issuer": current.issuer.rfc4514_string()}
            )
        if not _is_ca(issuer):
            raise ValidationError(
                _("Le certificat « %(subject)s » de la chaîne n'est pas une autorité.")
                % {"subject": issuer.subject.rfc4514_string()}
            )
        if not _valid_now(issuer, now):
            raise ValidationError(
                _("Le certificat d'autorité « %(subject)s » n'est pas en cours de validité.")
                % {"subject": issuer.subject.rfc4514_string()}
            )
        chain.append(issuer)
        if _is_self_signed(issuer):
            return chain
        current = issuer
    raise ValidationError(_("La chaîne de certification est trop longue."))


def _key_usage_check(cert: x509.Certificate) -> None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise ValidationError(
            _("Le certificat n'indique pas d'usage de clé : un cachet exige la signature.")
        ) from exc
    if not (usage.digital_signature or usage.content_commitment):
        raise ValidationError(
            _(
                "L'usage de clé du certificat ne permet pas de signer (signature numérique "
                "ou non-répudiation requise)."
            )
        )


def _public_der(key) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class _Checked:
    key_pem: bytes
    cert_pem: bytes
    chain_pem: bytes
    organisation: str


def seal_p12_check(*, data: bytes, password: str, now: dt.datetime | None = None) -> _Checked:
    """Check a PKCS#12 file as a qualified seal; French ``ValidationError`` otherwise."""
    now = now or dt.datetime.now(dt.UTC)
    if not data:
        raise ValidationError(_("Le fichier est vide."))
    if len(data) > P12_MAX_BYTES:
        raise ValidationError(
            _("Le fichier dépasse %(size)s Ko : ce n'est pas un cachet PKCS#12.")
            % {"size": P12_MAX_BYTES // 1024}
        )
    if not _looks_like_pfx(data):
        raise ValidationError(_("Ce fichier n'est pas un fichier PKCS#12 (.p12 ou .pfx)."))
    try:
        bundle = pkcs12.load_pkcs12(data, password.encode("utf-8") if password else None)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            _("Mot de passe incorrect, ou fichier PKCS#12 endommagé : il ne peut pas être ouvert.")
        ) from exc
    if bundle.key is None or bundle.cert is None:
        raise ValidationError(
            _("Le fichier doit contenir la clé privée du cachet et son certificat.")
        )
    key = bundle.key
    leaf = bundle.cert.certificate
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValidationError(_("Type de clé non pris en charge : ECDSA ou RSA attendus."))
    if _public_der(key.public_key()) != _public_der(leaf.public_key()):
        raise ValidationError(_("La clé privée ne correspond pas au certificat du cachet."))
    if now < leaf.not_valid_before_utc:
        raise ValidationError(
            _("Le certificat du cachet n'est pas encore valide (valide à partir du %(date)s).")
            % {"date": leaf.not_valid_before_utc.strftime("%d/%m/%Y")}
        )
    if now > leaf.not_valid_after_utc:
        raise ValidationError(
            _("Le certificat du cachet a expiré le %(date)s.")
            % {"date": leaf.not_valid_after_utc.strftime("%d/%m/%Y")}
        )
    if _is_ca(leaf):
        raise ValidationError(
            _("Le certificat fourni est celui d'une autorité, pas celui d'un cachet.")
        )
    _key_usage_check(leaf)
    extra = [item.certificate for item in bundle.additional_certs]
    chain = _chain_build(leaf=leaf, extra=extra, now=now)
    organisations = leaf.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    common_names = leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    names = organisations or common_names
    organisation = str(names[0].value) if names else leaf.subject.rfc4514_string()
    return _Checked(
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        cert_pem=leaf.public_bytes(serialization.Encoding.PEM),
        chain_pem=b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in chain),
        organisation=organisation[:200],
    )


def seal_import(*, data: bytes, password: str, imported_by) -> SealKey:
    """Import a qualified seal from a PKCS#12 file; it seals every new bundle from now on."""
    checked = seal_p12_check(data=data, password=password)
    return seal_key_store(
        organisation=checked.organisation,
        origin=SealKey.Origin.IMPORTED,
        key_pem=checked.key_pem,
        cert_pem=checked.cert_pem,
        ca_cert_pem=checked.chain_pem,
        imported_by=imported_by,
    )
