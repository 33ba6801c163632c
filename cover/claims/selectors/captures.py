"""The claim's captures: timeline outcomes, comparisons and the comparison annex."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cover.claims.models import Claim, ClaimEvent, TimelineKind
from evidence.compare import CaptureComparison, captures_compare, comparison_annex_pdf
from evidence.models import Capture
from evidence.selectors import captures_all


def claim_capture_ids(*, claim: Claim) -> list[int]:
    """Ids of the captures requested for this claim, oldest first (from its timeline)."""
    refs = sorted(
        (e.pk, e.ref)
        for e in claim.events.all()  # prefetched on the claim pages: no query of its own
        if e.kind == TimelineKind.CAPTURE_REQUESTED and e.ref.startswith("capture-")
    )
    return [int(ref.split("-", 1)[1]) for _pk, ref in refs]


def claim_captures(*, claim: Claim) -> list:
    """The claim's captures, read through the evidence app's selectors."""
    ids = claim_capture_ids(claim=claim)
    found = {capture.pk: capture for capture in captures_all().filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]


class CaptureOutcomeKind:
    """Kinds of the computed timeline entries (never stored: not ``ClaimEvent`` choices)."""

    COMPLETED = "CAPTURE_COMPLETED"
    FAILED = "CAPTURE_FAILED"


@dataclass(frozen=True)
class CaptureTimelineEntry:
    """A capture's outcome on the claim's timeline, read like a ``ClaimEvent`` by templates."""

    kind: str
    date: datetime.date
    at: datetime.datetime
    capture: Any
    note: str
    label: str
    ref: str = ""
    visible_to_doctor: bool = True

    def get_kind_display(self) -> str:
        return self.label


def claim_capture_outcomes(*, captures: Sequence[Any]) -> list[CaptureTimelineEntry]:
    """One entry per finished capture: « Capture terminée » with its fingerprint, or « Échec de
    la capture » with its reason."""
    entries: list[CaptureTimelineEntry] = []
    for capture in captures:
        if capture.status not in (Capture.Status.COMPLETE, Capture.Status.FAILED):
            continue
        at = capture.finished_at or capture.created_at
        if capture.status == Capture.Status.COMPLETE:
            kind, label = CaptureOutcomeKind.COMPLETED, _("Capture terminée")
            note = _("n° %(id)s — %(url)s — empreinte %(hash)s") % {
                "id": capture.pk,
                "url": capture.url,
                "hash": capture.tagmanifest_sha256[:16] + "…",
            }
        else:
            kind, label = CaptureOutcomeKind.FAILED, _("Échec de la capture")
            note = _("n° %(id)s — %(url)s — %(reason)s") % {
                "id": capture.pk,
                "url": capture.url,
                "reason": capture.error or _("motif non précisé"),
            }
        entries.append(
            CaptureTimelineEntry(
                kind=kind,
                date=timezone.localdate(at),
                at=at,
                capture=capture,
                note=note,
                label=label,
                ref=f"capture-{capture.pk}",
            )
        )
    return entries


def _timeline_key(entry: ClaimEvent | CaptureTimelineEntry) -> tuple[datetime.date, Any]:
    if isinstance(entry, CaptureTimelineEntry):
        return (entry.date, entry.at)
    return (entry.date, entry.created_at)


def claim_capture(*, claim: Claim, capture_id: int, captures: Sequence[Any] | None = None) -> Any:
    """One of the claim's captures, or 404 (another claim's capture looks like a missing one)."""
    found = next(
        (
            c
            for c in (claim_captures(claim=claim) if captures is None else captures)
            if c.pk == capture_id
        ),
        None,
    )
    if found is None:
        raise Http404
    return found


def claim_capture_comparisons(*, captures: Sequence[Any]) -> list[tuple[Any, Any]]:
    """For each address captured completely at least twice: (earlier, latest) complete
    captures, the pair the claim page offers to compare."""
    by_url: dict[str, list[Any]] = {}
    for capture in captures:
        if capture.status == Capture.Status.COMPLETE:
            by_url.setdefault(capture.url, []).append(capture)
    pairs = []
    for same in by_url.values():
        if len(same) >= 2:
            ordered = sorted(
                same, key=lambda c: (c.gen_time or c.finished_at or c.created_at, c.pk)
            )
            pairs.append((ordered[-2], ordered[-1]))
    return pairs


def claim_captures_comparison(*, claim: Claim, first_id: int, second_id: int) -> CaptureComparison:
    """Two of the claim's captures compared, with the fate of each of the claim's recorded
    passages. 404 when either is not a capture of this claim; ``ValueError`` (French) when
    they cannot be compared; ``evidence.compare.BundleUnreadable`` when a bundle is unreadable.
    """
    captures = claim_captures(claim=claim)
    first = claim_capture(claim=claim, capture_id=first_id, captures=captures)
    second = claim_capture(claim=claim, capture_id=second_id, captures=captures)
    return captures_compare(
        first=first, second=second, passages=[p.quote for p in claim.passages.all()]
    )


def claim_captures_annex_pdf(*, claim: Claim, comparison: CaptureComparison) -> bytes:
    """The comparison as the PDF annex (« Exporter l'annexe »), titled with the claim."""
    return comparison_annex_pdf(
        comparison=comparison,
        subject=_("Sinistre %(ref)s") % {"ref": claim.reference},
    )
