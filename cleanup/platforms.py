"""Per-platform fallback profiles for review extraction, kept as data.

Why: most review platforms publish schema.org markup, which `cleanup.extract` reads first. Some
pages carry none (or markup without the individual reviews); for those, a profile of CSS selectors
says where each field lives. Profiles are data so that adding a platform is a new entry, not new
code, and so that an operator can later move them to the database without touching the extractor.

Only selectors that have been checked against real pages belong here. `generic-hreview` follows
the hReview microformat (class names `hreview`, `reviewer`, `dtreviewed`, `rating`,
`description`), which many older review widgets still emit; `demo-avis` describes the fake review
platform used by the demo data and the test suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """Where one field lives inside a review block: a CSS selector and, optionally, the attribute
    that holds the value (the element's text is used when `attribute` is None). An empty `css`
    means the review block itself (e.g. an id carried by the block's own attribute)."""

    css: str
    attribute: str | None = None


@dataclass(frozen=True, slots=True)
class PlatformProfile:
    """Fallback extraction profile for one review platform.

    `review` selects each review block; the field selectors are evaluated inside that block.
    `rating_best` is the platform's scale (ratings are normalised to 5 by the extractor).
    `requires_javascript` marks platforms whose reviews are only present after scripts run, so
    the scanner goes straight to a browser instead of parsing an empty shell.
    """

    key: str
    name: str
    domains: tuple[str, ...]
    review: str
    review_id: FieldSelector | None = None
    author: FieldSelector | None = None
    date: FieldSelector | None = None
    experience_date: FieldSelector | None = None
    rating: FieldSelector | None = None
    text: FieldSelector | None = None
    rating_best: float = 5.0
    aggregate_rating: FieldSelector | None = None
    aggregate_count: FieldSelector | None = None
    requires_javascript: bool = False


PLATFORM_PROFILES: Mapping[str, PlatformProfile] = MappingProxyType(
    {
        "generic-hreview": PlatformProfile(
            key="generic-hreview",
            name="Microformat hReview (générique)",
            domains=(),
            review=".hreview",
            review_id=FieldSelector("", attribute="id"),
            author=FieldSelector(".reviewer"),
            date=FieldSelector(".dtreviewed", attribute="title"),
            rating=FieldSelector(".rating"),
            text=FieldSelector(".description"),
        ),
        "demo-avis": PlatformProfile(
            key="demo-avis",
            name="Avis Démo (plateforme de démonstration)",
            domains=("avis-demo.test",),
            review="article.avis",
            review_id=FieldSelector("", attribute="data-avis-id"),
            author=FieldSelector(".avis-auteur"),
            date=FieldSelector(".avis-date", attribute="data-date"),
            experience_date=FieldSelector(".avis-experience", attribute="data-date"),
            rating=FieldSelector(".avis-note", attribute="data-note"),
            text=FieldSelector(".avis-texte"),
            rating_best=5.0,
            aggregate_rating=FieldSelector(".note-moyenne", attribute="data-note"),
            aggregate_count=FieldSelector(".nombre-avis", attribute="data-nombre"),
        ),
    }
)


def platform_for_url(
    *, url: str, profiles: Mapping[str, PlatformProfile] = PLATFORM_PROFILES
) -> PlatformProfile | None:
    """Return the profile whose domain matches the URL's host (or a parent domain of it)."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    for profile in profiles.values():
        for domain in profile.domains:
            if host == domain or host.endswith("." + domain):
                return profile
    return None
