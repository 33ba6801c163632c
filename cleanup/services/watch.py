"""What a doctor watches: the watch profile (name variants, practice, keywords) and the watched
pages, within the plan's limits. The profile's search queries are kept in step here."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cleanup.models import SearchQuery, WatchedPage, WatchProfile
from cleanup.services.common import (
    MAX_TEXT_ITEM,
    PlanLimitError,
    clean_list,
    terms_for_doctor,
    url_validate,
)
from cover.models import Doctor

MAX_NAME_VARIANTS = 5


def watch_queries(
    *, name_variants: Sequence[str], practice_name: str, keywords: Sequence[str]
) -> list[str]:
    """Name queries (quoted, as a patient types them), the practice name, then each keyword
    with the doctor's main name and with the practice name: a keyword alone (« escroc ») would
    search the whole web, not what is said of this doctor."""
    names = [f'"{v}"' for v in clean_list(name_variants)]
    practice = f'"{practice_name.strip()}"' if practice_name.strip() else ""
    anchors = [*names[:1], *([practice] if practice else [])]
    queries = [*names, *([practice] if practice else [])]
    for keyword in clean_list(keywords):
        queries.extend(f"{anchor} {keyword}" for anchor in anchors)
    return clean_list(queries)


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
    names = clean_list(name_variants)
    words = clean_list(keywords)
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
    url = url_validate(url)
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
