"""Evidence bundles on S3-compatible object storage, locked by the storage itself.

The filesystem backend keeps bundles write-once because the application refuses to change
them; a server administrator still could. Here the bucket enforces it: every object is written
with Object Lock in COMPLIANCE mode until now + the insurer's retention
(``EvidenceSettings.retention_years``), so no account — not Égide's, not the bucket owner's —
can delete or overwrite that version before the date. The bucket must have been created with
Object Lock (which turns versioning on); ``evidence_bucket_check`` says so when it has not.

Writes are conditional (``If-None-Match: *``): an existing key is refused, never replaced by a
new version. Every object is encrypted at rest (SSE-S3 ``AES256`` or SSE-KMS with a key id).
Keys live under ``<schema>/``: two insurers never share a prefix.
"""

from __future__ import annotations

import datetime as dt
import functools
import mimetypes
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from evidence.settings_models import evidence_retention_years

LOCK_MODE = "COMPLIANCE"
SSE_MODES = ("AES256", "aws:kms")
# Errors S3 answers a conditional write with when the key already exists.
EXISTS_CODES = ("PreconditionFailed", "ConditionalRequestConflict")


def retain_until(*, now: dt.datetime, years: int) -> dt.datetime:
    """``now`` + ``years`` calendar years (29 February falls back to the 28th), in UTC."""
    return (now + relativedelta(years=years)).astimezone(dt.UTC)


class ObjectLockS3Storage(S3Storage):
    """django-storages' S3 backend, write-once: locked, encrypted, never overwritten."""

    def __init__(self, *, schema: str, config: S3Config) -> None:
        params: dict[str, str] = {"ServerSideEncryption": config.sse}
        if config.sse == "aws:kms" and config.kms_key_id:
            params["SSEKMSKeyId"] = config.kms_key_id
        options: dict[str, Any] = {
            "bucket_name": config.bucket,
            "endpoint_url": config.endpoint_url,
            "region_name": config.region,
            "location": schema,
            "file_overwrite": False,
            "object_parameters": params,
            "default_acl": None,
            "querystring_auth": True,
            # Downloads spill to a temporary file past this size instead of filling memory.
            "max_memory_size": 8 * 1024 * 1024,
        }
        # Without explicit keys, boto3 finds credentials itself (AWS_* variables, profile,
        # instance or task role).
        if config.access_key and config.secret_key:
            options |= {"access_key": config.access_key, "secret_key": config.secret_key}
        super().__init__(**options)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        if self.exists(name):
            raise FileExistsError(f"le fichier de preuve existe déjà : {name}")
        return super().get_available_name(name, max_length=max_length)

    def _save(self, name: str, content: Any) -> str:
        cleaned = clean_name(name)
        key = self._normalize_name(cleaned)
        params = self.get_object_parameters(key)
        params["ContentType"] = (
            getattr(content, "content_type", None)
            or mimetypes.guess_type(key)[0]
            or "application/octet-stream"
        )
        params["ObjectLockMode"] = LOCK_MODE
        params["ObjectLockRetainUntilDate"] = retain_until(
            now=timezone.now(), years=evidence_retention_years()
        )
        body = getattr(content, "file", content)
        if hasattr(body, "seek"):
            body.seek(0)
        try:
            self.connection.meta.client.put_object(
                Bucket=self.bucket_name, Key=key, Body=body, IfNoneMatch="*", **params
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in EXISTS_CODES:
                raise FileExistsError(f"le fichier de preuve existe déjà : {cleaned}") from err
            raise
        return cleaned

    def delete(self, name: str) -> None:
        raise PermissionError(f"stockage en écriture unique : {name} ne peut pas être supprimé")

    def url(self, name: str | None, *args: Any, **kwargs: Any) -> str:
        # Never served directly: downloads go through views that record custody events.
        raise ValueError("les lots de preuve ne sont pas servis par URL directe")

    def key(self, name: str) -> str:
        """The object key of a stored name (``<schema>/<name>``)."""
        return self._normalize_name(clean_name(name))

    def locator(self, name: str) -> str:
        return f"s3://{self.bucket_name}/{self.key(name)}"


@dataclass(frozen=True)
class S3Config:
    bucket: str
    endpoint_url: str | None
    region: str | None
    access_key: str | None
    secret_key: str | None
    sse: str
    kms_key_id: str | None


def s3_config() -> S3Config:
    """The S3 settings, checked: a missing bucket or an unknown encryption mode is refused."""
    bucket = settings.EGIDE_EVIDENCE_S3_BUCKET
    if not bucket:
        raise ImproperlyConfigured(
            "EGIDE_EVIDENCE_STORAGE=s3 demande EGIDE_EVIDENCE_S3_BUCKET (nom du compartiment)."
        )
    sse = settings.EGIDE_EVIDENCE_S3_SSE
    if sse not in SSE_MODES:
        raise ImproperlyConfigured(
            f"EGIDE_EVIDENCE_S3_SSE={sse!r} : valeurs possibles « AES256 » ou « aws:kms »."
        )
    if sse == "aws:kms" and not settings.EGIDE_EVIDENCE_S3_KMS_KEY_ID:
        raise ImproperlyConfigured(
            "EGIDE_EVIDENCE_S3_SSE=aws:kms demande EGIDE_EVIDENCE_S3_KMS_KEY_ID (clé KMS)."
        )
    return S3Config(
        bucket=bucket,
        endpoint_url=settings.EGIDE_EVIDENCE_S3_ENDPOINT_URL,
        region=settings.EGIDE_EVIDENCE_S3_REGION,
        access_key=settings.EGIDE_EVIDENCE_S3_ACCESS_KEY,
        secret_key=settings.EGIDE_EVIDENCE_S3_SECRET_KEY,
        sse=sse,
        kms_key_id=settings.EGIDE_EVIDENCE_S3_KMS_KEY_ID,
    )


def s3_storage(*, schema: str) -> ObjectLockS3Storage:
    """The insurer's S3 storage; one per schema and configuration (boto3 clients are reused)."""
    return _s3_storage(schema, s3_config())


@functools.lru_cache(maxsize=256)
def _s3_storage(schema: str, config: S3Config) -> ObjectLockS3Storage:
    return ObjectLockS3Storage(schema=schema, config=config)


@dataclass(frozen=True)
class BucketCheck:
    ok: bool
    message: str


def evidence_bucket_check() -> list[BucketCheck]:
    """Is the bucket fit for evidence? Reachable, Object Lock on, versioning on (in French)."""
    config = s3_config()
    client = _s3_storage("", config).connection.meta.client
    bucket = config.bucket
    try:
        client.head_bucket(Bucket=bucket)
    except (ClientError, BotoCoreError) as exc:
        return [
            BucketCheck(
                False, f"Compartiment « {bucket} » introuvable ou inaccessible : {_reason(exc)}."
            )
        ]
    checks = [BucketCheck(True, f"Compartiment « {bucket} » accessible.")]
    try:
        lock = client.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
        lock_on = lock.get("ObjectLockEnabled") == "Enabled"
    except ClientError as exc:
        if _code(exc) != "ObjectLockConfigurationNotFoundError":
            return [*checks, BucketCheck(False, f"Object Lock illisible : {_reason(exc)}.")]
        lock, lock_on = {}, False
    if lock_on:
        default = lock.get("Rule", {}).get("DefaultRetention")
        checks.append(
            BucketCheck(
                True,
                "Verrouillage des objets (Object Lock) activé ; chaque lot est verrouillé en "
                "mode COMPLIANCE pour la durée de conservation de l'assureur"
                + (f" (règle par défaut du compartiment : {default})." if default else "."),
            )
        )
    else:
        checks.append(
            BucketCheck(
                False,
                f"Verrouillage des objets (Object Lock) non activé sur « {bucket} » : les lots "
                "de preuve pourraient y être supprimés ou remplacés. Créez un compartiment avec "
                "Object Lock activé (il ne s'active qu'à la création chez la plupart des "
                "hébergeurs) et indiquez-le dans EGIDE_EVIDENCE_S3_BUCKET.",
            )
        )
    try:
        versioning = client.get_bucket_versioning(Bucket=bucket).get("Status")
    except ClientError as exc:
        return [*checks, BucketCheck(False, f"Gestion des versions illisible : {_reason(exc)}.")]
    if versioning == "Enabled":
        checks.append(BucketCheck(True, "Gestion des versions activée."))
    else:
        checks.append(
            BucketCheck(
                False,
                f"Gestion des versions non activée sur « {bucket} » (état : "
                f"{versioning or 'jamais activée'}) : Object Lock l'exige.",
            )
        )
    return checks


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', '')} {error.get('Message', '')}".strip()
    return str(exc)
