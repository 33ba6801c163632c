"""Writes of the monitoring guarantee: watch profiles within plan limits, scans, alerts,
removal requests and positive content.

Why here: the pure engine (``cleanup.fetch``, ``extract``, ``changes``, ``scoring``,
``search_providers``) knows nothing of doctors, plans or tenants. These services feed it what a
doctor watches, keep what it found so the next scan can compare, and apply the plan's limits
(``cover.selectors.policy_terms``). A scan commits its progress page by page so that the "scan
now" button can show it live, and one page that fails never loses the others.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cleanup.changes import ReviewChanges, reviews_diff, search_results_diff, url_key
from cleanup.extract import AggregateRating, PageExtract, reviews_extract
from cleanup.extract import Review as ExtractedReview
from cleanup.fetch import FetchError, Network, page_render, page_scan, url_check
from cleanup.models import (
    GOOGLE_CSE_END,
    Alert,
    ComplianceCheck,
    ContentPlanItem,
    Mention,
    RatingPoint,
    RemovalRequest,
    Review,
    ReviewSnapshot,
    Scan,
    SearchQuery,
    SearchResultRank,
    SearchSettings,
    WatchedPage,
    WatchProfile,
    google_cse_closed,
)
from cleanup.scoring import ItemScore, mention_score, mention_text, review_score
from cleanup.search_providers import (
    SearchProvider,
    SearchProviderError,
    SearchResult,
    search_provider_build,
)
from cover.models import Doctor
from cover.terms import Terms
from mailing.kinds import MailKind
from mailing.services import mail_send

logger = logging.getLogger(__name__)

MAX_NAME_VARIANTS = 5
# A scan still queued or running after this long was lost (worker killed): it no longer blocks
# new scans and is marked failed when the next one is requested.
SCAN_STALE_AFTER = datetime.timedelta(hours=2)
MAX_TEXT_ITEM = 200


class PlanLimitError(ValidationError):
    """The doctor's plan does not allow this (too many keywords, pages or requests)."""


class ActionUnavailable(Exception):
    """A one-click action whose service (claims, evidence) is not available here."""


# --------------------------------------------------------------------------- plan limits


def terms_for_doctor(*, doctor: Doctor, on: datetime.date) -> Terms:
    """The terms of the policy in force, or a clear refusal: monitoring is part of the cover."""
    from cover.selectors import policy_current, policy_terms

    policy = policy_current(doctor=doctor, on=on)
    if policy is None:
        raise PlanLimitError(
            _("Aucun contrat actif : la veille e-réputation fait partie de votre garantie.")
        )
    return policy_terms(policy=policy)


def _clean_list(values: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        text = " ".join(str(value).split())
        if text and text.casefold() not in {k.casefold() for k in seen}:
            seen[text] = None
    return list(seen)


def watch_queries(
    *, name_variants: Sequence[str], practice_name: str, keywords: Sequence[str]
) -> list[str]:
    """Name queries (quoted, as a patient types them), the practice name, then each keyword
    with the doctor's main name and with the practice name: a keyword alone (« escroc ») would
    search the whole web, not what is said of this doctor."""
    names = [f'"{v}"' for v in _clean_list(name_variants)]
    practice = f'"{practice_name.strip()}"' if practice_name.strip() else ""
    anchors = [*names[:1], *([practice] if practice else [])]
    queries = [*names, *([practice] if practice else [])]
    for keyword in _clean_list(keywords):
        queries.extend(f"{anchor} {keyword}" for anchor in anchors)
    return _clean_list(queries)


def _queries_for(profile: WatchProfile) -> list[str]:
    return watch_queries(
        name_variants=profile.name_variants,
        practice_name=profile.practice_name,
        keywords=profile.keywords,
    )


@transaction.atomic
def watch_profile_save(
    *,
    doctor: Doctor,
    name_variants: Sequence[str],
    practice_name: str,
    city: str,
    specialty: str,
    keywords: Sequence[str],
    today: datetime.date | None = None,
) -> WatchProfile:
    """Create or update the doctor's watch profile within the plan's keyword limit, and keep
    its search queries in step (old queries are deactivated, their rank history kept)."""
    today = today or timezone.localdate()
    terms = terms_for_doctor(doctor=doctor, on=today)
    names = _clean_list(name_variants)
    words = _clean_list(keywords)
    errors: dict[str, list[str]] = {}
    if not names:
        errors["name_variants"] = [_("Indiquez au moins une façon d'écrire votre nom.")]
    elif len(names) > MAX_NAME_VARIANTS:
        errors["name_variants"] = [
            _("Au plus %(max)d variantes du nom (vous en avez saisi %(count)d).")
            % {"max": MAX_NAME_VARIANTS, "count": len(names)}
        ]
    if len(words) > terms.max_keywords:
        errors["keywords"] = [
            _(
                "Votre formule « %(plan)s » permet de surveiller %(max)d mots-clés ; vous en "
                "avez saisi %(count)d. Retirez-en %(extra)d ou passez à une formule supérieure."
            )
            % {
                "plan": terms.plan_name,
                "max": terms.max_keywords,
                "count": len(words),
                "extra": len(words) - terms.max_keywords,
            }
        ]
    too_long = [w for w in [*names, *words] if len(w) > MAX_TEXT_ITEM]
    if too_long:
        errors.setdefault("keywords", []).append(
            _("Chaque nom ou mot-clé compte au plus %(max)d caractères.") % {"max": MAX_TEXT_ITEM}
        )
    if errors:
        raise PlanLimitError(errors)
    profile, _created = WatchProfile.objects.get_or_create(doctor=doctor)
    profile.name_variants = names
    profile.practice_name = practice_name.strip()
    profile.city = city.strip()
    profile.specialty = specialty.strip()
    profile.keywords = words
    profile.full_clean()
    profile.save()
    wanted = _queries_for(profile)
    existing = {q.text: q for q in profile.queries.all()}
    for text, query in existing.items():
        active = text in wanted
        if query.active != active:
            query.active = active
            query.save(update_fields=["active"])
    for text in wanted:
        if text not in existing:
            SearchQuery.objects.create(profile=profile, text=text)
    return profile


def _url_validate(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            {"url": [_("Adresse invalide : saisissez une adresse complète en http(s)://.")]}
        )
    return url


@transaction.atomic
def watched_page_add(
    *,
    profile: WatchProfile,
    url: str,
    label: str = "",
    platform: str = "",
    needs_js: bool = False,
    today: datetime.date | None = None,
) -> WatchedPage:
    today = today or timezone.localdate()
    terms = terms_for_doctor(doctor=profile.doctor, on=today)
    url = _url_validate(url)
    if profile.pages.filter(url=url).exists():
        raise ValidationError({"url": [_("Cette page est déjà surveillée.")]})
    count = profile.pages.count()
    if count >= terms.max_watched_pages:
        raise PlanLimitError(
            {
                "url": [
                    _(
                        "Votre formule « %(plan)s » permet de surveiller %(max)d pages et vous "
                        "en surveillez déjà %(count)d. Retirez une page ou passez à une formule "
                        "supérieure."
                    )
                    % {"plan": terms.plan_name, "max": terms.max_watched_pages, "count": count}
                ]
            }
        )
    page = WatchedPage(
        profile=profile, url=url, label=label.strip(), platform=platform, needs_js=needs_js
    )
    page.full_clean()
    page.save()
    return page


def watched_page_remove(*, page: WatchedPage) -> None:
    page.delete()


# --------------------------------------------------------------------------- scans


def fetch_allowed_networks() -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(n) for n in settings.EGIDE_FETCH_ALLOWED_NETWORKS)


def scan_request(
    *, profile: WatchProfile, trigger: str = Scan.Trigger.MANUAL, enqueue: bool = True
) -> Scan:
    """Queue a scan unless one is already waiting or running (the button may be clicked
    twice; the periodic job may meet a manual scan)."""
    with transaction.atomic():
        WatchProfile.objects.select_for_update().get(pk=profile.pk)
        pending = profile.scans.filter(status__in=[Scan.Status.QUEUED, Scan.Status.RUNNING])
        stale_before = timezone.now() - SCAN_STALE_AFTER
        pending.filter(created_at__lt=stale_before).update(
            status=Scan.Status.FAILED,
            error=_("Veille interrompue (délai dépassé)."),
            finished_at=timezone.now(),
        )
        existing = pending.filter(created_at__gte=stale_before).first()
        if existing is not None:
            return existing
        scan = Scan.objects.create(profile=profile, trigger=trigger)
        if enqueue:
            from cleanup.tasks import scan_run_task
            from outbox.services import outbox_enqueue

            # Same transaction as the scan row: with the broker down the request still succeeds
            # and the worker loop's relay sends the scan later (it never stays « en attente »).
            outbox_enqueue(
                actor=scan_run_task,
                kwargs={"scan_id": scan.pk},
                key=scan_outbox_key(scan_id=scan.pk),
            )
    return scan


def scan_outbox_key(*, scan_id: int) -> str:
    return f"cleanup.scan:{scan_id}"


def _review_json(review: ExtractedReview) -> dict[str, Any]:
    data = asdict(review)
    for key in ("date", "experience_date"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


def extract_to_json(extract: PageExtract) -> dict[str, Any]:
    return {
        "url": extract.url,
        "platform": extract.platform,
        "source": extract.source,
        "aggregate": {"rating": extract.aggregate.rating, "count": extract.aggregate.count},
        "reviews": [_review_json(r) for r in extract.reviews],
        "needs_javascript": extract.needs_javascript,
    }


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def extract_from_json(data: dict[str, Any]) -> PageExtract:
    reviews = tuple(
        ExtractedReview(
            **{
                **r,
                "date": _date(r.get("date")),
                "experience_date": _date(r.get("experience_date")),
            }
        )
        for r in data["reviews"]
    )
    return PageExtract(
        url=data["url"],
        platform=data["platform"],
        source=data["source"],
        aggregate=AggregateRating(data["aggregate"]["rating"], data["aggregate"]["count"]),
        reviews=reviews,
        needs_javascript=data["needs_javascript"],
    )


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


def _apply_review_changes(
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


def _page_read(
    *, page: WatchedPage, allowed: Sequence[Network], render: bool
) -> tuple[str, bool, PageExtract]:
    if page.needs_js:
        fetched = page_render(url=page.url, allowed_networks=allowed)
        extract = reviews_extract(
            html=fetched.html, url=fetched.final_url, platform=page.platform or None
        )
    else:
        fetched, extract = page_scan(
            url=page.url, platform=page.platform or None, allowed_networks=allowed, render=render
        )
    return fetched.final_url, fetched.rendered, extract


def _page_name(page: WatchedPage) -> str:
    return page.label or urlsplit(page.url).hostname or page.url


def _review_link(review: Review) -> str:
    """Where the doctor can read the review: its own address when the markup gives one."""
    rid = review.review_id
    return rid if rid.startswith(("http://", "https://")) else review.page.url


def _needs_examining(score: ItemScore) -> bool:
    return score.negative or bool(score.flags)


def _baseline_record(
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
        title=_page_name(page)[:500], text=text,
        negativity=worst, band="", negative=negatives > 0, flags=[],
        detail={"page_id": page.pk, "count": count, "flagged": flagged, "examine": examine},
    )  # fmt: skip
    return [alert]


def _page_without_reviews(
    *, scan: Scan, page: WatchedPage, had_reviews: bool, notes: list[str]
) -> list[Alert]:
    """Extraction found no review: never silent. A page that had reviews at the last read
    raises an alert; one that never gave any is reported as not recognised (a capture lets a
    person look at it)."""
    if had_reviews:
        notes.append(
            _("Plus aucun avis lu sur %(page)s : vérifiez la page ou demandez une capture.")
            % {"page": _page_name(page)}
        )
        alert = Alert.objects.create(
            profile=scan.profile, scan=scan, kind=Alert.Kind.PAGE_EMPTY, url=page.url,
            title=(_("Plus aucun avis lu sur %(page)s") % {"page": _page_name(page)})[:500],
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
        % {"page": _page_name(page)}
    )
    return []


def _scan_page(
    *,
    scan: Scan,
    page: WatchedPage,
    allowed: Sequence[Network],
    render: bool,
    notes: list[str] | None = None,
) -> list[Alert]:
    final_url, rendered, extract = _page_read(page=page, allowed=allowed, render=render)
    notes = [] if notes is None else notes
    now = timezone.now()
    with transaction.atomic():
        snapshots = page.snapshots.order_by("-fetched_at", "-pk")
        latest = snapshots.first()
        # Compare with the last read that had reviews: a read that found none (page blocked,
        # markup changed) must not turn every tracked review into "removed", then "new".
        previous = snapshots.exclude(extract__reviews=[]).first()
        ReviewSnapshot.objects.create(
            scan=scan, page=page, fetched_at=now, final_url=final_url,
            source=extract.source, rendered=rendered, extract=extract_to_json(extract),
        )  # fmt: skip
        RatingPoint.objects.create(
            page=page, scan=scan, at=now,
            rating=extract.aggregate.rating, count=extract.aggregate.count,
        )  # fmt: skip
        if not extract.reviews:
            had_reviews = latest is not None and previous is not None and latest.pk == previous.pk
            alerts = _page_without_reviews(
                scan=scan, page=page, had_reviews=had_reviews, notes=notes
            )
        elif previous is None:
            alerts = _baseline_record(scan=scan, page=page, extract=extract, now=now)
        else:
            changes = reviews_diff(before=extract_from_json(previous.extract), after=extract)
            alerts = _apply_review_changes(scan=scan, page=page, changes=changes, now=now)
            scan.new_reviews += len(changes.new)
            scan.edited_reviews += len(changes.edited)
            scan.removed_reviews += len(changes.removed)
        page.last_fetched_at = now
        page.last_error = ""
        page.save(update_fields=["last_fetched_at", "last_error"])
        scan.save(
            update_fields=["new_reviews", "edited_reviews", "removed_reviews", "baseline_reviews"]
        )
    return alerts


def search_provider_for_site() -> tuple[SearchProvider | None, int]:
    """The insurer's configured provider (None when search is not configured)."""
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return None, 0
    conf = SearchSettings.for_site(site)
    if not conf.provider or not conf.api_key:
        return None, 0
    if conf.provider == SearchSettings.Provider.GOOGLE_CSE and google_cse_closed():
        logger.warning(
            "Google Custom Search JSON API stopped on %s: search disabled", GOOGLE_CSE_END
        )
        return None, 0
    options: dict[str, Any] = {"api_key": conf.api_key}
    if conf.provider == SearchSettings.Provider.GOOGLE_CSE:
        options["cx"] = conf.cx
    if conf.base_url:
        # The API key goes wherever base_url points: never to a non-public address (checked
        # again here, after DNS, for settings saved before the check existed or re-pointed).
        try:
            url_check(url=conf.base_url, allowed_networks=fetch_allowed_networks())
        except FetchError as exc:
            logger.warning("Search API address refused, search disabled: %s", exc)
            return None, 0
        options["base_url"] = conf.base_url
    return search_provider_build(provider=conf.provider, settings=options), conf.results_per_query


def _previous_results(query: SearchQuery, scan: Scan) -> list[SearchResult] | None:
    last = (
        SearchResultRank.objects.filter(query=query)
        .exclude(scan=scan)
        .order_by("-scan__created_at", "-scan_id")
        .values_list("scan_id", flat=True)
        .first()
    )
    if last is None:
        return None
    return [
        SearchResult(rank=r.rank, url=r.url, title=r.title, snippet=r.snippet)
        for r in SearchResultRank.objects.filter(query=query, scan_id=last)
    ]


def _scan_query(
    *, scan: Scan, query: SearchQuery, provider: SearchProvider, depth: int, alerted: set[str]
) -> list[Alert]:
    results = provider.search(query.text, num=depth)
    now = timezone.now()
    alerts: list[Alert] = []
    with transaction.atomic():
        before = _previous_results(query, scan)
        changes = search_results_diff(before=before, after=results)
        new_keys = {url_key(r.url) for r in changes.new}
        SearchResultRank.objects.bulk_create(
            SearchResultRank(
                scan=scan, query=query, url=r.url, title=r.title[:500],
                snippet=r.snippet, rank=r.rank,
            )
            for r in results
        )  # fmt: skip
        for result in results:
            key = url_key(result.url)
            score = mention_score(result=result)
            mention, created = Mention.objects.get_or_create(
                profile=scan.profile,
                url_key=key,
                defaults={
                    "url": result.url, "title": result.title[:500], "snippet": result.snippet,
                    "first_seen": now, "last_seen": now, "best_rank": result.rank,
                    "last_rank": result.rank, "flagged": bool(score.flags),
                },
            )  # fmt: skip
            if not created:
                mention.last_seen = now
                mention.last_rank = result.rank
                mention.best_rank = min(mention.best_rank, result.rank)
                mention.title, mention.snippet = result.title[:500], result.snippet
                mention.flagged = bool(score.flags)
                mention.save()
            # A query's first scan is a baseline: only flagged results are worth an alert.
            is_new = key in new_keys and (before is not None or bool(score.flags))
            if is_new and created and key not in alerted:
                alerted.add(key)
                scan.new_results += 1
                alerts.append(_mention_alert(scan=scan, mention=mention, result=result,
                                             kind=Alert.Kind.NEW_RESULT, score=score,
                                             detail={"query": query.text, "rank": result.rank}))  # fmt: skip
        for move in changes.moved:
            mention = Mention.objects.get(profile=scan.profile, url_key=url_key(move.url))
            if move.delta > 0 and mention.flagged and url_key(move.url) not in alerted:
                alerted.add(url_key(move.url))
                result = next(r for r in results if url_key(r.url) == url_key(move.url))
                alerts.append(_mention_alert(
                    scan=scan, mention=mention, result=result, kind=Alert.Kind.RESULT_UP,
                    score=mention_score(result=result),
                    detail={"query": query.text, "before_rank": move.before_rank,
                            "after_rank": move.after_rank},
                ))  # fmt: skip
        scan.save(update_fields=["new_results"])
    return alerts


def _mention_alert(
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


def _progress(scan: Scan, done: int, total: int) -> None:
    scan.progress = 100 if total == 0 else min(99, int(done * 100 / total))
    scan.save(update_fields=["progress"])


def scan_run(
    *,
    scan_id: int,
    allowed_networks: Sequence[Network] | None = None,
    render: bool = True,
    provider_factory: Callable[[], tuple[SearchProvider | None, int]] = search_provider_for_site,
) -> Scan:
    """Run one scan: every watched page, then every active name query; record what changed,
    alert on it and e-mail the digest. Idempotent on a finished scan (a retried message does
    nothing). A page or query that fails is noted and the scan goes on."""
    scan = Scan.objects.select_related("profile__doctor__user").get(pk=scan_id)
    if scan.status in (Scan.Status.DONE, Scan.Status.FAILED):
        return scan
    allowed = fetch_allowed_networks() if allowed_networks is None else tuple(allowed_networks)
    scan.status = Scan.Status.RUNNING
    scan.started_at = timezone.now()
    scan.progress = 0
    scan.save(update_fields=["status", "started_at", "progress"])
    profile = scan.profile
    pages = list(profile.pages.all())
    queries = list(profile.queries.filter(active=True))
    provider, depth = provider_factory() if queries else (None, 0)
    if provider is None:
        queries_run: list[SearchQuery] = []
        if queries:
            scan.notes = _("Recherche sur le nom non configurée par l'assureur.")
    else:
        queries_run = queries
    total = len(pages) + len(queries_run)
    scan.pages_total, scan.queries_total = len(pages), len(queries_run)
    scan.save(update_fields=["pages_total", "queries_total", "notes"])
    problems: list[str] = []
    page_notes: list[str] = []
    done = 0
    try:
        for page in pages:
            try:
                _scan_page(scan=scan, page=page, allowed=allowed, render=render, notes=page_notes)
            except FetchError as exc:
                scan.pages_failed += 1
                page.last_error = str(exc)
                page.save(update_fields=["last_error"])
                problems.append(f"{page.url} : {exc}")
            done += 1
            _progress(scan, done, total)
        alerted: set[str] = set()
        for query in queries_run:
            try:
                assert provider is not None
                _scan_query(scan=scan, query=query, provider=provider, depth=depth,
                            alerted=alerted)  # fmt: skip
            except SearchProviderError as exc:
                problems.append(f"{query.text} : {exc}")
            done += 1
            _progress(scan, done, total)
    except Exception as exc:  # noqa: BLE001 — record any crash on the scan, then re-raise
        scan.status = Scan.Status.FAILED
        scan.error = _("Erreur inattendue : %(error)s") % {"error": exc}
        scan.finished_at = timezone.now()
        scan.save()
        raise
    scan.alerts_count = scan.alerts.count()
    scan.notes = "\n".join(n for n in [scan.notes, *page_notes] if n)
    scan.error = "\n".join(problems)
    all_failed = total > 0 and len(problems) == total
    scan.status = Scan.Status.FAILED if all_failed else Scan.Status.DONE
    scan.progress = 100
    scan.finished_at = timezone.now()
    scan.save()
    profile.last_scan_at = scan.finished_at
    profile.save(update_fields=["last_scan_at"])
    if scan.alerts_count:
        scan_digest_send(scan=scan)
    return scan


def scan_digest_send(*, scan: Scan) -> None:
    """E-mail the doctor what this scan found, most worrying first, with a link to the
    dashboard on the insurer's own domain."""
    from tenants.db import connection
    from tenants.selectors import tenant_base_url

    user = scan.profile.doctor.user
    if not user.email:
        return
    alerts = sorted(scan.alerts.all(), key=lambda a: (-a.severity, -a.priority, a.pk))
    tenant = getattr(connection, "tenant", None)
    base = tenant_base_url(tenant) if tenant is not None and hasattr(tenant, "domains") else ""
    context = {
        "scan": scan,
        "alerts": alerts,
        "user": user,
        "dashboard_url": f"{base}/veille/",
    }
    subject = ngettext(
        "Veille e-réputation : %(count)d changement",
        "Veille e-réputation : %(count)d changements",
        len(alerts),
    ) % {"count": len(alerts)}
    body = render_to_string("cleanup/email/digest.txt", context)
    # One e-mail per scan, at the plan's frequency: already a digest, it leaves at once.
    mail_send(
        to=user.email,
        kind=MailKind.MONITORING_ALERTS,
        context={"nombre": len(alerts), "sujet": subject, "detail": body},
        link_path=f"{base}/veille/",
    )
    scan.digest_sent_at = timezone.now()
    scan.save(update_fields=["digest_sent_at"])


def scan_interval_due(
    *, frequency: str, last: datetime.datetime | None, now: datetime.datetime
) -> bool:
    """Whether a profile scanned at ``last`` is due at ``now`` under the plan's frequency. An
    hour of slack keeps a daily job from skipping a day because yesterday's run ended late."""
    if last is None:
        return True
    from cover.deadlines import date_add_months

    slack = datetime.timedelta(hours=1)
    if frequency == "daily":
        return now >= last + datetime.timedelta(days=1) - slack
    if frequency == "weekly":
        return now >= last + datetime.timedelta(days=7) - slack
    local = timezone.localtime(last)
    next_day = date_add_months(start=local.date(), months=1)
    return timezone.localtime(now).date() >= next_day


def scans_due_request(*, now: datetime.datetime | None = None) -> list[Scan]:
    """Queue a scheduled scan for every profile of this schema that is due under its plan."""
    from cleanup.selectors import watch_profiles_due

    now = now or timezone.now()
    return [
        scan_request(profile=p, trigger=Scan.Trigger.SCHEDULED) for p in watch_profiles_due(now=now)
    ]


# --------------------------------------------------------------------------- alerts


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


def _service(module: str, name: str, what: str) -> Callable[..., Any]:
    """Import another app's service lazily: those apps are optional here, and an action must
    say plainly when it cannot run rather than pretend."""
    import importlib

    try:
        function = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise ActionUnavailable(
            _("%(what)s n'est pas encore disponible sur cette plateforme.") % {"what": what}
        ) from None
    return function


@transaction.atomic
def alert_capture(*, alert: Alert, user: Any) -> str:
    """Ask the evidence app to capture the alert's page; returns the capture's reference.
    A URL the capture guard refuses raises its French ``ValidationError``."""
    capture_request = _service("evidence.services", "capture_request", _("La capture de preuve"))
    from evidence.selectors import capture_detail

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


def watched_page_capture(*, page: WatchedPage, user: Any) -> str:
    """Ask the evidence app to capture a watched page whose reviews could not be read, so a
    person can look at what it shows; returns the capture's reference."""
    capture_request = _service("evidence.services", "capture_request", _("La capture de preuve"))
    from evidence.selectors import captures_all

    # A capture of this page still queued or running answers a second click.
    pending = captures_all().filter(url=page.url, requested_by=user).order_by("-pk").first()
    if pending is not None and not pending.is_finished:
        return str(pending.pk)
    reason = _("Veille : page sans avis lisible (%(page)s)") % {"page": _page_name(page)}
    return str(capture_request(url=page.url, requested_by=user, reason=reason[:500]))


def _claim_quotes(alert: Alert) -> list[str]:
    """The flagged passages (a claim must cite the passages in cause), else the whole text."""
    quotes = list(dict.fromkeys(f["passage"] for f in alert.flags if f.get("passage")))
    return quotes or [alert.text]


@transaction.atomic
def alert_claim_open(*, alert: Alert, user: Any) -> str:
    """Open a claim in the claims app for the alert's content (its text, flagged passages,
    publication date when the platform shows one); returns the claim reference. The claims
    app requests the evidence capture itself. Refusals are raised as ``ValidationError``.

    One claim per alert: the alert's row is locked, so a second click, or two requests at
    once, get the claim already opened (its reference) and open nothing."""
    claim_open = _service("cover.claims.services", "claim_open", _("L'ouverture de sinistre"))
    from cover.claims.services import ClaimActionRefused

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
    from cleanup.extract import text_fold
    from cover.reply_rules import ReplyTopic, reply_options, reply_propose
    from cover.rules import ContentCategory

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


# --------------------------------------------------------------------------- removal requests


def allowance_year_start(*, policy_start: datetime.date, today: datetime.date) -> datetime.date:
    """Start of the current policy year (allowances renew on the policy's anniversary)."""
    from cover.deadlines import date_add_months

    years = today.year - policy_start.year
    start = date_add_months(start=policy_start, months=12 * years)
    if start > today:
        start = date_add_months(start=policy_start, months=12 * (years - 1))
    return start


def removal_requests_used(*, profile: WatchProfile, today: datetime.date) -> tuple[int, int]:
    """(used, allowed) removal requests in the current policy year; cancelled drafts are
    given back."""
    from cover.selectors import policy_current, policy_terms

    policy = policy_current(doctor=profile.doctor, on=today)
    if policy is None or policy.start_date is None:
        return 0, 0
    start = allowance_year_start(policy_start=policy.start_date, today=today)
    used = (
        profile.requests.exclude(status=RemovalRequest.Status.CANCELLED)
        .filter(created_at__date__gte=start)
        .count()
    )
    return used, policy_terms(policy=policy).removal_requests_per_year


@transaction.atomic
def removal_request_create(
    *,
    profile: WatchProfile,
    kind: str,
    recipient_name: str,
    recipient_address: str,
    urls: Sequence[str],
    grounds: Sequence[str],
    data_concerned: str = "",
    alert: Alert | None = None,
    today: datetime.date | None = None,
) -> RemovalRequest:
    """Draft a GDPR objection/erasure or a de-referencing request, counted against the plan's
    yearly allowance. The letter must have every field DOMAIN §4.3–4.4 requires."""
    from cleanup.letters import letter_missing

    today = today or timezone.localdate()
    WatchProfile.objects.select_for_update().get(pk=profile.pk)
    terms_for_doctor(doctor=profile.doctor, on=today)
    used, allowed = removal_requests_used(profile=profile, today=today)
    if used >= allowed:
        raise PlanLimitError(
            ngettext(
                "Votre formule comprend %(allowed)d demande de suppression ou de "
                "déréférencement par an, déjà utilisée (%(used)d). Contactez votre assureur "
                "pour une demande supplémentaire.",
                "Votre formule comprend %(allowed)d demandes de suppression ou de "
                "déréférencement par an, toutes utilisées (%(used)d). Contactez votre assureur "
                "pour une demande supplémentaire.",
                allowed,
            )
            % {"allowed": allowed, "used": used}
        )
    clean_urls = [_url_validate(u) for u in _clean_list(urls)]
    request = RemovalRequest(
        profile=profile,
        alert=alert,
        kind=kind,
        recipient_name=recipient_name.strip(),
        recipient_address=recipient_address.strip(),
        urls=clean_urls,
        grounds=_clean_list(grounds),
        data_concerned=data_concerned.strip(),
    )
    missing = letter_missing(request=request)
    if missing:
        raise ValidationError(
            _("Champs obligatoires manquants pour ce courrier : %(fields)s.")
            % {"fields": ", ".join(missing)}
        )
    request.full_clean()
    request.save()
    return request


def removal_request_due_on(*, request: RemovalRequest) -> datetime.date | None:
    """GDPR art. 12(3): one month from receipt, two more if the controller notified an
    extension within the first month (clocks GDPR_RESPONSE_1M / DEREFERENCING_RESPONSE_1M)."""
    from cover.deadlines import clock_due_date
    from cover.rules import CLOCKS

    start = request.received_on or request.sent_on
    if start is None:
        return None
    clock_id = (
        "GDPR_RESPONSE_1M"
        if request.kind == RemovalRequest.Kind.GDPR_LISTING
        else "DEREFERENCING_RESPONSE_1M"
    )
    return clock_due_date(
        rule=CLOCKS[clock_id], start=start, extended=request.extension_notified_on is not None
    )


_OPEN = (RemovalRequest.Status.SENT, RemovalRequest.Status.EXTENDED)


def removal_request_mark_sent(
    *, request: RemovalRequest, sent_on: datetime.date, received_on: datetime.date | None = None
) -> RemovalRequest:
    if request.status != RemovalRequest.Status.DRAFT:
        raise ValidationError(_("Seul un brouillon peut être marqué comme envoyé."))
    if received_on and received_on < sent_on:
        raise ValidationError(_("La réception ne peut pas précéder l'envoi."))
    request.status = RemovalRequest.Status.SENT
    request.sent_on, request.received_on = sent_on, received_on
    request.due_on = removal_request_due_on(request=request)
    request.save()
    return request


def removal_request_extension_notified(
    *, request: RemovalRequest, on: datetime.date
) -> RemovalRequest:
    """The controller announced it needs two more months; valid only within the first month."""
    request.refresh_from_db()  # the caller's copy may predate the deadline job
    if request.status not in _OPEN or request.due_on is None:
        raise ValidationError(_("Cette demande n'attend pas de réponse."))
    if request.extension_notified_on is None and on > request.due_on:
        raise ValidationError(
            _(
                "La prolongation doit être notifiée dans le premier mois (avant le %(date)s) : "
                "elle est tardive."
            )
            % {"date": request.due_on.strftime("%d/%m/%Y")}
        )
    request.extension_notified_on = on
    request.status = RemovalRequest.Status.EXTENDED
    request.due_on = removal_request_due_on(request=request)
    request.save()
    return request


def removal_request_answered(
    *, request: RemovalRequest, granted: bool, on: datetime.date
) -> RemovalRequest:
    request.refresh_from_db()  # the caller's copy may predate the deadline job
    if request.status not in (*_OPEN, RemovalRequest.Status.OVERDUE):
        raise ValidationError(_("Cette demande n'attend pas de réponse."))
    request.status = RemovalRequest.Status.GRANTED if granted else RemovalRequest.Status.REFUSED
    request.answered_on = on
    if not granted and request.cnil_proposed_on is None:
        request.cnil_proposed_on = on
    request.save()
    return request


def removal_request_cancel(*, request: RemovalRequest) -> RemovalRequest:
    request.refresh_from_db()  # the caller's copy may predate the deadline job
    if request.status != RemovalRequest.Status.DRAFT:
        raise ValidationError(_("Seul un brouillon peut être annulé."))
    request.status = RemovalRequest.Status.CANCELLED
    request.save(update_fields=["status"])
    return request


def removal_requests_overdue_flag(*, today: datetime.date | None = None) -> list[RemovalRequest]:
    """Requests left unanswered past their deadline: mark them and propose the CNIL complaint
    (GDPR art. 77, after the right was first exercised with the controller)."""
    today = today or timezone.localdate()
    flagged = []
    for request in RemovalRequest.objects.filter(status__in=_OPEN, due_on__lt=today):
        request.status = RemovalRequest.Status.OVERDUE
        request.cnil_proposed_on = today
        request.save(update_fields=["status", "cnil_proposed_on"])
        flagged.append(request)
    return flagged


# --------------------------------------------------------------------------- positive content


@transaction.atomic
def profile_page_publish(*, doctor: Doctor, background: str = "", practice_info: str = ""):
    """Create (or update) the doctor's public professional page under the insurer's home page
    and publish it. Refused with the deontology reason when the text is not allowed."""
    from wagtail.models import Site

    from cleanup.models import ProfilePage

    site = Site.objects.get(is_default_site=True)
    home = site.root_page.specific
    page = ProfilePage.objects.filter(doctor=doctor).first()
    name = doctor.user.get_full_name() or str(doctor)
    display = _("Dr %(name)s") % {"name": name}
    values = {
        "title": display,
        "display_name": display,
        "specialty": doctor.specialty,
        "practice_name": doctor.practice_name,
        "street_address": doctor.practice_address,
        "city": doctor.city,
        "phone": doctor.phone,
        "rpps": doctor.rpps,
        "background": background,
        "practice_info": practice_info,
    }
    if page is None:
        from django.utils.text import slugify

        page = ProfilePage(doctor=doctor, slug=slugify(f"dr-{name}")[:200], **values)
        page.full_clean(exclude=["path", "depth"])
        home.add_child(instance=page)
    else:
        for key, value in values.items():
            setattr(page, key, value)
        page.full_clean()
        page.save()
    page.save_revision().publish()
    return page


@transaction.atomic
def content_plan_item_propose(
    *,
    profile: WatchProfile,
    title: str,
    summary: str,
    channel: str,
    planned_for: datetime.date | None = None,
) -> ContentPlanItem:
    item = ContentPlanItem(
        profile=profile, title=title.strip(), summary=summary.strip(), channel=channel,
        planned_for=planned_for,
    )  # fmt: skip
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def content_plan_item_decide(
    *, item: ContentPlanItem, approve: bool, today: datetime.date | None = None
) -> ContentPlanItem:
    """The doctor approves or refuses a proposed item; approvals use the yearly number of
    positive-content campaigns of the plan."""
    today = today or timezone.localdate()
    if item.status != ContentPlanItem.Status.PROPOSED:
        raise ValidationError(_("Ce contenu a déjà été examiné."))
    if approve:
        from cover.selectors import policy_current

        terms = terms_for_doctor(doctor=item.profile.doctor, on=today)
        policy = policy_current(doctor=item.profile.doctor, on=today)
        assert policy is not None and policy.start_date is not None
        start = allowance_year_start(policy_start=policy.start_date, today=today)
        used = item.profile.content.filter(
            status__in=[ContentPlanItem.Status.APPROVED, ContentPlanItem.Status.PUBLISHED],
            approved_at__date__gte=start,
        ).count()
        if used >= terms.positive_content_campaigns_per_year:
            raise PlanLimitError(
                ngettext(
                    "Votre formule comprend %(max)d campagne de contenu positif par an, "
                    "déjà utilisée.",
                    "Votre formule comprend %(max)d campagnes de contenu positif par an, "
                    "toutes utilisées.",
                    terms.positive_content_campaigns_per_year,
                )
                % {"max": terms.positive_content_campaigns_per_year}
            )
        item.status = ContentPlanItem.Status.APPROVED
        item.approved_at = timezone.now()
    else:
        item.status = ContentPlanItem.Status.REJECTED
    item.save()
    return item


# --------------------------------------------------------------------------- platform compliance


def platform_compliance_run(
    *,
    page: WatchedPage,
    section_url: str = "",
    legal_url: str = "",
    allowed_networks: Sequence[Network] | None = None,
    found_on: datetime.date | None = None,
) -> ComplianceCheck:
    """Compute the flags F1–F12 (DOMAIN §6.2) for a watched platform page, reading its review
    section and legal notice when their addresses are given, and pre-fill the SignalConso
    report (§6.3). A page that cannot be read is recorded as such, not guessed."""
    from cleanup.compliance import platform_compliance_check, signalconso_prefill
    from cleanup.fetch import page_fetch

    allowed = fetch_allowed_networks() if allowed_networks is None else tuple(allowed_networks)
    found_on = found_on or timezone.localdate()
    check = ComplianceCheck(
        page=page,
        checked_at=timezone.now(),
        section_url=section_url.strip(),
        legal_url=legal_url.strip(),
    )
    for extra in (check.section_url, check.legal_url):
        if extra:
            _url_validate(extra)
    try:
        fetched = page_fetch(url=page.url, allowed_networks=allowed)
        extract = reviews_extract(
            html=fetched.html, url=fetched.final_url, platform=page.platform or None
        )
        section = (
            page_fetch(url=check.section_url, allowed_networks=allowed).html
            if (check.section_url)
            else None
        )
        legal = (
            page_fetch(url=check.legal_url, allowed_networks=allowed).html
            if (check.legal_url)
            else None
        )
    except FetchError as exc:
        check.error = str(exc)
        check.save()
        return check
    report = platform_compliance_check(
        html=fetched.html, url=page.url, extract=extract, section_html=section, legal_html=legal
    )
    draft = signalconso_prefill(report=report, found_on=found_on)
    check.results = [
        {
            "code": r.code,
            "label": r.label,
            "basis": r.basis,
            "status": r.status,
            "status_label": r.status_label,
            "evidence": list(r.evidence),
        }
        for r in report.results
    ]
    check.company = asdict(report.company) if report.company else {}
    check.signalconso = {
        "fields": dict(draft.fields),
        "description": draft.description,
        "attachments": list(draft.attachments),
        "warnings": list(draft.warnings),
    }
    check.save()
    return check
