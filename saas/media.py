"""Serve an insurer's public media from its own folder only.

``TenantFileSystemStorage`` writes under ``MEDIA_ROOT/<schema>/`` and builds URLs as
``/media/<schema>/…``. A request on insurer B's host for a path under insurer A's folder is a
404: the schema in the URL must be the schema of the host.

Only Wagtail images and their renditions are public. Everything else in the tenant's storage
(claim letters, delivery proofs, Wagtail documents) is downloaded through views that check who
asks, never by its storage path.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.http import Http404
from django.views.static import serve

from tenants.db import connection

PUBLIC_MEDIA_PREFIXES = ("original_images/", "images/")


def media_path_public(path: str) -> bool:
    """True for a plain path under a public prefix: no ``..``, ``.``, empty segment or backslash.

    ``serve`` normalises the path itself, so ``images/../documents/x.pdf`` would pass a prefix
    test and then be served from ``documents/``: the path is judged as it is, segment by
    segment, before anything else.
    """
    if "\\" in path or "\x00" in path:
        return False
    segments = path.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return False
    return path.startswith(PUBLIC_MEDIA_PREFIXES)


def media_type_public(path: str) -> bool:
    """Only images are public (not SVG, which can carry scripts): anything else stored under an
    image folder is never served. Judged from the name, as ``serve`` types the file, and before
    serving, so that a browser's revalidation (a 304, which carries no type) is answered too.
    """
    kind, encoding = mimetypes.guess_type(path)
    if kind is None or encoding is not None:
        return False
    return kind.startswith("image/") and "svg" not in kind


def tenant_media(request, schema: str, path: str):
    if (
        schema != connection.schema_name
        or not media_path_public(path)
        or not media_type_public(path)
    ):
        raise Http404("Fichier introuvable")
    root = Path(settings.MEDIA_ROOT) / schema
    response = serve(request, path, document_root=str(root))
    # Browsers must not guess another type (an uploaded page must never run on this origin).
    response["X-Content-Type-Options"] = "nosniff"
    return response
