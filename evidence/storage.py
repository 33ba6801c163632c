"""Write-once file storage for evidence bundles, one folder per insurer schema.

A bundle is evidence: once written it must never be replaced or removed by the application. So
files are created with ``O_EXCL`` (Django's file-system storage does that; an existing name is
an error here instead of a silently renamed copy), made read-only, and ``delete`` refuses.
The root is read from settings at each call, so tests can point it at a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible

from tenants.db import connection

READ_ONLY = 0o444


def evidence_root() -> Path:
    """The current insurer's evidence folder (``EGIDE_EVIDENCE_ROOT/<schema>``)."""
    return Path(settings.EGIDE_EVIDENCE_ROOT) / connection.schema_name


@deconstructible(path="evidence.storage.WriteOnceTenantStorage")
class WriteOnceTenantStorage(FileSystemStorage):
    def __init__(self) -> None:
        super().__init__(file_permissions_mode=READ_ONLY, directory_permissions_mode=0o750)

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return str(evidence_root())

    @property  # type: ignore[override]
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
