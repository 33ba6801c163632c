"""Compare two captures of the same address: what the page said then, what it says now.

A review that is edited or withdrawn after a claim is opened is a fact the claim needs (the
proof « qu'un avis a été modifié ou retiré »). This module reads the two bundles (their visible
text ``data/page.txt`` and first-screen image ``data/screenshot-viewport.png``), lists the
paragraphs that were edited, removed or added, tells the fate of each passage the caller quotes
(« inchangé », « modifié », « supprimé »), and renders the comparison as a PDF annex.

Bundles are read through the storage API (``capture.bundle.open``), never a file-system path:
the bundle store may be an object store. Knows nothing of claims: callers pass the passages.
"""

from __future__ import annotations

import base64
import datetime as dt
import difflib
import io
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image

from evidence.models import Capture

PAGE_TEXT_MEMBER = "data/page.txt"
SCREENSHOT_MEMBER = "data/screenshot-viewport.png"
# Two paragraphs at least this similar are one paragraph edited, not one removed and one added.
EDIT_SIMILARITY = 0.5
# A quoted passage that is gone is « modifié » when a paragraph of the later capture is at least
# this close to the paragraph that held it, else « supprimé ».
PASSAGE_SIMILARITY = 0.6
ANNEX_IMAGE_WIDTH = 640  # px: the first screen, reduced, fits half an A4 page


class ChangeKind(StrEnum):
    EDITED = "edited"
    REMOVED = "removed"
    ADDED = "added"


CHANGE_LABELS = {
    ChangeKind.EDITED: gettext_lazy("modifié"),
    ChangeKind.REMOVED: gettext_lazy("supprimé"),
    ChangeKind.ADDED: gettext_lazy("ajouté"),
}


class PassageFate(StrEnum):
    UNCHANGED = "unchanged"
    EDITED = "edited"
    REMOVED = "removed"
    NOT_IN_FIRST = "not-in-first"


PASSAGE_FATE_LABELS = {
    PassageFate.UNCHANGED: gettext_lazy("inchangé"),
    PassageFate.EDITED: gettext_lazy("modifié"),
    PassageFate.REMOVED: gettext_lazy("supprimé"),
    PassageFate.NOT_IN_FIRST: gettext_lazy("absent de la première capture"),
}


class BundleUnreadable(Exception):
    """The bundle of a capture cannot be read (missing, not a ZIP, no page text)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TextChange:
    kind: ChangeKind
    before: str = ""
    after: str = ""

    @property
    def label(self) -> str:
        return str(CHANGE_LABELS[self.kind])


@dataclass(frozen=True)
class PassageOutcome:
    quote: str
    fate: PassageFate
    before: str = ""  # the paragraph of the first capture that held the quote
    after: str = ""  # its closest paragraph in the second capture (edited), or the same one

    @property
    def label(self) -> str:
        return str(PASSAGE_FATE_LABELS[self.fate])


@dataclass(frozen=True)
class CaptureSide:
    """What the comparison needs of one capture, read from its bundle."""

    capture_id: int
    url: str
    captured_at: dt.datetime | None
    tagmanifest_sha256: str
    zip_sha256: str
    page_text: str
    screenshot: bytes | None = field(default=None, repr=False)

    @property
    def screenshot_data_uri(self) -> str:
        if not self.screenshot:
            return ""
        return "data:image/png;base64," + base64.b64encode(self.screenshot).decode("ascii")


@dataclass(frozen=True)
class CaptureComparison:
    first: CaptureSide
    second: CaptureSide
    changes: tuple[TextChange, ...]
    passages: tuple[PassageOutcome, ...]

    @property
    def identical(self) -> bool:
        return not self.changes

    def of_kind(self, kind: ChangeKind) -> list[TextChange]:
        return [c for c in self.changes if c.kind is kind]

    @property
    def edited(self) -> list[TextChange]:
        return self.of_kind(ChangeKind.EDITED)

    @property
    def removed(self) -> list[TextChange]:
        return self.of_kind(ChangeKind.REMOVED)

    @property
    def added(self) -> list[TextChange]:
        return self.of_kind(ChangeKind.ADDED)


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def _normalise(text: str) -> str:
    return _SPACES.sub(" ", text.replace("\u00a0", " ")).strip()


def text_paragraphs(text: str) -> list[str]:
    """The visible text's non-empty lines, spaces collapsed (``page.txt`` is ``innerText``:
    one paragraph or list item per line)."""
    return [line for line in (_normalise(raw) for raw in text.splitlines()) if line]


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _pair_block(before: Sequence[str], after: Sequence[str]) -> list[TextChange]:
    """A replaced block: pair each old paragraph with its most similar new one (edited), in
    order; what is left over was removed or added."""
    changes: list[TextChange] = []
    used: set[int] = set()
    start = 0
    for old in before:
        best, best_ratio = None, EDIT_SIMILARITY
        for index in range(start, len(after)):
            ratio = _similarity(old, after[index])
            if ratio >= best_ratio:
                best, best_ratio = index, ratio
        if best is None:
            changes.append(TextChange(ChangeKind.REMOVED, before=old))
            continue
        for skipped in range(start, best):
            if skipped not in used:
                changes.append(TextChange(ChangeKind.ADDED, after=after[skipped]))
                used.add(skipped)
        changes.append(TextChange(ChangeKind.EDITED, before=old, after=after[best]))
        used.add(best)
        start = best + 1
    changes.extend(
        TextChange(ChangeKind.ADDED, after=after[i]) for i in range(len(after)) if i not in used
    )
    return changes


def text_diff(*, before: str, after: str) -> tuple[TextChange, ...]:
    """The paragraphs edited, removed and added between two visible texts, in page order."""
    old, new = text_paragraphs(before), text_paragraphs(after)
    changes: list[TextChange] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "delete":
            changes.extend(TextChange(ChangeKind.REMOVED, before=p) for p in old[i1:i2])
        elif tag == "insert":
            changes.extend(TextChange(ChangeKind.ADDED, after=p) for p in new[j1:j2])
        elif tag == "replace":
            changes.extend(_pair_block(old[i1:i2], new[j1:j2]))
    return tuple(changes)


def passage_outcomes(
    *, passages: Iterable[str], before: str, after: str
) -> tuple[PassageOutcome, ...]:
    """What became of each quoted passage between the two texts.

    « inchangé »: still there word for word; « modifié »: gone, but the paragraph that held it
    is still there in a close form (the author edited it); « supprimé »: gone with its
    paragraph; a quote the first capture does not show is reported as such, not guessed.
    """
    old_text, new_text = _normalise(before), _normalise(after)
    old_paragraphs, new_paragraphs = text_paragraphs(before), text_paragraphs(after)
    outcomes: list[PassageOutcome] = []
    for raw in passages:
        quote = _normalise(raw)
        if not quote:
            continue
        holder = next((p for p in old_paragraphs if quote in p), quote)
        if quote not in old_text:
            outcomes.append(PassageOutcome(raw, PassageFate.NOT_IN_FIRST))
        elif quote in new_text:
            same = next((p for p in new_paragraphs if quote in p), quote)
            outcomes.append(PassageOutcome(raw, PassageFate.UNCHANGED, before=holder, after=same))
        else:
            scored = [(_similarity(holder, p), p) for p in new_paragraphs]
            ratio, closest = max(scored, default=(0.0, ""))
            if ratio >= PASSAGE_SIMILARITY:
                outcomes.append(
                    PassageOutcome(raw, PassageFate.EDITED, before=holder, after=closest)
                )
            else:
                outcomes.append(PassageOutcome(raw, PassageFate.REMOVED, before=holder))
    return tuple(outcomes)


# --------------------------------------------------------------------------------------------
# Bundles
# --------------------------------------------------------------------------------------------


def _member(archive: zipfile.ZipFile, suffix: str) -> str | None:
    return next((n for n in archive.namelist() if n.endswith("/" + suffix) or n == suffix), None)


def bundle_members_read(*, capture: Capture, suffixes: Sequence[str]) -> dict[str, bytes]:
    """The named members of the capture's bundle (``data/...``), read through the storage.

    A storage file that cannot seek (an object-store stream) is first spooled to a temporary
    file: ``zipfile`` reads the central directory at the end of the archive.
    """
    if capture.status != Capture.Status.COMPLETE or not capture.bundle:
        raise BundleUnreadable(
            _("La capture n° %(id)s n'a pas de lot de preuve.") % {"id": capture.pk}
        )
    found: dict[str, bytes] = {}
    try:
        with (
            capture.bundle.open("rb") as handle,
            tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as spool,
        ):
            source: Any = handle
            if not handle.seekable():
                shutil.copyfileobj(handle, spool)
                spool.seek(0)
                source = spool
            with zipfile.ZipFile(source) as archive:
                for suffix in suffixes:
                    name = _member(archive, suffix)
                    if name is not None:
                        found[suffix] = archive.read(name)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise BundleUnreadable(
            _("Le lot de preuve de la capture n° %(id)s est illisible.") % {"id": capture.pk}
        ) from exc
    return found


def capture_side_read(*, capture: Capture) -> CaptureSide:
    members = bundle_members_read(capture=capture, suffixes=[PAGE_TEXT_MEMBER, SCREENSHOT_MEMBER])
    if PAGE_TEXT_MEMBER not in members:
        raise BundleUnreadable(
            _("Le lot de preuve de la capture n° %(id)s ne contient pas le texte de la page.")
            % {"id": capture.pk}
        )
    return CaptureSide(
        capture_id=capture.pk,
        url=capture.url,
        captured_at=capture.gen_time or capture.finished_at,
        tagmanifest_sha256=capture.tagmanifest_sha256,
        zip_sha256=capture.zip_sha256,
        page_text=members[PAGE_TEXT_MEMBER].decode("utf-8", errors="replace"),
        screenshot=members.get(SCREENSHOT_MEMBER),
    )


def _chronological(a: Capture, b: Capture) -> tuple[Capture, Capture]:
    def moment(c: Capture) -> tuple[dt.datetime, int]:
        return (c.gen_time or c.finished_at or c.created_at, c.pk)

    return (a, b) if moment(a) <= moment(b) else (b, a)


def captures_compare(
    *, first: Capture, second: Capture, passages: Iterable[str] = ()
) -> CaptureComparison:
    """Compare two complete captures of the same address, the earlier one first.

    Raises ``ValueError`` (French message) when they are not of the same address or one is not
    complete, and ``BundleUnreadable`` when a bundle cannot be read.
    """
    if first.pk == second.pk:
        raise ValueError(_("Choisissez deux captures différentes."))
    if first.url != second.url:
        raise ValueError(_("Les deux captures ne sont pas de la même adresse."))
    for capture in (first, second):
        if capture.status != Capture.Status.COMPLETE:
            raise ValueError(
                _("La capture n° %(id)s n'est pas terminée : rien à comparer.") % {"id": capture.pk}
            )
    earlier, later = _chronological(first, second)
    a, b = capture_side_read(capture=earlier), capture_side_read(capture=later)
    return CaptureComparison(
        first=a,
        second=b,
        changes=text_diff(before=a.page_text, after=b.page_text),
        passages=passage_outcomes(passages=passages, before=a.page_text, after=b.page_text),
    )


# --------------------------------------------------------------------------------------------
# PDF annex
# --------------------------------------------------------------------------------------------


def screenshot_reduced(png: bytes | None, *, width: int = ANNEX_IMAGE_WIDTH) -> bytes | None:
    """The image scaled down to ``width`` pixels at most (PNG), for the annex."""
    if not png:
        return None
    with Image.open(io.BytesIO(png)) as opened:
        image: Image.Image = opened.convert("RGB")
    if image.width > width:
        height = max(1, round(image.height * width / image.width))
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def side_reduced(side: CaptureSide) -> CaptureSide:
    """The same side with its first screen reduced (annex, comparison page)."""
    return CaptureSide(
        capture_id=side.capture_id,
        url=side.url,
        captured_at=side.captured_at,
        tagmanifest_sha256=side.tagmanifest_sha256,
        zip_sha256=side.zip_sha256,
        page_text=side.page_text,
        screenshot=screenshot_reduced(side.screenshot),
    )


def comparison_annex_pdf(*, comparison: CaptureComparison, subject: str = "") -> bytes:
    """The comparison as a PDF annex for a lawyer or a commissaire de justice: both captures'
    numbers, dates, tag-manifest and archive hashes, their first screens reduced, the fate of
    each quoted passage and every paragraph edited, removed or added."""
    from weasyprint import HTML  # lazy: WeasyPrint is heavy, loaded only to render an annex

    html = render_to_string(
        "evidence/compare_annex.html",
        {
            "comparison": comparison,
            "first": side_reduced(comparison.first),
            "second": side_reduced(comparison.second),
            "subject": subject,
            "generated_at": timezone.now(),
        },
    )
    return HTML(string=html).write_pdf()
