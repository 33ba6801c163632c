"""Google Business Profile review import: every review of every location, the first read a
baseline, later reads raising cleanup alerts for new, edited and deleted reviews.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cleanup.extract import Review as ExtractedReview
from cleanup.google.models import GoogleConnection, GoogleLocation, GoogleReview
from cleanup.google.services.connection import GoogleApi, GoogleBusinessError, google_event_record
from cleanup.models import Alert, Scan, WatchProfile
from cleanup.scoring import review_score

STAR_RATINGS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
LOCATION_READ_MASK = "name,title,metadata"


@dataclass
class GoogleScanResult:
    locations: int = 0
    reviews: int = 0
    baseline: int = 0
    new: int = 0
    edited: int = 0
    deleted: int = 0
    scan_id: int | None = None


def _review_values(data: dict[str, Any]) -> dict[str, Any]:
    reviewer = data.get("reviewer") or {}
    reply = data.get("reviewReply") or {}
    return {
        "name": data.get("name", ""),
        "reviewer": "" if reviewer.get("isAnonymous") else reviewer.get("displayName", ""),
        "star_rating": STAR_RATINGS.get(data.get("starRating", "")),
        "comment": data.get("comment", ""),
        "create_time": data.get("createTime", ""),
        "update_time": data.get("updateTime", ""),
        "reply_comment": reply.get("comment", ""),
        "reply_update_time": reply.get("updateTime", ""),
    }


def _alert(*, scan: Any, kind: str, review: GoogleReview, detail: dict[str, Any]) -> Any:
    score = None
    if kind != Alert.Kind.REMOVED_REVIEW:
        score = review_score(
            review=ExtractedReview(
                review_id=review.review_id, author=review.reviewer or None, date=None,
                rating=float(review.star_rating) if review.star_rating else None,
                text=review.comment, source="google-business", id_from_markup=True,
            )
        )  # fmt: skip
    title = _("%(author)s sur Google (%(place)s)") % {
        "author": review.reviewer or _("Auteur anonyme"),
        "place": review.location.title or review.location.name,
    }
    alert = Alert.objects.create(
        profile=scan.profile,
        scan=scan,
        kind=kind,
        url=review.location.maps_uri or "https://business.google.com/reviews",
        title=title[:500],
        text=review.comment,
        rating=float(review.star_rating) if review.star_rating else None,
        negativity=score.negativity if score else None,
        band=score.band if score else "",
        negative=score.negative if score else False,
        flags=[asdict(f) for f in score.flags] if score else [],
        detail={"source": "google-business", "google_review": review.pk, **detail},
    )  # fmt: skip
    review.alert = alert
    review.save(update_fields=["alert"])
    return alert


def _location_sync(
    *, scan: Any, location: GoogleLocation, baseline: bool, listed: list[dict[str, Any]],
    body: dict[str, Any], now: datetime.datetime, result: GoogleScanResult,
) -> None:  # fmt: skip
    location.average_rating = body.get("averageRating")
    location.total_reviews = body.get("totalReviewCount", len(listed))
    location.reviews_read_at = now
    location.save(update_fields=["average_rating", "total_reviews", "reviews_read_at"])
    known = {r.review_id: r for r in location.reviews.all()}
    seen: set[str] = set()
    for data in listed:
        review_id = data.get("reviewId") or data.get("name", "").rsplit("/", 1)[-1]
        if not review_id or review_id in seen:
            continue
        seen.add(review_id)
        values = _review_values(data)
        result.reviews += 1
        review = known.get(review_id)
        if review is None:
            review = GoogleReview.objects.create(
                location=location, review_id=review_id, first_seen=now, last_seen=now, **values
            )
            if baseline:
                result.baseline += 1
            else:
                result.new += 1
                _alert(scan=scan, kind=Alert.Kind.NEW_REVIEW, review=review, detail={})
            continue
        changed = [
            field
            for field in ("comment", "star_rating", "update_time")
            if getattr(review, field) != values[field]
        ]
        reply_changed = (review.reply_comment, review.reply_update_time) != (
            values["reply_comment"],
            values["reply_update_time"],
        )
        if changed == ["update_time"] and reply_changed:
            changed = []  # only the owner's reply moved (ours, or one made on Google)
        came_back = review.deleted_at is not None
        before = {"text": review.comment, "rating": review.star_rating,
                  "update_time": review.update_time}  # fmt: skip
        for key, value in values.items():
            setattr(review, key, value)
        review.last_seen = now
        review.deleted_at = None
        if changed:
            review.edits = [
                *review.edits,
                {"at": now.isoformat(), "fields": changed, "before": before},
            ]
        review.save()
        if came_back:
            result.new += 1
            _alert(scan=scan, kind=Alert.Kind.NEW_REVIEW, review=review,
                   detail={"reappeared": True})  # fmt: skip
        elif changed:
            result.edited += 1
            _alert(scan=scan, kind=Alert.Kind.EDITED_REVIEW, review=review,
                   detail={"fields": changed, "before": before})  # fmt: skip
    for review_id, review in known.items():
        if review_id in seen or review.deleted_at is not None:
            continue
        review.deleted_at = now
        review.save(update_fields=["deleted_at"])
        result.deleted += 1
        _alert(scan=scan, kind=Alert.Kind.REMOVED_REVIEW, review=review, detail={})
    if baseline and listed:
        Alert.objects.create(
            profile=scan.profile, scan=scan, kind=Alert.Kind.BASELINE,
            url=location.maps_uri or "https://business.google.com/reviews",
            title=(_("Relevé initial Google : %(n)s avis sur %(place)s")
                   % {"n": len(seen), "place": location.title or location.name})[:500],
            band="", detail={"source": "google-business", "count": len(seen)},
        )  # fmt: skip


def google_reviews_scan(*, connection: GoogleConnection, http: Any = None) -> GoogleScanResult:
    """List the locations of every account, then all their reviews; record what changed.

    Needs the doctor's monitoring profile (alerts belong to it). One cleanup ``Scan`` row
    records the run (it is what alerts hang on)."""
    profile = WatchProfile.objects.filter(doctor=connection.doctor).first()
    if profile is None:
        raise GoogleBusinessError(_("Enregistrez d'abord votre profil de veille."))
    api = GoogleApi(connection=connection, http=http)
    now = timezone.now()
    result = GoogleScanResult()
    accounts = api.pages(api.accounts.accounts().list, "accounts")
    # Everything is read first, then written in one transaction: a failure half-way through
    # (quota, network, revoked access) records nothing and the next read starts again.
    listed: list[tuple[str, dict[str, Any], list[dict[str, Any]], dict[str, Any]]] = []
    for account in accounts:
        for loc in api.pages(
            api.info.accounts().locations().list,
            "locations",
            parent=account["name"],
            readMask=LOCATION_READ_MASK,
            pageSize=100,
        ):
            parent = f"{account['name']}/{loc['name']}"
            reviews = api.pages(
                api.reviews.accounts().locations().reviews().list,
                "reviews",
                parent=parent,
                pageSize=50,
            )
            listed.append((account["name"], loc, reviews, getattr(api, "last_body", {})))
    with transaction.atomic():
        scan = Scan.objects.create(
            profile=profile, status=Scan.Status.RUNNING, started_at=now,
            notes=_("Avis Google Business Profile (API officielle)."),
        )  # fmt: skip
        seen_names = set()
        for account_name, loc, reviews, body in listed:
            location, _created = GoogleLocation.objects.get_or_create(
                connection=connection,
                name=loc["name"],
                defaults={"account_name": account_name},
            )
            baseline = location.reviews_read_at is None
            location.account_name = account_name
            location.title = loc.get("title", "")[:300]
            location.maps_uri = (loc.get("metadata") or {}).get("mapsUri", "")[:1000]
            location.active = True
            location.save()
            seen_names.add(location.name)
            result.locations += 1
            _location_sync(
                scan=scan, location=location, baseline=baseline, listed=reviews, body=body,
                now=now, result=result,
            )  # fmt: skip
        connection.locations.exclude(name__in=seen_names).update(active=False)
        scan.status = Scan.Status.DONE
        scan.finished_at = timezone.now()
        scan.progress = 100
        scan.new_reviews, scan.edited_reviews = result.new, result.edited
        scan.removed_reviews, scan.baseline_reviews = result.deleted, result.baseline
        scan.alerts_count = scan.alerts.count()
        scan.save()
        connection.refresh_from_db(fields=["token_ciphertext", "data_key_wrapped",
                                           "master_key_id", "events"])  # fmt: skip
        connection.last_scan_at = now
        connection.last_error = ""
        google_event_record(connection, "scan", None, new=result.new, edited=result.edited,
               deleted=result.deleted, baseline=result.baseline)  # fmt: skip
        connection.save()
    result.scan_id = scan.pk
    return result


def google_reviews_scan_all(*, http: Any = None) -> dict[str, int]:
    """The periodic read, in one insurer's schema: every active connection whose doctor has
    a monitoring profile. A failure is kept on the connection (shown to the doctor) and does
    not stop the others."""
    counts = {"scanned": 0, "failed": 0}
    connections = GoogleConnection.objects.filter(
        status=GoogleConnection.Status.ACTIVE, doctor__watch_profile__isnull=False
    ).select_related("doctor")
    for connection in connections:
        if not connection.has_tokens:
            continue
        try:
            google_reviews_scan(connection=connection, http=http)
        except GoogleBusinessError as exc:
            connection.refresh_from_db()
            connection.last_error = str(exc)
            connection.save(update_fields=["last_error"])
            counts["failed"] += 1
        else:
            counts["scanned"] += 1
    return counts
