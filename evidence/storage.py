"""Write-once storage for evidence bundles, one folder (or key prefix) per insurer schema.

A bundle is evidence: once written it must never be replaced or removed by the application.
``Capture.bundle`` points at ``WriteOnceTenantStorage``, which hands every call to the backend
``EGIDE_EVIDENCE_STORAGE`` names, read from settings at each call (tests switch it):

- ``filesystem`` (the embedded default): ``EGIDE_EVIDENCE_ROOT/<schema>``; files are created with
  ``O_EXCL`` (an existing name is an error here instead of a silently renamed copy) and made
  read-only, and ``delete`` refuses;
- ``s3`` (``evidence.storage_s3``): keys under ``<schema>/``, every object written under Object
  Lock in COMPLIANCE mode until now + the insurer's retention, and encrypted at rest.

Readers never assume a path: they go through ``open()`` (``bundle_local_copy`` when a tool
needs a file on disk), so both backends serve every download, share link and verification.
The field keeps pointing at this class, so switching backends needs no migration.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.deconstruct import deconstructible

from evidence.storage_s3 import ObjectLockS3Storage, s3_storage
from tenants.db import connection

READ_ONLY = 0o444
BACKENDS = ("filesystem", "s3")


def evidence_root() -> Path:
    """The current insurer's local evidence folder (``EGIDE_EVIDENCE_ROOT/<schema>``).

    Bundles live there with the filesystem backend; capture work folders always do.
    """
    return Path(settings.EGIDE_EVIDENCE_ROOT) / connection.schema_name


class FileSystemWriteOnceStorage(FileSystemStorage):
    """Bundles as read-only files under the current insurer's evidence folder."""

    def __init__(self) -> None:
        super().__init__(file_permissions_mode=READ_ONLY, directory_permissions_mode=0o750)

    @property
    def base_location(self) -> str:
        return str(evidence_root())

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        # Never served directly: downloads go through views that record custody events.
        raise ValueError("les lots de preuve ne sont pas servis par URL directe")

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        if self.exists(name):
            raise FileExistsError(f"le fichier de preuve existe déjà : {name}")
        return super().get_available_name(name, max_length=max_length)

    def delete(self, name: str) -> None:
        raise PermissionError(f"stockage en écriture unique : {name} ne peut pas être supprimé")

    def locator(self, name: str) -> str:
        return self.path(name)


def evidence_storage_backend() -> FileSystemWriteOnceStorage | ObjectLockS3Storage:
    """The configured backend, for the current insurer (its folder or key prefix)."""
    kind = settings.EGIDE_EVIDENCE_STORAGE
    if kind == "filesystem":
        return FileSystemWriteOnceStorage()
    if kind == "s3":
        return s3_storage(schema=connection.schema_name)
    raise ImproperlyConfigured(
        f"EGIDE_EVIDENCE_STORAGE={kind!r} : valeurs possibles « filesystem » ou « s3 »."
    )


@deconstructible(path="evidence.storage.WriteOnceTenantStorage")
class WriteOnceTenantStorage(Storage):
    """What ``Capture.bundle`` points to: the configured write-once backend, per insurer."""

    def backend(self) -> FileSystemWriteOnceStorage | ObjectLockS3Storage:
        return evidence_storage_backend()

    def open(self, name: str, mode: str = "rb") -> Any:
        return self.backend().open(name, mode)

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        return self.backend().save(name, content, max_length=max_length)

    def get_valid_name(self, name: str) -> str:
        return self.backend().get_valid_name(name)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return self.backend().get_available_name(name, max_length=max_length)

    def generate_filename(self, filename: str | os.PathLike[str]) -> str:
        return self.backend().generate_filename(filename)

    def path(self, name: str) -> str:
        # Only the filesystem backend has paths; readers should use ``open()``.
        return self.backend().path(name)

    def delete(self, name: str) -> None:
        self.backend().delete(name)

    def exists(self, name: str) -> bool:
        return self.backend().exists(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self.backend().listdir(path)

    def size(self, name: str) -> int:
        return self.backend().size(name)

    def url(self, name: str | None) -> str:
        return self.backend().url(name)

    def get_modified_time(self, name: str) -> Any:
        return self.backend().get_modified_time(name)

    def locator(self, name: str) -> str:
        """Where the file is, for people: a path, or ``s3://bucket/key``."""
        return self.backend().locator(name)


@contextlib.contextmanager
def bundle_local_copy(*, name: str) -> Iterator[Path]:
    """A private temporary copy of a stored file, for tools that need a path (verification).

    Read through the storage API, so it works the same on every backend; removed afterwards.
    """
    storage = WriteOnceTenantStorage()
    with tempfile.TemporaryDirectory(prefix="egide-bundle-") as work:
        local = Path(work) / Path(name).name
        with storage.open(name, "rb") as source, local.open("wb") as target:
            shutil.copyfileobj(source, target, length=1024 * 1024)
        yield local
