"""What the monitoring services share: the plan-limit refusal, the policy terms in force, list
and address clean-up, and the networks a fetch may reach.

Writes of the monitoring guarantee live in this package by purpose: ``watch`` (what a doctor
watches), ``scans`` (running a scan and its digest), ``alerts`` (alerts a scan raises and the
one-click actions on them), ``removals`` (GDPR and de-referencing requests), ``compliance``
(platform checks) and ``content`` (positive content). The pure engine (``cleanup.fetch``,
``extract``, ``changes``, ``scoring``, ``search_providers``) knows nothing of doctors, plans or
tenants; these services feed it what a doctor watches, keep what it found so the next scan can
compare, and apply the plan's limits (``cover.selectors.policy_terms``).
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cleanup.fetch import Network
from cleanup.models import WatchedPage
from cover.deadlines import date_add_months
from cover.models import Doctor
from cover.selectors import policy_current, policy_terms
from cover.terms import Terms

MAX_TEXT_ITEM = 200


class PlanLimitError(ValidationError):
    """The doctor's plan does not allow this (too many keywords, pages or requests)."""


def terms_for_doctor(*, doctor: Doctor, on: datetime.date) -> Terms:
    """The terms of the policy in force, or a clear refusal: monitoring is part of the cover."""
    policy = policy_current(doctor=doctor, on=on)
    if policy is None:
        raise PlanLimitError(
            _("Aucun contrat actif : la veille e-réputation fait partie de votre garantie.")
        )
    return policy_terms(policy=policy)


def allowance_year_start(*, policy_start: datetime.date, today: datetime.date) -> datetime.date:
    """Start of the current policy year (allowances renew on the policy's anniversary)."""
    years = today.year - policy_start.year
    start = date_add_months(start=policy_start, months=12 * years)
    if start > today:
        start = date_add_months(start=policy_start, months=12 * (years - 1))
    return start


def clean_list(values: Sequence[str]) -> list[str]:
    """Whitespace collapsed, empty and repeated entries (case-insensitive) dropped."""
    seen: dict[str, None] = {}
    for value in values:
        text = " ".join(str(value).split())
        if text and text.casefold() not in {k.casefold() for k in seen}:
            seen[text] = None
    return list(seen)


def url_validate(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            {"url": [_("Adresse invalide : saisissez une adresse complète en http(s)://.")]}
        )
    return url


def fetch_allowed_networks() -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(n) for n in settings.EGIDE_FETCH_ALLOWED_NETWORKS)


def page_name(page: WatchedPage) -> str:
    return page.label or urlsplit(page.url).hostname or page.url
