"""Alerts of the monitoring guarantee: those a scan raises from what changed (new, edited or
removed reviews, a page's first read, a page gone silent, new or rising search results), and
the one-click actions the dashboard offers on them (mark read, dismiss, evidence capture,
claim, reply draft)."""

from __future__ import annotations

import datetime
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cleanup.changes import ReviewChanges
from cleanup.extract import PageExtract, text_fold
from cleanup.extract import Review as ExtractedReview
from cleanup.models import Alert, Mention, Review, Scan, WatchedPage
from cleanup.scoring import ItemScore, mention_text, review_score
from cleanup.search_providers import SearchResult
from cleanup.services.common import page_name
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.opening import claim_open
from cover.reply_rules import ReplyTopic, reply_options, reply_propose
from cover.rules import ContentCategory
from evidence.selectors import capture_detail, captures_all
from evidence.services.requests import capture_request

# --------------------------------------------------------------------------- alerts of a scan


def _flags_json(score: ItemScore) -> list[dict[str, Any]]:
    return [asdict(f) for f in score.flags]


def _review_alert(
    *, scan: Scan, kind: str, review: Review, score: ItemScore | None, detail: dict[str, Any]
) -> Alert:
    title = _("%(author)s sur %(page)s") % {
        "author": review.author or _("Auteur anonyme"),
        "page": review.page.label or urlsplit(review.page.url).hostname,
    }
    return Alert.objects.create(
        profile=scan.profile,
        scan=scan,
        kind=kind,
        review=review,
        url=review.page.url,
        title=title[:500],
        text=review.text,
        rating=review.rating,
        negativity=score.negativity if score else None,
        band=score.band if score else "",
        negative=score.negative if score else False,
        flags=_flags_json(score) if score else [],
        detail=detail,
    )


def _review_fields(r: ExtractedReview) -> dict[str, Any]:
    return {
        "author": r.author or "",
        "published_on": r.date,
        "experience_on": r.experience_date,
        "rating": r.rating,
        "text": r.text,
    }


def review_changes_record(
    *, scan: Scan, page: WatchedPage, changes: ReviewChanges, now: datetime.datetime
) -> list[Alert]:
    alerts: list[Alert] = []
    seen_ids = set()
    for new in changes.new:
        review, created = Review.objects.get_or_create(
            page=page,
            review_id=new.review_id,
            defaults={**_review_fields(new), "first_seen": now, "last_seen": now},
        )
        if not created:  # a review that had disappeared is back
            for key, value in _review_fields(new).items():
                setattr(review, key, value)
            review.removed_at = None
            review.last_seen = now
            review.save()
        seen_ids.add(review.review_id)
        alerts.append(
            _review_alert(
                scan=scan, kind=Alert.Kind.NEW_REVIEW, review=review,
                score=review_score(review=new), detail={},
            )
        )  # fmt: skip
    for edit in changes.edited:
        tracked = Review.objects.filter(page=page, review_id=edit.before.review_id).first()
        review = tracked or Review(page=page, review_id=edit.before.review_id, first_seen=now)
        before = {f: getattr(edit.before, f) for f in edit.fields}
        before = {
            k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in before.items()
        }
        review.edits = [
            *review.edits,
            {"at": now.isoformat(), "fields": list(edit.fields), "before": before},
        ]
        review.review_id = edit.after.review_id
        for key, value in _review_fields(edit.after).items():
            setattr(review, key, value)
        review.last_seen = now
        review.removed_at = None
        review.save()
        seen_ids.add(review.review_id)
        # Scored on its new text, not only its stars: « Je ne recommande plus » with the old
        # five stars is negative, and the alert says the edit made it so.
        score, score_before = review_score(review=edit.after), review_score(review=edit.before)
        detail: dict[str, Any] = {"fields": list(edit.fields), "before": before}
        if score.negative and not score_before.negative:
            detail["became_negative"] = True
        if score.flags and not score_before.flags:
            detail["became_flagged"] = True
        alerts.append(
            _review_alert(
                scan=scan, kind=Alert.Kind.EDITED_REVIEW, review=review, score=score,
                detail=detail,
            )
        )  # fmt: skip
    for gone in changes.removed:
        gone_row = Review.objects.filter(page=page, review_id=gone.review_id).first()
        if gone_row is None:
            continue
        review = gone_row
        review.removed_at = now
        review.save(update_fields=["removed_at"])
        alerts.append(
            _review_alert(
                scan=scan, kind=Alert.Kind.REMOVED_REVIEW, review=review, score=None,
                detail={"may_be_pagination": changes.removed_may_be_pagination},
            )
        )  # fmt: skip
    Review.objects.filter(page=page, removed_at__isnull=True).exclude(
        review_id__in=seen_ids
    ).update(last_seen=now)
    return alerts


def _review_link(review: Review) -> str:
    """Where the doctor can read the review: its own address when the markup gives one."""
    rid = review.review_id
    return rid if rid.startswith(("http://", "https://")) else review.page.url


def _needs_examining(score: ItemScore) -> bool:
    return score.negative or bool(score.flags)


def baseline_record(
    *, scan: Scan, page: WatchedPage, extract: PageExtract, now: datetime.datetime
) -> list[Alert]:
    """A page's first successful read: its reviews are recorded as the baseline and summed up
    in ONE alert (not one « Nouvel avis » per existing review). Negative or flagged reviews are
    listed in it, so the doctor can still act on them (``baseline_review_alert``)."""
    examine: list[dict[str, Any]] = []
    flagged = negatives = 0
    worst: float | None = None
    for item in extract.reviews:
        review, created = Review.objects.get_or_create(
            page=page,
            review_id=item.review_id,
            defaults={**_review_fields(item), "first_seen": now, "last_seen": now},
        )
        if not created:
            for key, value in _review_fields(item).items():
                setattr(review, key, value)
            review.removed_at, review.last_seen = None, now
            review.save()
        score = review_score(review=item)
        if not _needs_examining(score):
            continue
        flagged += bool(score.flags)
        negatives += score.negative
        if score.negativity is not None:
            worst = max(worst or 0.0, score.negativity)
        examine.append(
            {
                "review": review.pk,
                "author": review.author,
                "rating": review.rating,
                "band_label": score.band_label,
                "flags": list(dict.fromkeys(f.label for f in score.flags)),
                "excerpt": review.text[:300],
                "url": _review_link(review),
            }
        )
    count = len(extract.reviews)
    text = ngettext(
        "Relevé initial : %(count)d avis enregistré",
        "Relevé initial : %(count)d avis enregistrés",
        count,
    ) % {"count": count}
    if examine:
        text += ngettext(
            ", dont %(n)d négatif ou signalé à examiner.",
            ", dont %(n)d négatifs ou signalés à examiner.",
            len(examine),
        ) % {"n": len(examine)}
    else:
        text += _(", aucun à examiner.")
    # Flagged reviews first, then the most negative, as on the dashboard.
    examine.sort(key=lambda e: (-len(e["flags"]), e["rating"] if e["rating"] is not None else 9))
    scan.baseline_reviews += count
    alert = Alert.objects.create(
        profile=scan.profile, scan=scan, kind=Alert.Kind.BASELINE, url=page.url,
        title=page_name(page)[:500], text=text,
        negativity=worst, band="", negative=negatives > 0, flags=[],
        detail={"page_id": page.pk, "count": count, "flagged": flagged, "examine": examine},
    )  # fmt: skip
    return [alert]


def page_without_reviews_record(
    *, scan: Scan, page: WatchedPage, had_reviews: bool, notes: list[str]
) -> list[Alert]:
    """Extraction found no review: never silent. A page that had reviews at the last read
    raises an alert; one that never gave any is reported as not recognised (a capture lets a
    person look at it)."""
    if had_reviews:
        notes.append(
            _("Plus aucun avis lu sur %(page)s : vérifiez la page ou demandez une capture.")
            % {"page": page_name(page)}
        )
        alert = Alert.objects.create(
            profile=scan.profile, scan=scan, kind=Alert.Kind.PAGE_EMPTY, url=page.url,
            title=(_("Plus aucun avis lu sur %(page)s") % {"page": page_name(page)})[:500],
            text=_(
                "La page avait des avis au relevé précédent et aucun n'a été lu cette fois : "
                "avis supprimés, page modifiée ou accès bloqué. Une capture permet de le "
                "vérifier."
            ),
            band="", negative=False, flags=[], detail={"page_id": page.pk},
        )  # fmt: skip
        return [alert]
    notes.append(
        _("Page non reconnue : aucun avis lu sur %(page)s — demander une capture.")
        % {"page": page_name(page)}
    )
    return []


def mention_alert_create(
    *,
    scan: Scan,
    mention: Mention,
    result: SearchResult,
    kind: str,
    score: ItemScore,
    detail: dict[str, Any],
) -> Alert:
    return Alert.objects.create(
        profile=scan.profile, scan=scan, kind=kind, mention=mention, url=result.url,
        title=(result.title or result.url)[:500], text=mention_text(result=result),
        rating=None, negativity=score.negativity, band=score.band, negative=score.negative,
        flags=_flags_json(score), detail=detail,
    )  # fmt: skip


# --------------------------------------------------------------------------- actions on an alert


def alert_mark_read(*, alert: Alert) -> Alert:
    if alert.read_at is None:
        alert.read_at = timezone.now()
        alert.save(update_fields=["read_at"])
    return alert


def alert_dismiss(*, alert: Alert) -> Alert:
    alert.dismissed_at = timezone.now()
    alert.read_at = alert.read_at or alert.dismissed_at
    alert.save(update_fields=["dismissed_at", "read_at"])
    return alert


@transaction.atomic
def alert_capture(*, alert: Alert, user: User) -> str:
    """Ask the evidence app to capture the alert's page; returns the capture's reference.
    A URL the capture guard refuses raises its French ``ValidationError``."""
    # A capture still queued or running for this alert is the answer to a second click.
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    ref = alert.evidence_ref
    pending = capture_detail(capture_id=int(ref)) if ref.isdigit() else None
    if pending is not None and not pending.is_finished:
        return alert.evidence_ref
    reason = _("Veille : %(title)s") % {"title": alert.title}
    capture_id = capture_request(url=alert.url, requested_by=user, reason=reason[:500])
    alert.evidence_ref = str(capture_id)
    alert.read_at = alert.read_at or timezone.now()
    alert.save(update_fields=["evidence_ref", "read_at"])
    return alert.evidence_ref


@transaction.atomic
def baseline_review_alert(*, alert: Alert, review_id: int) -> Alert:
    """Turn one review listed in a baseline summary into its own alert, with the actions that
    fit it (reply, or capture and claim). Idempotent: a second click returns the same alert."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    listed = {e["review"] for e in alert.detail.get("examine", [])}
    if alert.kind != Alert.Kind.BASELINE or review_id not in listed:
        raise ValidationError(_("Cet avis ne fait pas partie de ce relevé initial."))
    review = Review.objects.select_related("page").get(pk=review_id, page__profile=alert.profile)
    existing = alert.profile.alerts.filter(
        kind=Alert.Kind.EXISTING_REVIEW, review=review, detail__baseline=alert.pk
    ).first()
    if existing is not None:
        return existing
    item = ExtractedReview(
        review_id=review.review_id, author=review.author or None, date=review.published_on,
        rating=review.rating, text=review.text, source="", id_from_markup=False,
        experience_date=review.experience_on,
    )  # fmt: skip
    return _review_alert(
        scan=alert.scan, kind=Alert.Kind.EXISTING_REVIEW, review=review,
        score=review_score(review=item), detail={"baseline": alert.pk},
    )  # fmt: skip


def watched_page_capture(*, page: WatchedPage, user: User) -> str:
    """Ask the evidence app to capture a watched page whose reviews could not be read, so a
    person can look at what it shows; returns the capture's reference."""
    # A capture of this page still queued or running answers a second click.
    pending = captures_all().filter(url=page.url, requested_by=user).order_by("-pk").first()
    if pending is not None and not pending.is_finished:
        return str(pending.pk)
    reason = _("Veille : page sans avis lisible (%(page)s)") % {"page": page_name(page)}
    return str(capture_request(url=page.url, requested_by=user, reason=reason[:500]))


def _claim_quotes(alert: Alert) -> list[str]:
    """The flagged passages (a claim must cite the passages in cause), else the whole text."""
    quotes = list(dict.fromkeys(f["passage"] for f in alert.flags if f.get("passage")))
    return quotes or [alert.text]


@transaction.atomic
def alert_claim_open(*, alert: Alert, user: User) -> str:
    """Open a claim in the claims app for the alert's content (its text, flagged passages,
    publication date when the platform shows one); returns the claim reference. The claims
    app requests the evidence capture itself. Refusals are raised as ``ValidationError``.

    One claim per alert: the alert's row is locked, so a second click, or two requests at
    once, get the claim already opened (its reference) and open nothing."""
    alert = (
        Alert.objects.select_for_update(of=("self",))
        .select_related("profile__doctor", "review")
        .get(pk=alert.pk)
    )
    if alert.claim_ref:
        return alert.claim_ref
    if not alert.text.strip():
        raise ValidationError(_("Cette alerte n'a pas de texte à déclarer."))
    seen = timezone.localdate(alert.created_at)
    # The platform's date when it shows one; otherwise None, so the claim stores an estimate
    # (the earliest evidence, else the discovery date) flagged as such rather than a fact.
    published = alert.review.published_on if alert.review else None
    try:
        claim = claim_open(
            doctor=alert.profile.doctor,
            opened_by=user,
            urls=[alert.url],
            source_text=alert.text,
            quotes=_claim_quotes(alert),
            seen_date=seen,
            publication_date=min(published, seen) if published else None,
            author_name=alert.review.author if alert.review else "",
            description=_("Ouvert depuis l'alerte de veille : %(title)s") % {"title": alert.title},
        )
    except ClaimActionRefused as exc:
        raise ValidationError(exc.reasons) from None
    alert.claim_ref = str(getattr(claim, "reference", claim.pk))
    alert.read_at = alert.read_at or timezone.now()
    alert.save(update_fields=["claim_ref", "read_at"])
    return alert.claim_ref


# Topics of a general reply (cover.reply_rules) suggested by words of the review.
REPLY_TOPIC_HINTS: tuple[tuple[str, str], ...] = (
    ("attente", "DELAYS"),
    ("retard", "DELAYS"),
    ("heure", "DELAYS"),
    ("rendez-vous", "APPOINTMENT_AVAILABILITY"),
    ("creneau", "APPOINTMENT_AVAILABILITY"),
    ("urgence", "EMERGENCIES"),
    ("telephone", "PHONE_REACHABILITY"),
    ("injoignable", "PHONE_REACHABILITY"),
    ("secretariat", "PHONE_REACHABILITY"),
)


def alert_reply_draft(*, alert: Alert) -> dict[str, Any]:
    """A reply that respects medical secrecy (DOMAIN §5.3–5.4), or the advice not to reply
    when a passage is flagged as possibly illicit (a reply would weaken the legal route)."""
    doctor = alert.profile.doctor
    signature = alert.profile.practice_name or _("Cabinet du Dr %(name)s") % {
        "name": doctor.user.last_name or str(doctor)
    }
    folded, _index = text_fold(text=alert.text)
    topics = list(
        dict.fromkeys(ReplyTopic(topic) for word, topic in REPLY_TOPIC_HINTS if word in folded)
    )
    categories = [ContentCategory(f["category"]) for f in alert.flags]
    choice = reply_options(categories=categories)
    return {
        "text": reply_propose(signature=signature, topics=topics),
        "default": choice.default.value,
        "caveats": [c.text for c in choice.caveats],
    }
