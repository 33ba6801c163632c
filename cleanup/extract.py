"""Extract reviews and the aggregate rating from a watched page.

Why: monitoring compares what a platform shows about a doctor from one scan to the next. The
comparison needs each review as a stable record (same id across scans, rating on one scale), so
this module turns a page into a `PageExtract`. schema.org markup is read first (JSON-LD, microdata,
RDFa, through `extruct`), because platforms publish it for search engines and it is the most
stable part of a page; a per-platform CSS profile (`cleanup.platforms`) is the fallback where the
markup is missing. Pure: no network, no Django.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urljoin, urlsplit

import extruct
from extruct.utils import parse_xmldom_html
from lxml import etree
from lxml import html as lxml_html

from cleanup.platforms import (
    DATE_FORMATS,
    PLATFORM_PROFILES,
    FieldSelector,
    PlatformProfile,
    platform_for_url,
)

RATING_SCALE = 5.0
# Syntaxes in the order they are trusted: JSON-LD is written for machines, microdata and RDFa are
# interleaved with the visible page and more often partial.
MARKUP_SYNTAXES: tuple[str, ...] = ("json-ld", "microdata", "rdfa")
SCHEMA_PREFIXES: tuple[str, ...] = ("http://schema.org/", "https://schema.org/", "schema:")
HASH_ID_WORDS = 12
GENERIC_PROFILE = "generic-hreview"
# A page with less visible text than this, scripts present and nothing extracted is treated as a
# JavaScript shell that needs a browser.
JS_SHELL_MAX_TEXT = 200

FRENCH_MONTHS: Mapping[str, int] = {
    "janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "avril": 4, "avr": 4,
    "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9, "sept": 9,
    "octobre": 10, "oct": 10, "novembre": 11, "nov": 11, "decembre": 12, "dec": 12,
}  # fmt: skip


_Date = date  # the Review field named `date` shadows the type inside the class body


@dataclass(frozen=True, slots=True)
class Review:
    """One review as shown on the page. `rating` is on a 0–5 scale whatever the platform's."""

    review_id: str
    author: str | None
    date: _Date | None
    rating: float | None
    text: str
    source: str
    id_from_markup: bool
    experience_date: _Date | None = None
    permalink: str | None = None


@dataclass(frozen=True, slots=True)
class AggregateRating:
    rating: float | None
    count: int | None


@dataclass(frozen=True, slots=True)
class PageExtract:
    """What one scan of one page found. `source` names the syntax the reviews came from
    ("json-ld", "microdata", "rdfa", "fallback") or "none"."""

    url: str
    platform: str | None
    source: str
    aggregate: AggregateRating
    reviews: tuple[Review, ...]
    needs_javascript: bool


# --------------------------------------------------------------------------- value parsing


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


APOSTROPHES = "\u2019\u02bc\u2018"


def text_fold(*, text: str) -> tuple[str, list[int]]:
    """Fold text for French keyword matching (lower case, accents removed, typographic
    apostrophes made straight) and return, for each folded character, the index of the original
    character it came from: folding can change lengths ('ß' → 'ss', decomposed accents), and
    matches must be reported at their offsets in the original text."""
    folded: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch in APOSTROPHES:
            piece = "'"
        else:
            decomposed = unicodedata.normalize("NFD", ch)
            piece = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        folded.append(piece)
        index.extend([i] * len(piece))
    return "".join(folded), index


def span_unfold(*, index: list[int], start: int, end: int) -> tuple[int, int]:
    """Map a [start, end) span of folded text back to the original text."""
    return index[start], index[end - 1] + 1


def _clean_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(_clean_text(v) for v in value)
    text = html_lib.unescape(str(value))
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", text).strip()


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
_FRENCH_DATE = re.compile(r"\b(\d{1,2})(?:er)?\s+([a-z]+)\.?\s+(\d{4})\b")


def date_parse(value: Any, *, formats: Sequence[str] = ()) -> date | None:
    """Parse the date formats review pages use: ISO 8601 (date part, "iso"), dd/mm/yyyy
    ("dmy") and French long dates ("2 février 2024", "1er janv. 2024": "french"); `formats`
    limits the notations tried (empty: all). Relative dates ("il y a un an", "il y a 3 jours")
    give None: they cannot anchor a limitation period, and a date is never guessed."""
    text = _fold(_clean_text(value))
    if not text:
        return None
    allowed = set(formats or DATE_FORMATS)
    try:
        if "iso" in allowed and (m := _ISO_DATE.search(text)):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if "dmy" in allowed and (m := _NUMERIC_DATE.search(text)):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if "french" in allowed and (m := _FRENCH_DATE.search(text)) and m[2] in FRENCH_MONTHS:
            return date(int(m[3]), FRENCH_MONTHS[m[2]], int(m[1]))
    except ValueError:
        return None
    return None


_NUMBER = re.compile(r"(\d+(?:[.,]\d+)?)(?:\s*/\s*(\d+(?:[.,]\d+)?))?")


def _number(value: Any) -> tuple[float, float | None] | None:
    m = _NUMBER.search(_clean_text(value))
    if not m:
        return None
    best = float(m[2].replace(",", ".")) if m[2] else None
    return float(m[1].replace(",", ".")), best


def rating_normalise(
    *, value: Any, best: Any = None, default_best: float = RATING_SCALE
) -> float | None:
    """Bring a rating to the 0–5 scale. The scale comes from `bestRating`, else from a "x/y"
    notation in the value, else the platform default; the result is rounded to 2 decimals."""
    parsed = _number(value)
    if parsed is None:
        return None
    raw, inline_best = parsed
    best_parsed = _number(best) if best not in (None, "") else None
    scale = best_parsed[0] if best_parsed else (inline_best or default_best)
    if scale <= 0:
        return None
    return round(min(max(raw / scale * RATING_SCALE, 0.0), RATING_SCALE), 2)


def _count(value: Any) -> int | None:
    digits = re.sub(r"[\s\u00a0\u202f.,]", "", _clean_text(value))
    m = re.search(r"\d+", digits)
    return int(m[0]) if m else None


def review_hash_id(*, author: str | None, published: date | None, text: str) -> str:
    """Id for a review without a markup id: stable as long as its author, date and first words
    stay the same (an edit further down keeps the id, so it is detected as an edit)."""
    words = _fold(text).split()[:HASH_ID_WORDS]
    basis = "|".join(
        (_fold(author or ""), published.isoformat() if published else "", " ".join(words))
    )
    return "h:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- schema.org markup


def _short(name: str) -> str:
    for prefix in SCHEMA_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _types(item: Mapping[str, Any]) -> set[str]:
    raw = item.get("@type", [])
    values = raw if isinstance(raw, list) else [raw]
    return {_short(str(v)).rsplit("/", 1)[-1] for v in values}


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _rdfa_tree(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """pyRdfa returns flattened, expanded JSON-LD (references by @id, full IRIs). Rebuild nested
    objects with short schema.org names so that RDFa reads like the other two syntaxes."""
    by_id = {n["@id"]: n for n in nodes if "@id" in n}
    referenced: set[str] = set()

    def convert(node: Mapping[str, Any], seen: frozenset[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        node_id = node.get("@id", "")
        if node_id and not node_id.startswith("_:"):
            out["@id"] = node_id
        if "@type" in node:
            out["@type"] = [_short(t) for t in node["@type"]]
        for key, values in node.items():
            if key.startswith("@"):
                continue
            converted = []
            for v in values:
                if "@value" in v:
                    converted.append(v["@value"])
                elif "@id" in v:
                    ref = v["@id"]
                    referenced.add(ref)
                    if ref in by_id and ref not in seen:
                        converted.append(convert(by_id[ref], seen | {ref}))
                    else:
                        converted.append(ref)
            out[_short(key)] = converted[0] if len(converted) == 1 else converted
        return out

    trees = {nid: convert(n, frozenset({nid})) for nid, n in by_id.items()}
    return [t for nid, t in trees.items() if nid not in referenced and "@type" in t]


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _markup_review(item: Mapping[str, Any], *, url: str, source: str) -> Review:
    author = _first(item.get("author"))
    if isinstance(author, dict):
        author = author.get("name")
    author_name = _clean_text(_first(author)) or None
    published = date_parse(_first(item.get("datePublished") or item.get("dateCreated")))
    rating_obj = _first(item.get("reviewRating"))
    rating = None
    if isinstance(rating_obj, dict):
        rating = rating_normalise(
            value=_first(rating_obj.get("ratingValue")), best=_first(rating_obj.get("bestRating"))
        )
    elif rating_obj is not None:
        rating = rating_normalise(value=rating_obj)
    text = _clean_text(item.get("reviewBody") or item.get("description") or item.get("text"))
    raw_id = _first(item.get("@id") or item.get("id") or item.get("identifier"))
    if isinstance(raw_id, str) and raw_id and not raw_id.startswith("_:"):
        review_id, from_markup = urljoin(url, raw_id), True
    else:
        review_id, from_markup = (
            review_hash_id(author=author_name, published=published, text=text),
            False,
        )
    return Review(
        review_id=review_id,
        author=author_name,
        date=published,
        rating=rating,
        text=text,
        source=source,
        id_from_markup=from_markup,
    )


def _markup_aggregate(items: list[dict[str, Any]]) -> AggregateRating | None:
    for node in _walk(items):
        agg = node if "AggregateRating" in _types(node) else _first(node.get("aggregateRating"))
        if not isinstance(agg, dict):
            continue
        count = _count(_first(agg.get("reviewCount"))) or _count(_first(agg.get("ratingCount")))
        rating = rating_normalise(
            value=_first(agg.get("ratingValue")), best=_first(agg.get("bestRating"))
        )
        if rating is not None or count is not None:
            return AggregateRating(rating=rating, count=count)
    return None


def _markup_reviews(items: list[dict[str, Any]], *, url: str, source: str) -> list[Review]:
    reviews: dict[str, Review] = {}
    for node in _walk(items):
        if "Review" in _types(node):
            review = _markup_review(node, url=url, source=source)
            reviews.setdefault(review.review_id, review)
    return list(reviews.values())


# --------------------------------------------------------------------------- CSS fallback


def _select_value(block: etree._Element, selector: FieldSelector | None) -> str | None:
    if selector is None:
        return None
    if selector.css:
        found = block.cssselect(selector.css)
        if not found:
            return None
        element = found[0]
    else:
        element = block
    if selector.attribute:
        value = element.get(selector.attribute)
        return value.strip() if value is not None else None
    return _clean_text(element.text_content()) or None


def _permalink(value: str | None, *, url: str) -> str | None:
    """An absolute http(s) link from an href (relative ones and « #p12 » anchors included)."""
    if not value:
        return None
    link = urljoin(url, value.strip())
    return link if urlsplit(link).scheme in ("http", "https") else None


def _fallback_extract(
    tree: etree._Element, *, profile: PlatformProfile, url: str
) -> tuple[list[Review], AggregateRating | None]:
    reviews: dict[str, Review] = {}
    formats = profile.date_formats
    for block in tree.cssselect(profile.review):
        author = _select_value(block, profile.author)
        published = date_parse(_select_value(block, profile.date), formats=formats)
        text = _select_value(block, profile.text) or ""
        raw_rating = _select_value(block, profile.rating)
        rating = (
            rating_normalise(value=raw_rating, default_best=profile.rating_best)
            if raw_rating is not None
            else None
        )
        raw_id = _select_value(block, profile.review_id)
        permalink = _permalink(_select_value(block, profile.permalink), url=url)
        if raw_id:
            review_id, from_markup = f"{profile.key}:{raw_id}", True
        elif permalink:
            review_id, from_markup = permalink, True
        else:
            review_id = review_hash_id(author=author, published=published, text=text)
            from_markup = False
        reviews.setdefault(
            review_id,
            Review(
                review_id=review_id,
                author=author,
                date=published,
                rating=rating,
                text=text,
                source="fallback",
                id_from_markup=from_markup,
                experience_date=date_parse(
                    _select_value(block, profile.experience_date), formats=formats
                ),
                permalink=permalink,
            ),
        )
    aggregate = None
    agg_rating = _select_value(tree, profile.aggregate_rating)
    agg_count = _select_value(tree, profile.aggregate_count)
    if agg_rating is not None or agg_count is not None:
        aggregate = AggregateRating(
            rating=rating_normalise(value=agg_rating, default_best=profile.rating_best)
            if agg_rating is not None
            else None,
            count=_count(agg_count) if agg_count is not None else None,
        )
    return list(reviews.values()), aggregate


def _looks_like_js_shell(tree: etree._Element) -> bool:
    has_script = bool(tree.xpath("//script[not(@type='application/ld+json')]"))
    noscript = " ".join(n.text_content() for n in tree.xpath("//noscript"))
    for junk in tree.xpath("//script|//style|//noscript|//template"):
        junk.drop_tree()
    body = tree.find("body")
    text = re.sub(r"\s+", " ", (body if body is not None else tree).text_content()).strip()
    return has_script and (len(text) < JS_SHELL_MAX_TEXT or "javascript" in _fold(noscript))


# --------------------------------------------------------------------------- entry point


def reviews_extract(
    *,
    html: str,
    url: str,
    platform: str | None,
    profiles: Mapping[str, PlatformProfile] = PLATFORM_PROFILES,
) -> PageExtract:
    """Extract the aggregate rating and the reviews of one page.

    Markup first, in `MARKUP_SYNTAXES` order: reviews come from the first syntax that has any,
    the aggregate from the first that has one. Without reviews in markup, the platform's CSS
    profile is used (`platform` names it; when None, the profile is found from the URL's domain,
    else the generic hReview profile). `needs_javascript` tells the caller that nothing was found
    and the page is a script shell, so a browser rendering is worth trying.
    """
    profile = profiles.get(platform) if platform else None
    if platform and profile is None:
        raise KeyError(f"unknown platform profile: {platform!r}")
    if profile is None:
        profile = platform_for_url(url=url, profiles=profiles)
    detected = profile.key if profile is not None else None
    if profile is None:
        profile = profiles.get(GENERIC_PROFILE)

    if not html.strip():
        return PageExtract(url, detected, "none", AggregateRating(None, None), (), True)
    # lxml refuses str input that still carries an XML encoding declaration.
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    try:
        # The xmldom tree is the one pyRdfa can walk; it is a regular lxml tree for the rest.
        tree = parse_xmldom_html(html, encoding="UTF-8")
    except (etree.ParserError, ValueError):
        return PageExtract(url, detected, "none", AggregateRating(None, None), (), False)

    data = extruct.extract(
        tree, base_url=url, syntaxes=list(MARKUP_SYNTAXES), uniform=True, errors="ignore"
    )
    source = "none"
    reviews: list[Review] = []
    aggregate: AggregateRating | None = None
    for syntax in MARKUP_SYNTAXES:
        items = data.get(syntax) or []
        if syntax == "rdfa":
            items = _rdfa_tree(items)
        if not reviews and (found := _markup_reviews(items, url=url, source=syntax)):
            reviews, source = found, syntax
        if aggregate is None:
            aggregate = _markup_aggregate(items)
            if aggregate is not None and source == "none":
                source = syntax

    if not reviews and profile is not None:
        # A tree of its own: pyRdfa rewrites some attributes (`role`) of the one it walked.
        fb_reviews, fb_aggregate = _fallback_extract(
            parse_xmldom_html(html, encoding="UTF-8"), profile=profile, url=url
        )
        if fb_reviews:
            reviews, source = fb_reviews, "fallback"
        if aggregate is None and fb_aggregate is not None:
            aggregate = fb_aggregate
            source = "fallback"

    needs_js = (
        not reviews
        and aggregate is None
        and ((profile is not None and profile.requires_javascript) or _looks_like_js_shell(tree))
    )
    return PageExtract(
        url=url,
        platform=detected or (GENERIC_PROFILE if source == "fallback" else None),
        source=source,
        aggregate=aggregate or AggregateRating(None, None),
        reviews=tuple(reviews),
        needs_javascript=needs_js,
    )


# --------------------------------------------------------------------------- later pages


def profile_resolve(
    *,
    platform: str | None,
    url: str,
    profiles: Mapping[str, PlatformProfile] = PLATFORM_PROFILES,
) -> PlatformProfile | None:
    """The profile named by `platform`, else the one matching the URL's host (None if neither:
    the generic hReview profile is a reading fallback, it has no pages to follow)."""
    if platform:
        return profiles.get(platform)
    return platform_for_url(url=url, profiles=profiles)


def page_next_url(*, html: str, url: str, profile: PlatformProfile) -> str | None:
    """The profile's « page suivante » link on this page, absolute, on the same host and scheme
    family as `url`; None when there is none (or it leaves the site)."""
    if profile.pagination is None or not html.strip():
        return None
    try:
        tree = lxml_html.document_fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", html))
    except (etree.ParserError, ValueError):
        return None
    for link in tree.cssselect(profile.pagination.next_css):
        href = (link.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        target = urljoin(url, href)
        here, there = urlsplit(url), urlsplit(target)
        if there.scheme not in ("http", "https") or there.netloc.lower() != here.netloc.lower():
            return None
        return target.split("#", 1)[0]
    return None


def extracts_merge(*, first: PageExtract, later: Sequence[PageExtract]) -> PageExtract:
    """One extract for a paginated listing: the first page's aggregate and source, the reviews
    of every page in order (a review shown on two pages, as pages shift, is kept once)."""
    reviews: dict[str, Review] = {r.review_id: r for r in first.reviews}
    for extract in later:
        for review in extract.reviews:
            reviews.setdefault(review.review_id, review)
    source = first.source
    if source == "none" and reviews:
        source = next(e.source for e in later if e.reviews)
    return PageExtract(
        url=first.url,
        platform=first.platform,
        source=source,
        aggregate=first.aggregate,
        reviews=tuple(reviews.values()),
        needs_javascript=first.needs_javascript and not reviews,
    )
