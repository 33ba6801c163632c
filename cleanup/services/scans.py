"""Scans of the monitoring guarantee: queue one (through the outbox), run it page by page and
query by query, record what it found so the next scan can compare, and e-mail the digest.

A scan commits its progress page by page so that the "scan now" button can show it live, and
one page that fails never loses the others.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.models import Site

from cleanup.changes import reviews_diff, search_results_diff, url_key
from cleanup.extract import AggregateRating, PageExtract, reviews_extract
from cleanup.extract import Review as ExtractedReview
from cleanup.fetch import FetchError, Network, url_check
from cleanup.models import (
    Alert,
    Mention,
    RatingPoint,
    ReviewSnapshot,
    Scan,
    SearchQuery,
    SearchResultRank,
    SearchSettings,
    WatchedPage,
    WatchProfile,
)
from cleanup.models.search import GOOGLE_CSE_END, google_cse_closed
from cleanup.render import page_render, page_scan
from cleanup.scoring import mention_score
from cleanup.search_providers import (
    SearchProvider,
    SearchProviderError,
    SearchResult,
    search_provider_build,
)
from cleanup.selectors import SCAN_STALE_AFTER, watch_profiles_due
from cleanup.services.alerts import (
    baseline_record,
    mention_alert_create,
    page_without_reviews_record,
    review_changes_record,
)
from cleanup.services.common import fetch_allowed_networks
from cleanup.tasks import scan_run_task
from mailing.kinds import MailKind
from mailing.services import mail_send
from outbox.services import outbox_enqueue
from tenants.db import connection
from tenants.selectors import tenant_base_url

logger = logging.getLogger(__name__)


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


def _page_read(
    *, page: WatchedPage, allowed: Sequence[Network], render: bool
) -> tuple[str, bool, PageExtract]:
    if page.needs_js:
        fetched = page_render(
            url=page.url, allowed_networks=allowed, platform=page.platform or None
        )
        extract = reviews_extract(
            html=fetched.html, url=fetched.final_url, platform=page.platform or None
        )
    else:
        fetched, extract = page_scan(
            url=page.url, platform=page.platform or None, allowed_networks=allowed, render=render
        )
    return fetched.final_url, fetched.rendered, extract


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
            alerts = page_without_reviews_record(
                scan=scan, page=page, had_reviews=had_reviews, notes=notes
            )
        elif previous is None:
            alerts = baseline_record(scan=scan, page=page, extract=extract, now=now)
        else:
            changes = reviews_diff(before=extract_from_json(previous.extract), after=extract)
            alerts = review_changes_record(scan=scan, page=page, changes=changes, now=now)
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
                alerts.append(mention_alert_create(scan=scan, mention=mention, result=result,
                                             kind=Alert.Kind.NEW_RESULT, score=score,
                                             detail={"query": query.text, "rank": result.rank}))  # fmt: skip
        for move in changes.moved:
            mention = Mention.objects.get(profile=scan.profile, url_key=url_key(move.url))
            if move.delta > 0 and mention.flagged and url_key(move.url) not in alerted:
                alerted.add(url_key(move.url))
                result = next(r for r in results if url_key(r.url) == url_key(move.url))
                alerts.append(mention_alert_create(
                    scan=scan, mention=mention, result=result, kind=Alert.Kind.RESULT_UP,
                    score=mention_score(result=result),
                    detail={"query": query.text, "before_rank": move.before_rank,
                            "after_rank": move.after_rank},
                ))  # fmt: skip
        scan.save(update_fields=["new_results"])
    return alerts


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


def scans_due_request(*, now: datetime.datetime | None = None) -> list[Scan]:
    """Queue a scheduled scan for every profile of this schema that is due under its plan."""
    now = now or timezone.now()
    return [
        scan_request(profile=p, trigger=Scan.Trigger.SCHEDULED) for p in watch_profiles_due(now=now)
    ]
