"""Positive content the doctor owns: the profile page and the publication plan.

Why: pushing neutral information up the doctor's name results (« noyage ») is one of the
services of the guarantee, but it is the doctor's own speech, bound by R4127-19-1 (DOMAIN
§5.1): honest information, no comparison, no testimonials. So staff draft and propose, and only
the doctor approves, in the portal; every text is checked at save and again at approval; an
approved item is published by the service and every step is logged with who and when. The rank
chart then shows whether the doctor's name results moved after each publication.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.models import Page, Site

from cleanup.changes import url_key
from cleanup.models import (
    ArticlePage,
    ContentPlanEvent,
    ContentPlanItem,
    Mention,
    ProfilePage,
    Scan,
    SearchResultRank,
    WatchProfile,
)
from cleanup.services.common import PlanLimitError, allowance_year_start, terms_for_doctor
from cover.models import Doctor
from cover.selectors import policy_current

Status = ContentPlanItem.Status
Action = ContentPlanEvent.Action

# Statuses that used one of the plan's yearly campaigns.
APPROVED_STATUSES = (Status.APPROVED, Status.TO_PUBLISH, Status.PUBLISHED)


# Who acts on an item: a signed-in user, an anonymous visitor (``request.user`` unchecked) or
# None (a system step, the demo seed without its staff account). Only a signed-in user is
# named in the item's log, and only the item's doctor may decide on it.
Actor = User | AnonymousUser | None


def _home() -> Page:
    return Site.objects.get(is_default_site=True).root_page.specific


def _event(
    *, item: ContentPlanItem, action: str, actor: Actor, note: str = "", data: dict | None = None
) -> ContentPlanEvent:
    return ContentPlanEvent.objects.create(
        item=item,
        action=action,
        actor=actor if isinstance(actor, User) else None,  # a User is always authenticated
        note=note,
        data=data or {},
    )


def _is_item_doctor(*, item: ContentPlanItem, actor: Actor) -> bool:
    return isinstance(actor, User) and item.profile.doctor.user_id == actor.pk


# --------------------------------------------------------------------------- profile page


@transaction.atomic
def profile_page_publish(
    *,
    doctor: Doctor,
    background: str | None = None,
    practice_info: str | None = None,
    body: Any = None,
) -> ProfilePage:
    """Create (or update) the doctor's public professional page under the insurer's home page
    and publish it. Refused with the deontology reason when the text is not allowed. ``body``
    (approved StreamField data) replaces the page's body when given; ``None`` keeps a field."""
    page = ProfilePage.objects.filter(doctor=doctor).first()
    name = doctor.user.get_full_name() or str(doctor)
    display = _("Dr %(name)s") % {"name": name}
    values: dict[str, Any] = {
        "title": display,
        "display_name": display,
        "specialty": doctor.specialty,
        "practice_name": doctor.practice_name,
        "street_address": doctor.practice_address,
        "city": doctor.city,
        "phone": doctor.phone,
        "rpps": doctor.rpps,
    }
    if background is not None:
        values["background"] = background
    if practice_info is not None:
        values["practice_info"] = practice_info
    if body is not None:
        values["body"] = body
    if page is None:
        page = ProfilePage(doctor=doctor, slug=slugify(f"dr-{name}")[:200], **values)
        page.full_clean(exclude=["path", "depth"])
        _home().add_child(instance=page)
    else:
        for key, value in values.items():
            setattr(page, key, value)
        page.full_clean()
        page.save()
    page.save_revision().publish()
    return page


# --------------------------------------------------------------------------- publication plan


@transaction.atomic
def content_plan_item_save(
    *,
    actor: Actor,
    profile: WatchProfile,
    title: str,
    channel: str,
    summary: str = "",
    body: Any = None,
    planned_for: datetime.date | None = None,
    item: ContentPlanItem | None = None,
) -> ContentPlanItem:
    """Staff draft a new item or edit one. The texts are checked against R4127-19-1 (refused
    with the French reason, nothing saved). Editing an item the doctor already approved (or
    has to decide on) sends it back to the doctor: it can only be published again once they
    approve the new text."""
    creating = item is None
    if item is None:
        item = ContentPlanItem(profile=profile, status=Status.DRAFT)
    elif item.profile_id != profile.pk:
        raise ValidationError(_("Ce contenu appartient à un autre médecin."))
    was = item.status
    item.title = title.strip()
    item.summary = summary.strip()
    item.channel = channel
    item.planned_for = planned_for
    if body is not None:
        item.body = body
    item.full_clean()
    return _item_saved(item=item, actor=actor, creating=creating, was=was)


def _item_saved(
    *, item: ContentPlanItem, actor: Actor, creating: bool, was: str
) -> ContentPlanItem:
    """Save an already validated item and log the step; an edit after approval (or while the
    doctor is deciding) sends the item back to the doctor."""
    if not creating and was in (*APPROVED_STATUSES, Status.PROPOSED):
        item.status = Status.PROPOSED
        item.proposed_at = timezone.now()
        item.save()
        _event(item=item, action=Action.RESUBMITTED, actor=actor, data={"previous": was})
        return item
    item.save()
    _event(item=item, action=Action.DRAFTED if creating else Action.EDITED, actor=actor)
    return item


@transaction.atomic
def content_plan_item_staff_save(*, item: ContentPlanItem, actor: Actor, creating: bool) -> None:
    """The staff admin's form already validated ``item`` (model ``clean``: R4127-19-1); keep
    the status the workflow gives it, never the one a form might carry."""
    was = (
        ContentPlanItem.objects.filter(pk=item.pk).values_list("status", flat=True).first()
        if item.pk
        else None
    )
    item.status = was or Status.DRAFT
    _item_saved(item=item, actor=actor, creating=creating or was is None, was=item.status)


@transaction.atomic
def content_plan_item_propose(*, item: ContentPlanItem, actor: Actor) -> ContentPlanItem:
    """Staff send a draft (or a refused item they reworked) to the doctor."""
    item = ContentPlanItem.objects.select_for_update().get(pk=item.pk)
    if item.status not in (Status.DRAFT, Status.REJECTED):
        raise ValidationError(_("Ce contenu a déjà été proposé au médecin."))
    item.full_clean()
    item.status = Status.PROPOSED
    item.proposed_at = timezone.now()
    item.save(update_fields=["status", "proposed_at"])
    _event(item=item, action=Action.PROPOSED, actor=actor)
    return item


def _allowance_check(*, item: ContentPlanItem, today: datetime.date) -> None:
    doctor = item.profile.doctor
    terms = terms_for_doctor(doctor=doctor, on=today)
    policy = policy_current(doctor=doctor, on=today)
    if policy is None or policy.start_date is None:
        raise PlanLimitError(
            _("Aucun contrat actif : le contenu positif fait partie de votre garantie.")
        )
    start = allowance_year_start(policy_start=policy.start_date, today=today)
    if item.approved_at is not None and timezone.localdate(item.approved_at) >= start:
        return  # re-approval of an edited item: its campaign is already counted
    used = (
        item.profile.content.filter(status__in=APPROVED_STATUSES, approved_at__date__gte=start)
        .exclude(pk=item.pk)
        .count()
    )
    allowed = terms.positive_content_campaigns_per_year
    if used >= allowed:
        raise PlanLimitError(
            ngettext(
                "Votre formule comprend %(max)d campagne de contenu positif par an, déjà utilisée.",
                "Votre formule comprend %(max)d campagnes de contenu positif par an, "
                "toutes utilisées.",
                allowed,
            )
            % {"max": allowed}
        )


def _ranks_now(*, profile: WatchProfile) -> dict[str, Any]:
    """Best rank of each flagged result at the last finished scan: the « before » of a
    publication, kept in its log entry."""
    scan = profile.scans.filter(status=Scan.Status.DONE).order_by("-created_at", "-pk").first()
    if scan is None:
        return {"scan": None, "flagged": {}}
    flagged = {m.url_key: m.url for m in Mention.objects.filter(profile=profile, flagged=True)}
    best: dict[str, int] = {}
    for r in SearchResultRank.objects.filter(scan=scan).only("url", "rank"):
        key = url_key(r.url)
        if key in flagged:
            best[flagged[key]] = min(best.get(flagged[key], r.rank), r.rank)
    return {"scan": scan.pk, "flagged": best}


def _publish(*, item: ContentPlanItem, actor: Actor) -> None:
    doctor = item.profile.doctor
    body = item.body.get_prep_value()
    now = timezone.now()
    if item.channel == ContentPlanItem.Channel.DIRECTORY:
        item.status = Status.TO_PUBLISH
        item.save(update_fields=["status"])
        _event(
            item=item,
            action=Action.TO_PUBLISH,
            actor=actor,
            data={"planned_for": item.planned_for.isoformat() if item.planned_for else None},
        )
        return
    ranks = _ranks_now(profile=item.profile)
    page: Page
    if item.channel == ContentPlanItem.Channel.PROFILE_PAGE:
        page = profile_page_publish(doctor=doctor, body=body)
    else:
        existing = item.page.specific if item.page is not None else None
        article = existing if isinstance(existing, ArticlePage) else None
        if article is None:
            slug = slugify(f"{item.title}-{item.pk}")[:200] or f"article-{item.pk}"
            article = ArticlePage(doctor=doctor, title=item.title, slug=slug,
                                  summary=item.summary, body=body)  # fmt: skip
            article.full_clean(exclude=["path", "depth"])
            _home().add_child(instance=article)
        else:
            article.title, article.summary, article.body = item.title, item.summary, body
            article.full_clean()
            article.save()
        article.save_revision().publish()
        page = article
    item.page = page
    item.status = Status.PUBLISHED
    item.published_at = now
    item.save(update_fields=["page", "status", "published_at"])
    _event(
        item=item, action=Action.PUBLISHED, actor=actor,
        data={"page": page.pk, "url": page.url or "", "ranks_before": ranks},
    )  # fmt: skip


@transaction.atomic
def content_plan_item_decide(
    *, item: ContentPlanItem, actor: Actor, approve: bool, today: datetime.date | None = None
) -> ContentPlanItem:
    """The doctor, and only the doctor, approves or refuses an item proposed to them.
    Approval checks the text again (R4127-19-1) and the plan's yearly number of campaigns, then
    publishes. Anyone else is refused and nothing changes."""
    item = (
        ContentPlanItem.objects.select_for_update(of=("self",))
        .select_related("profile__doctor")
        .get(pk=item.pk)
    )
    if not _is_item_doctor(item=item, actor=actor):
        raise PermissionDenied(
            _("Seul le médecin concerné peut approuver ou refuser ses contenus.")
        )
    if item.status != Status.PROPOSED:
        raise ValidationError(_("Ce contenu a déjà été examiné."))
    today = today or timezone.localdate()
    if not approve:
        item.status = Status.REJECTED
        item.save(update_fields=["status"])
        _event(item=item, action=Action.REJECTED, actor=actor)
        return item
    item.full_clean()
    _allowance_check(item=item, today=today)
    item.status = Status.APPROVED
    item.approved_at = timezone.now()
    item.save(update_fields=["status", "approved_at"])
    _event(item=item, action=Action.APPROVED, actor=actor)
    _publish(item=item, actor=actor)
    return item


@transaction.atomic
def content_plan_item_mark_published(*, item: ContentPlanItem, actor: Actor) -> ContentPlanItem:
    """Staff record that an approved directory entry is now online."""
    item = ContentPlanItem.objects.select_for_update().get(pk=item.pk)
    if item.status != Status.TO_PUBLISH:
        raise ValidationError(_("Seul un contenu approuvé « à publier » peut être marqué publié."))
    item.status = Status.PUBLISHED
    item.published_at = timezone.now()
    item.save(update_fields=["status", "published_at"])
    _event(item=item, action=Action.PUBLISHED, actor=actor,
           data={"ranks_before": _ranks_now(profile=item.profile)})  # fmt: skip
    return item
