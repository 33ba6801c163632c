"""Envelope encryption of the insurers' seal private keys (at rest in their schemas).

Why this exists: a seal key signs evidence a court will read; a database dump, a backup or a
read-only SQL access must not be enough to forge a bundle. Each seal key is encrypted with its
own random data key (AES-256-GCM); the data key is stored wrapped by a *master key* that never
enters the database. A master key is named by an id derived from it, so several can be known at
once while they are rotated (``evidence_keys_rotate`` re-wraps data keys under the current one;
the seal ciphertexts and certificates do not change).

Where the master key comes from (settings):

- ``EGIDE_MASTER_KEY_FILE``: a file holding the base64 of 32 random bytes
  (``openssl rand -base64 32``), or ``EGIDE_MASTER_KEY``: that base64 in the environment;
- ``EGIDE_MASTER_KEY_PREVIOUS_FILES`` / ``EGIDE_MASTER_KEY_PREVIOUS``: former master keys, still
  accepted for reading until the rotation is done;
- development, the embedded stack and tests: when nothing is configured, the file
  ``VAR_DIR/keys/master.key`` is created (mode 0600) on first use. Production settings refuse to
  start without a configured master key.

Ciphertexts carry a version byte and a random 96-bit nonce; the associated data binds a data key
and a seal key to the schema and row they belong to, so a ciphertext copied to another insurer's
row or schema does not decrypt. No Django model here: the migration that encrypts the
existing keys calls these functions too.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

KEY_BYTES = 32
NONCE_BYTES = 12
FORMAT_VERSION = b"\x01"
MASTER_KEY_ID_LENGTH = 16


class MasterKeyError(Exception):
    """No usable master key (missing, unreadable or malformed); the message is French."""


class SealKeyDecryptError(Exception):
    """A seal key could not be decrypted (unknown master key, or altered ciphertext)."""


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class EncryptedKey:
    """What the database stores for one seal private key."""

    key_ciphertext: bytes
    data_key_wrapped: bytes
    master_key_id: str


def master_key_id(key: bytes) -> str:
    """A short public name for a master key (a hash of it, not the key)."""
    return hashlib.sha256(b"egide-master-key-id\x00" + key).hexdigest()[:MASTER_KEY_ID_LENGTH]


def master_key_decode(text: str | bytes, *, source: str) -> bytes:
    """The 32 bytes of a base64 master key; a French error naming ``source`` otherwise."""
    raw = text.strip() if isinstance(text, bytes) else text.strip().encode("ascii", "replace")
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MasterKeyError(
            f"clé maîtresse illisible ({source}) : base64 de 32 octets attendu"
        ) from exc
    if len(key) != KEY_BYTES:
        raise MasterKeyError(
            f"clé maîtresse invalide ({source}) : {len(key)} octets au lieu de {KEY_BYTES}"
        )
    return key


def _file_read(path: Path) -> bytes:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise MasterKeyError(f"clé maîtresse introuvable ou illisible : {path} ({exc})") from exc
    return master_key_decode(text, source=str(path))


def master_key_file_create(path: Path) -> bool:
    """Create ``path`` with a new random master key (mode 0600); False if it already exists.

    Written to a temporary file then hard-linked into place, so that processes starting
    together (web, workers, parallel test runs) never read a half-written key and all end up
    with the same one.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.exists():
        return False
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def master_key_default_path() -> Path:
    return Path(settings.VAR_DIR) / "keys" / "master.key"


def master_key_current() -> MasterKey:
    """The master key new data keys are wrapped with."""
    configured_file = getattr(settings, "EGIDE_MASTER_KEY_FILE", "") or ""
    configured_env = getattr(settings, "EGIDE_MASTER_KEY", "") or ""
    if configured_file:
        key = _file_read(Path(configured_file))
    elif configured_env:
        key = master_key_decode(configured_env, source="EGIDE_MASTER_KEY")
    elif getattr(settings, "EGIDE_MASTER_KEY_CREATE", False):
        path = master_key_default_path()
        master_key_file_create(path)
        key = _file_read(path)
    else:
        raise MasterKeyError(
            "aucune clé maîtresse configurée (EGIDE_MASTER_KEY_FILE ou EGIDE_MASTER_KEY)"
        )
    return MasterKey(key_id=master_key_id(key), key=key)


def master_keys_known() -> dict[str, MasterKey]:
    """Every master key this process may unwrap with: the current one and the previous ones."""
    current = master_key_current()
    keys = {current.key_id: current}
    previous = [
        _file_read(Path(name)) for name in getattr(settings, "EGIDE_MASTER_KEY_PREVIOUS_FILES", [])
    ]
    previous += [
        master_key_decode(text, source="EGIDE_MASTER_KEY_PREVIOUS")
        for text in getattr(settings, "EGIDE_MASTER_KEY_PREVIOUS", [])
    ]
    for key in previous:
        keys.setdefault(master_key_id(key), MasterKey(key_id=master_key_id(key), key=key))
    return keys


def seal_key_context(*, schema_name: str, seal_id: int) -> bytes:
    """Associated data binding a seal key's ciphertexts to its schema and row."""
    return f"egide-seal-key:{schema_name}:{seal_id}".encode()


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return FORMAT_VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    blob = bytes(blob)
    if blob[:1] != FORMAT_VERSION or len(blob) < 1 + NONCE_BYTES + 16:
        raise SealKeyDecryptError("format de clé chiffrée inconnu")
    nonce, ciphertext = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag as exc:
        raise SealKeyDecryptError("clé chiffrée altérée ou d'un autre emplacement") from exc


def _wrap_aad(context: bytes, key_id: str) -> bytes:
    return b"wrap\x00" + context + b"\x00" + key_id.encode()


def data_key_wrap(*, data_key: bytes, master: MasterKey, context: bytes) -> bytes:
    return _seal(master.key, data_key, _wrap_aad(context, master.key_id))


def data_key_unwrap(*, data_key_wrapped: bytes, master_key_id: str, context: bytes) -> bytes:
    master = master_keys_known().get(master_key_id)
    if master is None:
        raise SealKeyDecryptError(
            f"clé maîtresse {master_key_id} inconnue : configurez-la dans "
            "EGIDE_MASTER_KEY_PREVIOUS_FILES le temps de la rotation"
        )
    return _open(master.key, data_key_wrapped, _wrap_aad(context, master.key_id))


def seal_key_encrypt(*, key_pem: bytes, context: bytes) -> EncryptedKey:
    """Encrypt a private key under a fresh data key, wrapped by the current master key."""
    master = master_key_current()
    data_key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    return EncryptedKey(
        key_ciphertext=_seal(data_key, key_pem, b"key\x00" + context),
        data_key_wrapped=data_key_wrap(data_key=data_key, master=master, context=context),
        master_key_id=master.key_id,
    )


def seal_key_decrypt(
    *, key_ciphertext: bytes, data_key_wrapped: bytes, master_key_id: str, context: bytes
) -> bytes:
    """The private key (PEM), in memory only."""
    data_key = data_key_unwrap(
        data_key_wrapped=data_key_wrapped, master_key_id=master_key_id, context=context
    )
    return _open(data_key, key_ciphertext, b"key\x00" + context)


def data_key_rewrap(
    *, data_key_wrapped: bytes, master_key_id: str, context: bytes
) -> tuple[bytes, str] | None:
    """Re-wrap a data key under the current master key; None if it already is."""
    current = master_key_current()
    if master_key_id == current.key_id:
        return None
    data_key = data_key_unwrap(
        data_key_wrapped=data_key_wrapped, master_key_id=master_key_id, context=context
    )
    return data_key_wrap(data_key=data_key, master=current, context=context), current.key_id
