"""Google Places API (New): search a place, follow it, read its rating and reviews.

- Client: Google's official discovery client (``googleapiclient``) with the static discovery
  document ``places.v1`` bundled with it. The insurer's key travels in the ``X-Goog-Api-Key``
  header (never in a URL, so never in a log line or an error message) and every call names its
  fields in the ``X-Goog-FieldMask`` header (Places API (New) refuses a call without one).
- Transport: production sends through ``GuardedHttp``, an ``httplib2.Http`` look-alike over the
  outbound guard (``common.net_guard``): the host is resolved once, non-public addresses are
  refused, the connection goes to the checked address, redirects are not followed — the key
  cannot be steered elsewhere. Tests pass the client's own ``HttpMockSequence`` (``http=``), or
  point ``EGIDE_PLACES_ENDPOINT`` at a loopback server allowed by ``EGIDE_FETCH_ALLOWED_NETWORKS``.
- Reviews: Place Details returns at most five reviews chosen by Google (not all of them, not
  the newest): a review absent from one answer is not « removed », and a new review may stay
  unseen. The first read of a place is a baseline (one summary alert); later reads raise an
  alert per new review and per edited one (text or rating changed).
- Caching: see ``cleanup.places.models`` — place ID kept, review content blanked after
  ``CONTENT_MAX_DAYS`` (``places_content_purge``, run with every periodic scan).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import httplib2
import httpx
from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from wagtail.models import Site

from cleanup.extract import Review as ExtractedReview
from cleanup.models import Alert, Scan, WatchProfile
from cleanup.places.models import (
    CONTENT_MAX_DAYS,
    FollowedPlace,
    PlaceRatingPoint,
    PlaceReview,
    PlacesSettings,
)
from cleanup.scoring import review_score
from common.keys import SealKeyDecryptError, seal_key_decrypt, seal_key_encrypt
from common.net_guard import OutboundGuard, OutboundRefused, guarded_client

HTTP_TIMEOUT_S = 30
SEARCH_FIELDS = (
    "places.id,places.displayName,places.formattedAddress,places.googleMapsUri,"
    "places.rating,places.userRatingCount"
)
FOLLOW_FIELDS = "id,displayName,formattedAddress,googleMapsUri"
DETAILS_FIELDS = "id,displayName,formattedAddress,rating,userRatingCount,reviews,googleMapsUri"
PLACE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{10,300}$")
SOURCE = "google-places"


class PlacesError(Exception):
    """A failure to show the doctor (French message); nothing was lost."""


# --------------------------------------------------------------------------- configuration


def places_settings_current() -> PlacesSettings:
    """The insurer's settings; a French error when the feature is off or has no key."""
    site = Site.objects.filter(is_default_site=True).first()
    conf = PlacesSettings.for_site(site) if site is not None else None
    if conf is None or not conf.configured:
        raise PlacesError(
            _(
                "Le suivi des fiches Google Maps n'est pas activé par votre assureur "
                "(clé Places API manquante)."
            )
        )
    return conf


def _key_context(conf: PlacesSettings) -> bytes:
    schema = getattr(db_connection, "schema_name", "public")
    return f"egide-places-key:{schema}:{conf.pk}".encode()


def places_api_key_store(*, conf: PlacesSettings, api_key: str) -> PlacesSettings:
    """Encrypt and save the key (the row must exist: its id is bound to the ciphertext)."""
    api_key = (api_key or "").strip()
    if not api_key:
        raise PlacesError(_("La clé API est vide."))
    sealed = seal_key_encrypt(key_pem=api_key.encode(), context=_key_context(conf))
    conf.key_ciphertext = sealed.key_ciphertext
    conf.key_data_key = sealed.data_key_wrapped
    conf.key_master_id = sealed.master_key_id
    conf.save(update_fields=["key_ciphertext", "key_data_key", "key_master_id"])
    return conf


def _api_key(conf: PlacesSettings) -> str:
    try:
        plain = seal_key_decrypt(
            key_ciphertext=bytes(conf.key_ciphertext or b""),
            data_key_wrapped=bytes(conf.key_data_key or b""),
            master_key_id=conf.key_master_id,
            context=_key_context(conf),
        )
    except SealKeyDecryptError as exc:
        raise PlacesError(
            _("Clé Places API illisible : votre assureur doit la saisir à nouveau.")
        ) from exc
    return plain.decode()


# --------------------------------------------------------------------------- transport


class GuardedHttp:
    """What ``googleapiclient`` needs from ``httplib2.Http`` (``request``), sent through the
    outbound guard with httpx. Redirects are not followed."""

    def __init__(self, *, guard: OutboundGuard | None = None, timeout: float = HTTP_TIMEOUT_S):
        self.guard = guard or OutboundGuard()
        self.timeout = timeout

    def request(
        self, uri, method="GET", body=None, headers=None, redirections=0, connection_type=None
    ):
        with guarded_client(
            guard=self.guard, timeout=self.timeout, follow_redirects=False
        ) as client:
            try:
                response = client.request(method, uri, content=body, headers=headers or {})
            except OutboundRefused as exc:
                raise PlacesError(
                    _("Adresse de l'API Google refusée : %(reason)s") % {"reason": exc.message_fr}
                ) from None
            except httpx.TimeoutException:
                raise PlacesError(
                    _("Google Maps ne répond pas (délai dépassé). Réessayez plus tard.")
                ) from None
            except httpx.TransportError as exc:
                raise PlacesError(
                    _("Google Maps est injoignable pour le moment (%(reason)s).")
                    % {"reason": type(exc).__name__}
                ) from None
        # httpx already decoded the body: drop the headers that describe the encoded one.
        info = {
            key.lower(): value
            for key, value in response.headers.items()
            if key.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        }
        info["status"] = str(response.status_code)
        resp = httplib2.Response(info)
        resp.reason = response.reason_phrase
        return resp, response.content


def _service(http: Any = None) -> Any:
    options = {}
    endpoint = getattr(settings, "EGIDE_PLACES_ENDPOINT", "")
    if endpoint:
        options["client_options"] = {"api_endpoint": endpoint}
    return build(
        "places",
        "v1",
        static_discovery=True,
        cache_discovery=False,
        http=http or GuardedHttp(),
        **options,
    )


def _error_message(status: int, content: bytes) -> str:
    try:
        detail = json.loads(content or b"{}").get("error", {})
    except (ValueError, AttributeError):
        detail = {}
    code = str(detail.get("status", "")) if isinstance(detail, dict) else ""
    if status == 429 or code == "RESOURCE_EXHAUSTED":
        return _("Quota de l'API Google Maps dépassé : réessayez plus tard (rien n'a été modifié).")
    if status in (401, 403):
        return _(
            "Google a refusé la clé Places API (clé invalide, restreinte ou « Places API (New) » "
            "non activée) : prévenez votre assureur. Rien n'a été modifié."
        )
    if status == 404:
        return _("Cette fiche n'existe plus sur Google Maps (identifiant inconnu).")
    if status == 400:
        return _("Google a refusé la demande (paramètres invalides). Rien n'a été modifié.")
    return _(
        "Google Maps a répondu par une erreur %(status)s : réessayez plus tard. "
        "Rien n'a été modifié."
    ) % {"status": status}


def _execute(request: Any, *, key: str, fields: str) -> dict[str, Any]:
    request.headers["X-Goog-Api-Key"] = key
    request.headers["X-Goog-FieldMask"] = fields
    try:
        result: dict[str, Any] = request.execute(num_retries=0) or {}
    except HttpError as exc:
        raise PlacesError(_error_message(exc.status_code, exc.content)) from None
    except (httplib2.HttpLib2Error, OSError) as exc:
        raise PlacesError(
            _("Google Maps est injoignable pour le moment (%(reason)s). Réessayez plus tard.")
            % {"reason": type(exc).__name__}
        ) from None
    return result


# --------------------------------------------------------------------------- search and follow


@dataclass(frozen=True)
class PlaceCandidate:
    place_id: str
    display_name: str
    formatted_address: str
    google_maps_uri: str
    rating: float | None
    user_rating_count: int | None


def _text(value: Any) -> str:
    """``displayName`` is a LocalizedText ``{"text", "languageCode"}``."""
    if isinstance(value, dict):
        return str(value.get("text", ""))
    return str(value or "")


def places_search(*, name: str, address: str, http: Any = None) -> list[PlaceCandidate]:
    """Text Search (New) on « name, address », French results, at most ten candidates."""
    name, address = (name or "").strip(), (address or "").strip()
    if len(name) < 2:
        raise PlacesError(_("Indiquez le nom du cabinet ou du médecin (2 caractères au moins)."))
    if len(name) + len(address) > 300:
        raise PlacesError(_("Recherche trop longue (300 caractères au plus)."))
    conf = places_settings_current()
    query = f"{name}, {address}" if address else name
    body = {"textQuery": query, "languageCode": "fr", "regionCode": "FR", "pageSize": 10}
    result = _execute(
        _service(http).places().searchText(body=body), key=_api_key(conf), fields=SEARCH_FIELDS
    )
    candidates = []
    for place in result.get("places", []):
        if not PLACE_ID_RE.match(str(place.get("id", ""))):
            continue
        candidates.append(
            PlaceCandidate(
                place_id=place["id"],
                display_name=_text(place.get("displayName"))[:300],
                formatted_address=str(place.get("formattedAddress", ""))[:500],
                google_maps_uri=_maps_uri(place.get("googleMapsUri")),
                rating=place.get("rating"),
                user_rating_count=place.get("userRatingCount"),
            )
        )
    return candidates


def _maps_uri(value: Any) -> str:
    uri = str(value or "")
    return uri[:1000] if uri.startswith("https://") else ""


def place_follow(*, doctor: Any, place_id: str, http: Any = None) -> FollowedPlace:
    """The doctor picked a result: read its details again (never trust the posted name) and
    record it. Following an already followed place returns it."""
    place_id = (place_id or "").strip()
    if not PLACE_ID_RE.match(place_id):
        raise PlacesError(_("Identifiant de fiche Google Maps invalide."))
    existing = FollowedPlace.objects.filter(doctor=doctor, place_id=place_id).first()
    if existing is not None:
        return existing
    conf = places_settings_current()
    data = _execute(
        _service(http).places().get(name=f"places/{place_id}", languageCode="fr"),
        key=_api_key(conf),
        fields=FOLLOW_FIELDS,
    )
    place, _created = FollowedPlace.objects.get_or_create(
        doctor=doctor,
        place_id=place_id,
        defaults={
            "display_name": _text(data.get("displayName"))[:300],
            "formatted_address": str(data.get("formattedAddress", ""))[:500],
            "google_maps_uri": _maps_uri(data.get("googleMapsUri")),
            "details_fetched_at": timezone.now(),
        },
    )
    return place


def place_unfollow(*, place: FollowedPlace) -> None:
    """Stop following: the place, its reviews and its rating points are deleted (alerts stay
    on the dashboard, they are the doctor's record)."""
    place.delete()


# --------------------------------------------------------------------------- scan


@dataclass
class PlaceScanResult:
    reviews: int = 0
    baseline: int = 0
    new: int = 0
    edited: int = 0
    rating: float | None = None
    count: int | None = None
    scan_id: int | None = None
    alerts: list[int] = field(default_factory=list)


def _fingerprint(rating: Any, text: str) -> str:
    return hashlib.sha256(f"{rating}\x00{text}".encode()).hexdigest()


def _review_values(data: dict[str, Any]) -> dict[str, Any]:
    author = data.get("authorAttribution") or {}
    text = _text(data.get("text") or data.get("originalText"))
    language = (data.get("text") or data.get("originalText") or {}).get("languageCode", "")
    author_uri = str(author.get("uri", ""))
    return {
        "author_name": str(author.get("displayName", ""))[:300],
        "author_uri": author_uri[:1000] if author_uri.startswith("https://") else "",
        "rating": data.get("rating"),
        "text": text,
        "language_code": str(language)[:20],
        "publish_time": str(data.get("publishTime", ""))[:40],
        "relative_time": str(data.get("relativePublishTimeDescription", ""))[:100],
        "google_maps_uri": _maps_uri(data.get("googleMapsUri")),
        "flag_content_uri": _maps_uri(data.get("flagContentUri")),
    }


def _alert(*, scan: Any, kind: str, review: PlaceReview, detail: dict[str, Any]) -> Any:
    score = review_score(
        review=ExtractedReview(
            review_id=review.name, author=review.author_name or None, date=None,
            rating=float(review.rating) if review.rating is not None else None,
            text=review.text, source=SOURCE, id_from_markup=True,
        )
    )  # fmt: skip
    place = review.place
    # The author is named in the attribution (detail), not in the title: the title outlives
    # the content purge, the review's words and author do not.
    title = _("Avis Google Maps sur %(place)s") % {"place": place.display_name or place.place_id}
    alert = Alert.objects.create(
        profile=scan.profile,
        scan=scan,
        kind=kind,
        url=review.google_maps_uri or place.google_maps_uri or "https://maps.google.com/",
        title=title[:500],
        text=review.text,
        rating=float(review.rating) if review.rating is not None else None,
        negativity=score.negativity,
        band=score.band,
        negative=score.negative,
        flags=[asdict(f) for f in score.flags],
        detail={
            "source": SOURCE,
            "place_review": review.pk,
            "attribution": _("Avis fourni par Google"),
            "author": review.author_name,
            "author_uri": review.author_uri,
            **detail,
        },
    )
    review.alert = alert
    review.save(update_fields=["alert"])
    return alert


def _place_details_save(
    *, place: FollowedPlace, data: dict[str, Any], result: PlaceScanResult, now: datetime.datetime
) -> None:
    """Refresh the place's name, address, link and rating from Place Details."""
    place.display_name = _text(data.get("displayName"))[:300] or place.display_name
    place.formatted_address = str(data.get("formattedAddress", ""))[:500]
    place.google_maps_uri = _maps_uri(data.get("googleMapsUri")) or place.google_maps_uri
    place.rating = result.rating
    place.user_rating_count = result.count
    place.details_fetched_at = now
    place.reviews_read_at = now
    place.last_error = ""
    place.save()


def _place_review_record(
    *,
    place: FollowedPlace,
    scan: Scan,
    name: str,
    item: dict[str, Any],
    review: PlaceReview | None,
    baseline: bool,
    result: PlaceScanResult,
    now: datetime.datetime,
) -> None:
    """Record one review of the answer: a new one (counted in the baseline on the first read,
    an alert after), or a known one refreshed (an alert when its text or rating changed)."""
    values = _review_values(item)
    fingerprint = _fingerprint(values["rating"], values["text"])
    result.reviews += 1
    if review is None:
        review = PlaceReview.objects.create(
            place=place, name=name, fingerprint=fingerprint, first_seen=now,
            last_seen=now, **values,
        )  # fmt: skip
        if baseline:
            result.baseline += 1
        else:
            result.new += 1
            alert = _alert(scan=scan, kind=Alert.Kind.NEW_REVIEW, review=review, detail={})
            result.alerts.append(alert.pk)
        return
    edited = review.fingerprint != fingerprint
    before = {"rating": review.rating, "text": review.text}
    for key, value in values.items():
        setattr(review, key, value)
    review.fingerprint = fingerprint
    review.last_seen = now
    review.content_purged_at = None
    review.save()
    if edited:
        result.edited += 1
        alert = _alert(
            scan=scan, kind=Alert.Kind.EDITED_REVIEW, review=review,
            detail={"before": before},
        )  # fmt: skip
        result.alerts.append(alert.pk)


def _place_reviews_record(
    *,
    place: FollowedPlace,
    scan: Scan,
    data: dict[str, Any],
    baseline: bool,
    result: PlaceScanResult,
    now: datetime.datetime,
) -> int:
    """Record each review of the answer once; return how many distinct reviews it had."""
    known = {r.name: r for r in place.reviews.all()}
    seen: set[str] = set()
    for item in data.get("reviews", []):
        name = str(item.get("name", ""))[:500]
        if not name or name in seen:
            continue
        seen.add(name)
        _place_review_record(
            place=place, scan=scan, name=name, item=item, review=known.get(name),
            baseline=baseline, result=result, now=now,
        )  # fmt: skip
    return len(seen)


def _place_baseline_alert(
    *, profile: WatchProfile, scan: Scan, place: FollowedPlace, result: PlaceScanResult, seen: int
) -> None:
    """The first read of a place: one summary alert instead of one per review."""
    Alert.objects.create(
        profile=profile, scan=scan, kind=Alert.Kind.BASELINE,
        url=place.google_maps_uri or "https://maps.google.com/",
        title=(_("Relevé initial Google Maps : %(n)s avis affichés par Google sur "
                 "%(place)s (note %(rating)s, %(count)s avis)")
               % {"n": seen, "place": place.display_name or place.place_id,
                  "rating": result.rating if result.rating is not None else "—",
                  "count": result.count if result.count is not None else "—"})[:500],
        band="", detail={"source": SOURCE, "count": seen,
                         "attribution": _("Avis fournis par Google")},
    )  # fmt: skip


def place_scan(*, place: FollowedPlace, http: Any = None) -> PlaceScanResult:
    """Place Details with rating, count and reviews; one cleanup ``Scan`` records the run.

    The API is read first, then everything is written in one transaction: an error (quota,
    refused key, network) records nothing but the message on the place."""
    profile = WatchProfile.objects.filter(doctor=place.doctor).first()
    if profile is None:
        raise PlacesError(_("Enregistrez d'abord votre profil de veille."))
    conf = places_settings_current()
    data = _execute(
        _service(http).places().get(name=place.resource_name, languageCode="fr"),
        key=_api_key(conf),
        fields=DETAILS_FIELDS,
    )
    now = timezone.now()
    result = PlaceScanResult(rating=data.get("rating"), count=data.get("userRatingCount"))
    with transaction.atomic():
        place = FollowedPlace.objects.select_for_update().get(pk=place.pk)
        baseline = place.reviews_read_at is None
        scan = Scan.objects.create(
            profile=profile, status=Scan.Status.RUNNING, started_at=now,
            notes=_("Fiche Google Maps (Places API) : %(place)s")
            % {"place": place.display_name or place.place_id},
        )  # fmt: skip
        _place_details_save(place=place, data=data, result=result, now=now)
        PlaceRatingPoint.objects.create(
            place=place, scan=scan, at=now, rating=result.rating, count=result.count
        )
        seen = _place_reviews_record(
            place=place, scan=scan, data=data, baseline=baseline, result=result, now=now
        )
        if baseline:
            _place_baseline_alert(profile=profile, scan=scan, place=place, result=result, seen=seen)
        scan.status = Scan.Status.DONE
        scan.finished_at = timezone.now()
        scan.progress = 100
        scan.new_reviews, scan.edited_reviews = result.new, result.edited
        scan.baseline_reviews = result.baseline
        scan.alerts_count = scan.alerts.count()
        scan.save()
    result.scan_id = scan.pk
    return result


def place_scan_record_error(*, place: FollowedPlace, error: PlacesError) -> None:
    """Keep the message on the place (shown to the doctor); nothing else changes."""
    FollowedPlace.objects.filter(pk=place.pk).update(last_error=str(error))


def places_content_purge(*, now: datetime.datetime | None = None) -> int:
    """Blank the Google content kept longer than ``CONTENT_MAX_DAYS`` after it was last
    returned: review words, author and links, and the words copied into place alerts. The
    fingerprint and the review's Google name stay (they identify, they do not show)."""
    limit = (now or timezone.now()) - datetime.timedelta(days=CONTENT_MAX_DAYS)
    purged = PlaceReview.objects.filter(last_seen__lt=limit, content_purged_at__isnull=True)
    count = purged.update(
        author_name="", author_uri="", text="", language_code="", relative_time="",
        google_maps_uri="", flag_content_uri="", content_purged_at=now or timezone.now(),
    )  # fmt: skip
    Alert.objects.filter(detail__source=SOURCE, created_at__lt=limit).exclude(text="").update(
        text=""
    )
    return count


def places_scan_all(*, http: Any = None) -> dict[str, int]:
    """The periodic read in one insurer's schema: every followed place whose doctor has a
    monitoring profile, then the content purge. A failure stays on its place."""
    counts = {"scanned": 0, "failed": 0, "purged": 0}
    counts["purged"] = places_content_purge()
    conf = PlacesSettings.objects.filter(site__is_default_site=True).first()
    if conf is None or not conf.configured:
        return counts
    places = FollowedPlace.objects.filter(doctor__watch_profile__isnull=False)
    for place in places.select_related("doctor"):
        try:
            place_scan(place=place, http=http)
        except PlacesError as exc:
            place_scan_record_error(place=place, error=exc)
            counts["failed"] += 1
        else:
            counts["scanned"] += 1
    return counts
