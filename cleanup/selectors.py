"""Reads of the monitoring guarantee. A doctor only ever reads through the ``*_for_doctor``
selectors, which filter on their own profile (the schema already isolates insurers)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from cleanup.changes import url_key
from cleanup.charts import line_chart_svg
from cleanup.models import (
    Alert,
    ComplianceCheck,
    ContentPlanEvent,
    ContentPlanItem,
    Mention,
    ProfilePage,
    RatingPoint,
    RemovalRequest,
    Scan,
    SearchResultRank,
    WatchedPage,
    WatchProfile,
)
from cleanup.models.scans import ALERT_CHANGE_KINDS
from cover.deadlines import date_add_months
from cover.models import Doctor
from cover.selectors import policy_current, policy_terms

# A scan still queued or running after this long was lost (worker killed): it no longer blocks
# new scans and is marked failed when the next one is requested (``scan_request``).
SCAN_STALE_AFTER = datetime.timedelta(hours=2)


def watch_profile_for_doctor(*, doctor: Doctor) -> WatchProfile | None:
    return WatchProfile.objects.filter(doctor=doctor).first()


def watched_pages_for_doctor(*, doctor: Doctor) -> QuerySet[WatchedPage]:
    return WatchedPage.objects.filter(profile__doctor=doctor)


def compliance_checks_for_doctor(*, doctor: Doctor, page_id: int) -> QuerySet[ComplianceCheck]:
    return ComplianceCheck.objects.filter(page__profile__doctor=doctor, page_id=page_id)


# Severity of an alert, as ``Alert.severity``: illicit-looking flags (also a baseline listing
# flagged reviews) 4, negative 3, removed / edited review or a page gone silent 2, else 1.
ALERT_SEVERITY = Case(
    When(~Q(flags=[]), then=Value(4)),
    When(Q(kind=Alert.Kind.BASELINE, detail__flagged__gt=0), then=Value(4)),
    When(negative=True, then=Value(3)),
    When(kind__in=ALERT_CHANGE_KINDS, then=Value(2)),
    default=Value(1),
    output_field=IntegerField(),
)


def alerts_for_doctor(*, doctor: Doctor, include_dismissed: bool = False) -> QuerySet[Alert]:
    """The doctor's alerts, most serious first, then newest first."""
    qs = Alert.objects.filter(profile__doctor=doctor).select_related("review__page", "mention")
    if not include_dismissed:
        qs = qs.filter(dismissed_at__isnull=True)
    return qs.annotate(severity_rank=ALERT_SEVERITY).order_by(
        "-severity_rank", "-created_at", "-pk"
    )


# Actions the dashboard offers on an alert (each at most once), by what the content is.
ACTION_CAPTURE = "preuve"
ACTION_CLAIM = "sinistre"
ACTION_REMOVAL = "suppression"
ACTION_REPLY = "reponse"


def alert_actions(*, alert: Alert) -> list[str]:
    """Illicit-looking content (flagged passages) → capture, claim and removal request; a
    lawful review (negative or fair) → the reply assistant only; a lawful search result → a
    de-referencing request; a page that no longer shows its reviews → a capture. A claim or
    capture already made is not offered again."""
    actions: list[str] = []
    if alert.kind == Alert.Kind.BASELINE:
        return actions
    if alert.kind == Alert.Kind.PAGE_EMPTY:
        actions.append(ACTION_CAPTURE)
    elif alert.flags and alert.kind != Alert.Kind.REMOVED_REVIEW:
        actions += [ACTION_CAPTURE, ACTION_CLAIM, ACTION_REMOVAL]
    elif alert.review_id and alert.kind != Alert.Kind.REMOVED_REVIEW:
        actions.append(ACTION_REPLY)
    elif alert.mention_id:
        # A result on the doctor's name may be de-referenced (GDPR) even when it is lawful.
        actions.append(ACTION_REMOVAL)
    if alert.evidence_ref and ACTION_CAPTURE in actions:
        actions.remove(ACTION_CAPTURE)
    if alert.claim_ref and ACTION_CLAIM in actions:
        actions.remove(ACTION_CLAIM)
    return actions


@dataclass(frozen=True)
class PageReadState:
    page: WatchedPage
    had_reviews: bool


def pages_without_reviews(*, profile: WatchProfile) -> list[PageReadState]:
    """Watched pages whose last successful read found no review: not recognised (never had
    any) or gone silent (had some before). Shown on the dashboard, never passed over."""
    states = []
    for page in profile.pages.all():
        snapshots = page.snapshots.order_by("-fetched_at", "-pk")
        latest = snapshots.only("extract").first()
        if latest is None or latest.extract.get("reviews"):
            continue
        had = snapshots.exclude(extract__reviews=[]).exists()
        states.append(PageReadState(page=page, had_reviews=had))
    return states


def alert_for_doctor(*, doctor: Doctor, alert_id: int) -> Alert | None:
    """The alert if it belongs to this doctor; None otherwise (never another doctor's)."""
    return alerts_for_doctor(doctor=doctor, include_dismissed=True).filter(pk=alert_id).first()


def scan_for_doctor(*, doctor: Doctor, scan_id: int) -> Scan | None:
    return Scan.objects.filter(profile__doctor=doctor, pk=scan_id).first()


def scan_latest(*, profile: WatchProfile) -> Scan | None:
    return profile.scans.order_by("-created_at", "-pk").first()


def scans_for_doctor(*, doctor: Doctor) -> QuerySet[Scan]:
    return Scan.objects.filter(profile__doctor=doctor).order_by("-created_at", "-pk")


def mentions_for_doctor(*, doctor: Doctor) -> QuerySet[Mention]:
    return Mention.objects.filter(profile__doctor=doctor).order_by("-first_seen", "-pk")


def removal_requests_for_doctor(*, doctor: Doctor) -> QuerySet[RemovalRequest]:
    return RemovalRequest.objects.filter(profile__doctor=doctor).order_by("-created_at", "-pk")


def removal_request_for_doctor(*, doctor: Doctor, request_id: int) -> RemovalRequest | None:
    return removal_requests_for_doctor(doctor=doctor).filter(pk=request_id).first()


def content_plan_for_doctor(*, doctor: Doctor) -> QuerySet[ContentPlanItem]:
    return ContentPlanItem.objects.filter(profile__doctor=doctor)


def profile_page_for_doctor(*, doctor: Doctor) -> ProfilePage | None:
    return ProfilePage.objects.live().filter(doctor=doctor).first()


def content_item_for_doctor(*, doctor: Doctor, item_id: int) -> ContentPlanItem | None:
    return content_plan_for_doctor(doctor=doctor).filter(pk=item_id).first()


def alerts_open() -> QuerySet[Alert]:
    """Staff view: alerts not dismissed, most recent first."""
    return Alert.objects.filter(dismissed_at__isnull=True).select_related("profile__doctor__user")


def scan_interval_due(
    *, frequency: str, last: datetime.datetime | None, now: datetime.datetime
) -> bool:
    """Whether a profile scanned at ``last`` is due at ``now`` under the plan's frequency. An
    hour of slack keeps a daily job from skipping a day because yesterday's run ended late."""
    if last is None:
        return True
    slack = datetime.timedelta(hours=1)
    if frequency == "daily":
        return now >= last + datetime.timedelta(days=1) - slack
    if frequency == "weekly":
        return now >= last + datetime.timedelta(days=7) - slack
    local = timezone.localtime(last)
    next_day = date_add_months(start=local.date(), months=1)
    return timezone.localtime(now).date() >= next_day


def watch_profiles_due(*, now: datetime.datetime) -> list[WatchProfile]:
    """Profiles with an active policy whose plan frequency says a scan is due and none is
    already waiting or running."""
    due = []
    busy = Scan.objects.filter(
        status__in=[Scan.Status.QUEUED, Scan.Status.RUNNING],
        created_at__gte=now - SCAN_STALE_AFTER,
    ).values("profile_id")
    today = timezone.localdate(now)
    for profile in WatchProfile.objects.exclude(pk__in=busy).select_related("doctor"):
        policy = policy_current(doctor=profile.doctor, on=today)
        if policy is None:
            continue
        frequency = policy_terms(policy=policy).monitoring_frequency
        if scan_interval_due(frequency=frequency, last=profile.last_scan_at, now=now):
            due.append(profile)
    return due


# --------------------------------------------------------------------------- dashboard data


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[datetime.datetime, float | None]]


def rating_series(*, profile: WatchProfile) -> tuple[list[Series], list[Series]]:
    """Per watched page: (rating trend, review count) over scans, oldest first."""
    by_page: dict[int, list[RatingPoint]] = defaultdict(list)
    pages = {p.pk: p for p in profile.pages.all()}
    for point in RatingPoint.objects.filter(page__profile=profile).order_by("at", "pk"):
        by_page[point.page_id].append(point)
    ratings, counts = [], []
    for page_id, points in by_page.items():
        label = str(pages[page_id])
        ratings.append(Series(label, [(p.at, p.rating) for p in points]))
        counts.append(
            Series(label, [(p.at, float(p.count) if p.count is not None else None) for p in points])
        )
    return ratings, counts


def rank_history(*, profile: WatchProfile, flagged_only: bool = True) -> list[dict[str, Any]]:
    """For each (flagged) mention, its best rank at each scan: shows whether negative results
    go down the name results over time."""
    mentions = Mention.objects.filter(profile=profile)
    if flagged_only:
        mentions = mentions.filter(flagged=True)
    scans = list(profile.scans.filter(status=Scan.Status.DONE).order_by("created_at", "pk")[:12])
    rows = []
    ranks: dict[tuple[str, int], int] = {}
    for r in SearchResultRank.objects.filter(scan__in=scans).only("url", "rank", "scan_id"):
        k = (url_key(r.url), r.scan_id)
        ranks[k] = min(ranks.get(k, r.rank), r.rank)
    for mention in mentions:
        rows.append(
            {
                "mention": mention,
                "ranks": [ranks.get((mention.url_key, s.pk)) for s in scans],
            }
        )
    return [{"scans": scans, "rows": rows}] if rows else []


def text_segments(*, text: str, flags: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """Split a text into (piece, flag label or None) so templates can <mark> flagged words."""
    spans = sorted((f["start"], f["end"], f["label"]) for f in flags)
    out: list[tuple[str, str | None]] = []
    pos = 0
    for start, end, label in spans:
        if start < pos:
            continue
        if start > pos:
            out.append((text[pos:start], None))
        out.append((text[start:end], label))
        pos = end
    if pos < len(text):
        out.append((text[pos:], None))
    return out


# --------------------------------------------------------------------------- positive content


def content_events(*, item: ContentPlanItem) -> QuerySet[ContentPlanEvent]:
    return item.events.select_related("actor").order_by("at", "pk")


def content_rank_series(
    *, profile: WatchProfile, limit: int = 24
) -> tuple[list[tuple[str, list[tuple[datetime.datetime, float | None]]]], list[Any]]:
    """Rank lines on the doctor's name results, per finished scan: the best rank of the
    flagged (negative) results, and of the doctor's own published pages; and the publication
    markers (date, title). Lower is better: rank 1 is the first result."""
    scans = list(
        profile.scans.filter(status=Scan.Status.DONE).order_by("-created_at", "-pk")[:limit]
    )[::-1]
    flagged = set(
        Mention.objects.filter(profile=profile, flagged=True).values_list("url_key", flat=True)
    )
    items = list(
        profile.content.filter(published_at__isnull=False, page__isnull=False)
        .select_related("page")
        .order_by("published_at")
    )
    own = {url_key(i.page.full_url) for i in items if i.page and i.page.full_url}
    negative: dict[int, int] = {}
    ours: dict[int, int] = {}
    for r in SearchResultRank.objects.filter(scan__in=scans).only("url", "rank", "scan_id"):
        key = url_key(r.url)
        for keys, best in ((flagged, negative), (own, ours)):
            if key in keys:
                best[r.scan_id] = min(best.get(r.scan_id, r.rank), r.rank)
    at = {s.pk: s.finished_at or s.created_at for s in scans}
    series = [
        (
            _("Résultat négatif le mieux placé"),
            [(at[s.pk], float(negative[s.pk]) if s.pk in negative else None) for s in scans],
        ),
        (
            _("Contenu publié le mieux placé"),
            [(at[s.pk], float(ours[s.pk]) if s.pk in ours else None) for s in scans],
        ),
    ]
    markers = [(i.published_at, i.title) for i in profile.content.filter(
        published_at__isnull=False).order_by("published_at")]  # fmt: skip
    return series, markers


def content_rank_chart(*, profile: WatchProfile) -> str:
    """Ranks on the doctor's name before and after each publication (doctor and staff)."""
    series, markers = content_rank_series(profile=profile)
    return line_chart_svg(
        title=_("Rang sur les recherches au nom du médecin (1 = premier résultat)"),
        series=series,
        y_min=1,
        empty_text=_("Pas encore de relevé des résultats de recherche"),
        markers=[(at, _("Publication : %(title)s") % {"title": title}) for at, title in markers],
        invert=True,
    )
