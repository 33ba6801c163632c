"""Per-platform fallback profiles for review extraction, kept as data.

Why: most review platforms publish schema.org markup, which `cleanup.extract` reads first. Some
pages carry none (or markup without the individual reviews); for those, a profile of CSS selectors
says where each field lives, and how to reach the later reviews (a « Voir plus » control to click
in a browser, or « page suivante » links to follow). Profiles are data, one TOML file per platform
in `profiles/`, so that adding a platform is a new file, not new code. Each file is checked when
it is loaded (unknown keys, wrong types, CSS selectors that do not compile): a broken file stops
the start-up with an error naming it, instead of a platform that silently yields nothing.

The markup the profiles describe is modelled on how each platform lays out its pages; each profile
has a test page in `tests/cleanup/platform_pages/` and a test that reads it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from cssselect import GenericTranslator, SelectorError

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
# Date notations `cleanup.extract.date_parse` understands; a profile may restrict them (a site
# writing 03/04/2026 month first must not be read day first).
DATE_FORMATS: tuple[str, ...] = ("iso", "dmy", "french")
MAX_LOAD_MORE_CLICKS = 20
MAX_PAGES = 20
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and the faulty entry."""


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """Where one field lives inside a review block: a CSS selector and, optionally, the attribute
    that holds the value (the element's text is used when `attribute` is None). An empty `css`
    means the review block itself (e.g. an id carried by the block's own attribute)."""

    css: str
    attribute: str | None = None


@dataclass(frozen=True, slots=True)
class LoadMore:
    """A « Voir plus d'avis » control that a browser clicks (at most `max_clicks` times) to show
    the later reviews of a script-driven page. `text`, when set, must appear in the control's
    label (several buttons often share one class)."""

    css: str
    text: str | None = None
    max_clicks: int = 5


@dataclass(frozen=True, slots=True)
class Pagination:
    """Paginated pages: the link to the next page (`next_css`, its `href`), followed on the same
    host only, at most `max_pages` pages in all (the first one included)."""

    next_css: str
    max_pages: int = 5


@dataclass(frozen=True, slots=True)
class PlatformProfile:
    """Fallback extraction profile for one review platform.

    `review` selects each review block; the field selectors are evaluated inside that block.
    `rating_best` is the platform's scale (ratings are normalised to 5 by the extractor).
    `requires_javascript` marks platforms whose reviews are only present after scripts run, so
    the scanner goes straight to a browser instead of parsing an empty shell. `date_formats`
    limits the date notations read (empty: all of `DATE_FORMATS`); relative dates (« il y a 3
    jours ») are never turned into a date.
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
    permalink: FieldSelector | None = None
    rating_best: float = 5.0
    aggregate_rating: FieldSelector | None = None
    aggregate_count: FieldSelector | None = None
    requires_javascript: bool = False
    date_formats: tuple[str, ...] = ()
    load_more: LoadMore | None = None
    pagination: Pagination | None = None


# --------------------------------------------------------------------------- loading

_TOP_KEYS = frozenset(
    {"key", "name", "domains", "review", "rating_best", "requires_javascript", "date_formats",
     "fields", "aggregate", "load_more", "pagination"}
)  # fmt: skip
_FIELD_KEYS = frozenset(
    {"review_id", "author", "date", "experience_date", "rating", "text", "permalink"}
)
_AGGREGATE_KEYS = frozenset({"rating", "count"})
_SELECTOR_KEYS = frozenset({"css", "attribute"})
_LOAD_MORE_KEYS = frozenset({"css", "text", "max_clicks"})
_PAGINATION_KEYS = frozenset({"next", "max_pages"})


def _fail(path: Path, message: str) -> ProfileError:
    return ProfileError(f"Profil de plateforme {path.name} : {message}")


def _check_keys(path: Path, where: str, data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _fail(
            path,
            f"clé(s) inconnue(s) dans {where} : {', '.join(unknown)} "
            f"(attendu : {', '.join(sorted(allowed))})",
        )


def _string(path: Path, where: str, value: Any, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise _fail(path, f"{where} doit être un texte non vide")
    return value


def _css(path: Path, where: str, value: Any, *, empty: bool = False) -> str:
    css = _string(path, where, value, empty=empty)
    if css:
        try:
            GenericTranslator().css_to_xpath(css)
        except SelectorError as exc:
            raise _fail(path, f"sélecteur CSS invalide pour {where} ({css!r}) : {exc}") from None
    return css


def _int(path: Path, where: str, value: Any, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(path, f"{where} doit être un entier entre {low} et {high}")
    return value


def _selector(path: Path, where: str, value: Any) -> FieldSelector:
    if isinstance(value, str):
        value = {"css": value}
    if not isinstance(value, dict):
        raise _fail(path, f"{where} doit être un sélecteur CSS ou une table {{css, attribute}}")
    _check_keys(path, where, value, _SELECTOR_KEYS)
    css = _css(path, where, value.get("css", ""), empty=True)
    attribute = value.get("attribute")
    if attribute is not None:
        attribute = _string(path, f"{where}.attribute", attribute)
    if not css and attribute is None:
        raise _fail(path, f"{where} : un sélecteur vide doit nommer un attribut du bloc d'avis")
    return FieldSelector(css=css, attribute=attribute)


def _table(
    path: Path, data: Mapping[str, Any], name: str, allowed: frozenset[str]
) -> dict[str, Any]:
    """The `[name]` table of a profile (empty when absent), its keys checked."""
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise _fail(path, f"[{name}] doit être une table")
    _check_keys(path, f"[{name}]", table, allowed)
    return table


def _identity_parse(*, data: Mapping[str, Any], path: Path) -> tuple[str, str, list[str]]:
    """The profile's key (its file name), display name and domains."""
    key = _string(path, "key", data.get("key"))
    if not _KEY.match(key):
        raise _fail(path, f"key {key!r} : lettres minuscules, chiffres et tirets (40 au plus)")
    if key != path.stem:
        raise _fail(path, f"key {key!r} doit être le nom du fichier ({path.stem!r})")
    name = _string(path, "name", data.get("name"))
    domains = data.get("domains", [])
    if not isinstance(domains, list) or not all(
        isinstance(d, str) and d.strip() and "/" not in d for d in domains
    ):
        raise _fail(path, "domains doit être une liste de noms de domaine")
    return key, name, domains


def _reading_parse(*, data: Mapping[str, Any], path: Path) -> tuple[float, bool, list[str]]:
    """How values are read: the rating scale, scripts needed or not, the date notations."""
    rating_best = data.get("rating_best", 5.0)
    if (
        isinstance(rating_best, bool)
        or not isinstance(rating_best, int | float)
        or rating_best <= 0
    ):
        raise _fail(path, "rating_best doit être un nombre positif")
    requires_js = data.get("requires_javascript", False)
    if not isinstance(requires_js, bool):
        raise _fail(path, "requires_javascript doit valoir true ou false")
    date_formats = data.get("date_formats", [])
    if not isinstance(date_formats, list) or not all(f in DATE_FORMATS for f in date_formats):
        raise _fail(path, f"date_formats : valeurs possibles {', '.join(DATE_FORMATS)}")
    return rating_best, requires_js, date_formats


def _load_more_parse(*, data: Mapping[str, Any], path: Path) -> LoadMore | None:
    if "load_more" not in data:
        return None
    raw = _table(path, data, "load_more", _LOAD_MORE_KEYS)
    text = raw.get("text")
    return LoadMore(
        css=_css(path, "load_more.css", raw.get("css")),
        text=_string(path, "load_more.text", text) if text is not None else None,
        max_clicks=_int(
            path, "load_more.max_clicks", raw.get("max_clicks", 5),
            low=1, high=MAX_LOAD_MORE_CLICKS,
        ),
    )  # fmt: skip


def _pagination_parse(*, data: Mapping[str, Any], path: Path) -> Pagination | None:
    if "pagination" not in data:
        return None
    raw = _table(path, data, "pagination", _PAGINATION_KEYS)
    return Pagination(
        next_css=_css(path, "pagination.next", raw.get("next")),
        max_pages=_int(
            path, "pagination.max_pages", raw.get("max_pages", 5), low=2, high=MAX_PAGES
        ),
    )


def profile_parse(*, data: Mapping[str, Any], path: Path) -> PlatformProfile:
    """Build and check one profile from its parsed TOML; `path` names it in errors."""
    _check_keys(path, "le profil", data, _TOP_KEYS)
    key, name, domains = _identity_parse(data=data, path=path)
    review = _css(path, "review", data.get("review"))
    fields = _table(path, data, "fields", _FIELD_KEYS)
    selectors = {k: _selector(path, f"fields.{k}", v) for k, v in fields.items()}
    aggregate = _table(path, data, "aggregate", _AGGREGATE_KEYS)
    rating_best, requires_js, date_formats = _reading_parse(data=data, path=path)
    load_more = _load_more_parse(data=data, path=path)
    pagination = _pagination_parse(data=data, path=path)
    return PlatformProfile(
        key=key,
        name=name,
        domains=tuple(d.strip().lower().rstrip(".") for d in domains),
        review=review,
        review_id=selectors.get("review_id"),
        author=selectors.get("author"),
        date=selectors.get("date"),
        experience_date=selectors.get("experience_date"),
        rating=selectors.get("rating"),
        text=selectors.get("text"),
        permalink=selectors.get("permalink"),
        rating_best=float(rating_best),
        aggregate_rating=(
            _selector(path, "aggregate.rating", aggregate["rating"])
            if "rating" in aggregate
            else None
        ),
        aggregate_count=(
            _selector(path, "aggregate.count", aggregate["count"]) if "count" in aggregate else None
        ),
        requires_javascript=requires_js,
        date_formats=tuple(date_formats),
        load_more=load_more,
        pagination=pagination,
    )


def profile_load(*, path: Path) -> PlatformProfile:
    """Read and check one profile file."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"TOML illisible : {exc}") from None
    return profile_parse(data=data, path=path)


def profiles_load(*, directory: Path = PROFILES_DIR) -> Mapping[str, PlatformProfile]:
    """Every `*.toml` profile of a directory, keyed by profile key, in file-name order."""
    profiles: dict[str, PlatformProfile] = {}
    for path in sorted(directory.glob("*.toml")):
        profile = profile_load(path=path)
        profiles[profile.key] = profile
    return MappingProxyType(profiles)


PLATFORM_PROFILES: Mapping[str, PlatformProfile] = profiles_load()


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
