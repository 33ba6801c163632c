"""Which stored files are public: Wagtail images and their renditions, nothing else.

``TenantFileSystemStorage`` writes an insurer's files under ``MEDIA_ROOT/<schema>/`` and builds
their URLs as ``/media/<schema>/…``. Only images under ``original_images/`` and ``images/`` are
served by their path (``saas.media``); claim letters, proofs and documents go through views that
check who asks. The same rule tells the two-factor middleware that an image (the insurer's logo
on the code page) is no page to guard: an anonymous visitor gets it anyway.
"""

from __future__ import annotations

import mimetypes

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


def media_file_public(path: str) -> bool:
    """True for a file of an insurer's storage that anyone may fetch by its path."""
    return media_path_public(path) and media_type_public(path)


def media_url_public(path: str, *, media_url: str) -> bool:
    """True for ``<media_url><schema>/<public image path>``, the URL of a public image."""
    if not path.startswith(media_url):
        return False
    schema, _, rest = path[len(media_url) :].partition("/")
    return bool(schema) and media_file_public(rest)
