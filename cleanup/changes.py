"""What changed between two monitoring scans.

Why: the doctor and the claims handler act on changes, not on snapshots: a new review may start a
3-month limitation clock (loi 1881 art. 65, counted from first publication), an edited review may
be a republication (DOMAIN §3: "Track edits"), and a new search result on the doctor's name may
call for déréférencement. Pure functions over `PageExtract` and `SearchResult` lists.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from cleanup.extract import AggregateRating, PageExtract, Review
from cleanup.search_providers import SearchResult

# Review fields compared to decide that a review was edited.
REVIEW_COMPARED_FIELDS: tuple[str, ...] = ("text", "rating", "author", "date", "experience_date")


@dataclass(frozen=True, slots=True)
class ReviewEdit:
    before: Review
    after: Review
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReviewChanges:
    """`removed_may_be_pagination` is set when the page shows fewer reviews than its own count:
    a review that disappeared may only have moved to a later page, not been deleted."""

    new: tuple[Review, ...]
    edited: tuple[ReviewEdit, ...]
    removed: tuple[Review, ...]
    rating_before: float | None
    rating_after: float | None
    count_before: int | None
    count_after: int | None
    removed_may_be_pagination: bool

    @property
    def rating_delta(self) -> float | None:
        if self.rating_before is None or self.rating_after is None:
            return None
        return round(self.rating_after - self.rating_before, 2)

    @property
    def count_delta(self) -> int | None:
        if self.count_before is None or self.count_after is None:
            return None
        return self.count_after - self.count_before

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.edited or self.removed) or bool(
            self.rating_delta or self.count_delta
        )


def _fold(text: str | None) -> str:
    decomposed = unicodedata.normalize("NFD", text or "")
    return " ".join(
        "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split()
    )


def _changed_fields(before: Review, after: Review) -> tuple[str, ...]:
    return tuple(f for f in REVIEW_COMPARED_FIELDS if getattr(before, f) != getattr(after, f))


def reviews_diff(*, before: PageExtract | None, after: PageExtract) -> ReviewChanges:
    """Diff two scans of one page.

    Reviews are matched by id. A review whose id is a hash (no markup id) changes id when its
    first words are edited; such leftovers are paired by (author, publication date) when that
    pair is unique on both sides, and reported as edits rather than as a removal plus a new
    review. On the first scan (`before` is None) every review is new.
    """
    old = {r.review_id: r for r in (before.reviews if before else ())}
    cur = {r.review_id: r for r in after.reviews}
    edited: list[ReviewEdit] = []
    for rid in old.keys() & cur.keys():
        if fields := _changed_fields(old[rid], cur[rid]):
            edited.append(ReviewEdit(before=old[rid], after=cur[rid], fields=fields))
    gone = [r for rid, r in old.items() if rid not in cur]
    added = [r for rid, r in cur.items() if rid not in old]

    def key(r: Review) -> tuple[str, str] | None:
        return (_fold(r.author), r.date.isoformat()) if r.author and r.date else None

    gone_keys = Counter(k for r in gone if (k := key(r)))
    added_keys = Counter(k for r in added if (k := key(r)))
    pairable = {k for k in gone_keys if gone_keys[k] == 1 and added_keys.get(k) == 1}
    by_key_added = {key(r): r for r in added if key(r) in pairable}
    for r in list(gone):
        k = key(r)
        if k in pairable:
            match = by_key_added[k]
            edited.append(ReviewEdit(before=r, after=match, fields=_changed_fields(r, match)))
            gone.remove(r)
            added.remove(match)

    order = {r.review_id: i for i, r in enumerate(after.reviews)}
    edited.sort(key=lambda e: order.get(e.after.review_id, 0))
    count_after = after.aggregate.count
    return ReviewChanges(
        new=tuple(added),
        edited=tuple(edited),
        removed=tuple(gone),
        rating_before=before.aggregate.rating if before else None,
        rating_after=after.aggregate.rating,
        count_before=before.aggregate.count if before else None,
        count_after=count_after,
        removed_may_be_pagination=bool(gone)
        and count_after is not None
        and count_after > len(after.reviews),
    )


# --------------------------------------------------------------------------- rating over time


@dataclass(frozen=True, slots=True)
class RatingPoint:
    at: datetime
    rating: float | None
    count: int | None
    rating_delta: float | None
    count_delta: int | None


def rating_history(*, points: Sequence[tuple[datetime, AggregateRating]]) -> list[RatingPoint]:
    """Order the aggregate rating and count of successive scans and add the change since the
    previous scan, for the doctor's trend chart."""
    history: list[RatingPoint] = []
    previous: AggregateRating | None = None
    for at, agg in sorted(points, key=lambda p: p[0]):
        rating_delta = (
            round(agg.rating - previous.rating, 2)
            if previous and agg.rating is not None and previous.rating is not None
            else None
        )
        count_delta = (
            agg.count - previous.count
            if previous and agg.count is not None and previous.count is not None
            else None
        )
        history.append(RatingPoint(at, agg.rating, agg.count, rating_delta, count_delta))
        previous = agg
    return history


# --------------------------------------------------------------------------- search results


@dataclass(frozen=True, slots=True)
class RankMove:
    """`delta` is positive when the result rose (e.g. 5 → 2 gives +3)."""

    url: str
    before_rank: int
    after_rank: int

    @property
    def delta(self) -> int:
        return self.before_rank - self.after_rank


@dataclass(frozen=True, slots=True)
class SearchChanges:
    new: tuple[SearchResult, ...]
    dropped: tuple[SearchResult, ...]
    moved: tuple[RankMove, ...]
    unchanged: int


def url_key(url: str) -> str:
    """Compare result URLs as a person would: scheme and host case-insensitive, default port,
    fragment and trailing slash ignored; the query string is kept (it can select the content)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port in (None, {"http": 80, "https": 443}.get(scheme)) else f"{host}:{port}"
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def _best_ranks(results: Sequence[SearchResult]) -> dict[str, SearchResult]:
    best: dict[str, SearchResult] = {}
    for r in results:
        k = url_key(r.url)
        if k not in best or r.rank < best[k].rank:
            best[k] = r
    return best


def search_results_diff(
    *, before: Sequence[SearchResult] | None, after: Sequence[SearchResult]
) -> SearchChanges:
    """Diff two result lists of the same query: results that appeared, dropped out of the
    watched depth, or moved. On the first scan every result is new."""
    old = _best_ranks(before or ())
    cur = _best_ranks(after)
    moved = [
        RankMove(url=cur[k].url, before_rank=old[k].rank, after_rank=cur[k].rank)
        for k in cur
        if k in old and old[k].rank != cur[k].rank
    ]
    return SearchChanges(
        new=tuple(sorted((r for k, r in cur.items() if k not in old), key=lambda r: r.rank)),
        dropped=tuple(sorted((r for k, r in old.items() if k not in cur), key=lambda r: r.rank)),
        moved=tuple(sorted(moved, key=lambda m: m.after_rank)),
        unchanged=sum(1 for k in cur if k in old and old[k].rank == cur[k].rank),
    )
