"""Serve an insurer's public media from its own folder only.

``TenantFileSystemStorage`` writes under ``MEDIA_ROOT/<schema>/`` and builds URLs as
``/media/<schema>/…``. A request on insurer B's host for a path under insurer A's folder is a
404: the schema in the URL must be the schema of the host.

Only Wagtail images and their renditions are public. Everything else in the tenant's storage
(claim letters, delivery proofs, Wagtail documents) is downloaded through views that check who
asks, never by its storage path.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import Http404
from django.views.static import serve

from common.media import media_file_public
from tenants.db import connection


def tenant_media(request, schema: str, path: str):
    if schema != connection.schema_name or not media_file_public(path):
        raise Http404("Fichier introuvable")
    root = Path(settings.MEDIA_ROOT) / schema
    response = serve(request, path, document_root=str(root))
    # Browsers must not guess another type (an uploaded page must never run on this origin).
    response["X-Content-Type-Options"] = "nosniff"
    return response
