"""The claim file in the handlers' workspace: one page reading the claim once for every section,
which also takes the captures' actions (request, re-capture) as POSTs on its own address.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cover.claims.admin_views import _detail_at, _refused, handler_required
from cover.claims.forms import (
    AssignForm,
    AttachmentForm,
    CostForm,
    EventForm,
    LetterFollowUpForm,
    LetterReceiptForm,
    LetterSentForm,
    NoteForm,
    PublicationDateForm,
    QualifyForm,
    RepublicationForm,
    TransitionForm,
)
from cover.claims.models import Claim
from cover.claims.selectors.captures import (
    claim_capture_comparisons,
    claim_capture_ids,
    claim_captures,
)
from cover.claims.selectors.claims import (
    claim_attachments,
    claim_handlers,
    claim_notes,
    claim_timeline,
    partners_commissaires,
)
from cover.claims.selectors.costs import claim_cost_summary
from cover.claims.selectors.engine import (
    claim_categories,
    claim_deadlines,
    claim_ladder_options,
    claim_publication_date_changes,
    claim_publication_evidence_before,
    clock_configuration,
    deadline_badge,
)
from cover.claims.services.captures import claim_capture_request
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.letters import letter_follow_up_kinds
from cover.letter_fields import LETTER_SPECS, LetterKind
from cover.rules import CATEGORY_RULES, EVENT_LABELS


@handler_required
@require_http_methods(["GET", "POST"])
def detail(request, pk: int):
    if request.method == "POST":
        claim = get_object_or_404(Claim.objects.select_related("doctor__user", "policy"), pk=pk)
        return _capture_action(request, claim)
    # Read once: the deadlines, the ladder, the timeline and the letters all walk these.
    claim = get_object_or_404(
        Claim.objects.select_related("doctor__user", "policy", "assigned_to").prefetch_related(
            "passages", "letters", "events"
        ),
        pk=pk,
    )
    today = timezone.localdate()
    captures = claim_captures(claim=claim)
    configuration = clock_configuration()
    passages = list(claim.passages.all())
    return render(
        request,
        "claims/admin/detail.html",
        {
            "header_title": claim.reference,
            "page_title": _("Sinistre %(ref)s") % {"ref": claim.reference},
            "header_icon": "warning",
            "claim": claim,
            "today": today,
            "badge": deadline_badge(
                due=claim.next_deadline_date,
                today=today,
                holiday_calendar=configuration.holiday_calendar,
            ),
            "categories": [CATEGORY_RULES[c].label for c in claim_categories(claim=claim)],
            "deadlines": claim_deadlines(claim=claim, today=today, configuration=configuration),
            "qualify_form": QualifyForm(passages=passages, facts=list(claim.facts)),
            "ladder": claim_ladder_options(claim=claim, today=today, configuration=configuration),
            "transition_form": TransitionForm(),
            "event_form": EventForm(initial={"date": today}),
            "events": claim_timeline(claim=claim, for_doctor=False, captures=captures),
            "transitions": claim.transitions.select_related("actor"),
            **_letters_section(claim=claim, today=today),
            **_evidence_section(claim=claim, today=today, captures=captures),
            **_notes_section(claim=claim, user=request.user),
            "partners_url": reverse("wagtailsnippets_claims_partner:list"),
        },
    )


def _letters_section(*, claim: Claim, today: datetime.date) -> dict[str, Any]:
    """The claim's letters with the follow-ups each allows, and the forms recording them."""
    letters = list(claim.letters.all())
    return {
        "letters": [
            (letter, [(k.value, EVENT_LABELS[k]) for k in letter_follow_up_kinds(letter=letter)])
            for letter in letters
        ],
        "letter_kinds": [(k.value, LETTER_SPECS[k].label) for k in LetterKind],
        "sent_form": LetterSentForm(initial={"sent_on": today}),
        "receipt_form": LetterReceiptForm(initial={"received_on": today}),
        "follow_up_form": LetterFollowUpForm(initial={"date": today}),
    }


def _evidence_section(*, claim: Claim, today: datetime.date, captures: list[Any]) -> dict[str, Any]:
    """Publication date, captures and their comparisons, costs and replies."""
    return {
        "publication_form": PublicationDateForm(initial={"new_date": claim.publication_date}),
        "publication_changes": claim_publication_date_changes(claim=claim),
        "publication_evidence_before": claim_publication_evidence_before(
            claim=claim, captures=captures
        ),
        "republication_form": RepublicationForm(initial={"date": today}),
        "costs": claim.costs.select_related("partner"),
        "cost_form": CostForm(initial={"incurred_on": today}),
        "cost_summary": claim_cost_summary(claim=claim, today=today),
        "replies": claim.reply_drafts.all(),
        "captures": captures,
        "capture_comparisons": claim_capture_comparisons(captures=captures),
        "capture_urls": list(dict.fromkeys([*claim.urls, *(c.url for c in captures)])),
        "commissaires": partners_commissaires(),
    }


def _notes_section(*, claim: Claim, user: User) -> dict[str, Any]:
    """Assignment, notes and attachments."""
    notes = list(claim_notes(claim=claim))
    attachments = list(claim_attachments(claim=claim))
    return {
        "assign_form": AssignForm(
            handlers=claim_handlers(),
            initial={"handler": claim.assigned_to_id or user.pk},
        ),
        "notes": notes,
        "note_form": NoteForm(),
        "attachments": attachments,
        "notes_count": len(notes) + len(attachments),
        "attachment_form": AttachmentForm(),
    }


CAPTURE_ACTIONS = ("capture_request", "capture_again")


def _capture_action(request, claim: Claim):
    """Request a capture for the claim (one of its addresses or a new one), or capture again
    the address of one of its finished captures; the new capture is attached to the claim."""
    action = request.POST.get("action")
    if action not in CAPTURE_ACTIONS:
        raise Http404
    recapture_of = None
    if action == "capture_again":
        try:
            recapture_of = int(request.POST.get("capture", ""))
        except ValueError as exc:
            raise Http404 from exc
        if recapture_of not in claim_capture_ids(claim=claim):
            raise Http404(_("Capture introuvable."))
    url = (request.POST.get("other_url") or "").strip() or request.POST.get("url", "")
    try:
        capture_id = claim_capture_request(
            claim=claim,
            by=request.user,
            url=url if recapture_of is None else "",
            recapture_of=recapture_of,
            reason=request.POST.get("reason", ""),
        )
    except ClaimActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(
            request,
            _("Capture n° %(id)s demandée : elle démarre dans un instant.") % {"id": capture_id},
        )
    return _detail_at(claim.pk, "evidence")
