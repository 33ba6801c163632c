"""Platform compliance: the flags F1–F12 (DOMAIN §6.2) of a watched review platform and the
pre-filled SignalConso report (§6.3)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import asdict

from django.utils import timezone

from cleanup.compliance import platform_compliance_check, signalconso_prefill
from cleanup.extract import reviews_extract
from cleanup.fetch import FetchError, Network, page_fetch
from cleanup.models import ComplianceCheck, WatchedPage
from cleanup.services.common import fetch_allowed_networks, url_validate


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
            url_validate(extra)
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
