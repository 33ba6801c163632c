"""Monitoring (veille), removal requests and positive content of the e-reputation guarantee.

Why: the CNOM's first advice is to watch one's name every month, know what is said and react
fast (DOMAIN §5.2). A doctor's ``WatchProfile`` says what to look for; each ``Scan`` fetches the
watched pages and the search results on the doctor's name, keeps what it saw (snapshots, ranks)
so the next scan can say what changed, and turns each change into an ``Alert``. From an alert the
doctor can send a GDPR or de-referencing request (``RemovalRequest``, DOMAIN §4.3–4.4), whose
1-month (+2) deadline is tracked. Positive content stays within R4127-19-1 (DOMAIN §5.1): a
neutral ``ProfilePage`` on the insurer's site and a publication plan the doctor approves.

All of it lives in the insurer's schema: tenants never see each other's monitoring.

One module per purpose: ``watch`` (what to look for), ``scans`` (what each run saw, the
alerts), ``removals`` (GDPR and de-referencing requests), ``compliance`` (review platforms'
DOMAIN §6.2 checks), ``content`` (positive content and its wording rules), ``search`` (the
insurer's search API settings). The model classes are imported here, the Django convention for a
models package, so the app registry finds them and ``from cleanup.models import Scan`` works.
"""

from cleanup.models.compliance import ComplianceCheck
from cleanup.models.content import ArticlePage, ContentPlanEvent, ContentPlanItem, ProfilePage
from cleanup.models.removals import RemovalRequest
from cleanup.models.scans import (
    Alert,
    Mention,
    RatingPoint,
    Review,
    ReviewSnapshot,
    Scan,
    SearchResultRank,
)
from cleanup.models.search import SearchSettings
from cleanup.models.watch import SearchQuery, WatchedPage, WatchProfile, platform_choices

__all__ = [
    "Alert",
    "ArticlePage",
    "ComplianceCheck",
    "ContentPlanEvent",
    "ContentPlanItem",
    "Mention",
    "ProfilePage",
    "RatingPoint",
    "RemovalRequest",
    "Review",
    "ReviewSnapshot",
    "Scan",
    "SearchQuery",
    "SearchResultRank",
    "SearchSettings",
    "WatchProfile",
    "WatchedPage",
    # Migration 0007 names ``cleanup.models.platform_choices`` (WatchedPage.platform's choices).
    "platform_choices",
]
