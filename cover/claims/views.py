"""Doctor portal: open a claim, answer the questionnaire, follow the timeline, draft a reply.

Thin: every read goes through selectors filtered on the signed-in doctor (another doctor's claim
is a 404, like a missing one), every write through services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cover.claims.forms import (
    ClaimOpenForm,
    QuestionnaireForm,
    ReplyForm,
    ReplyProposeForm,
)
from cover.claims.models import ReplyDraft
from cover.claims.selectors.captures import claim_capture_comparisons, claim_captures
from cover.claims.selectors.claims import claim_of_doctor, claim_timeline, claims_of_doctor
from cover.claims.selectors.engine import claim_categories, claim_deadlines, open_deadlines
from cover.claims.selectors.letters import claim_refusal_notice
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.opening import claim_open, claim_questionnaire_answer
from cover.claims.services.replies import (
    reply_draft_approve,
    reply_draft_check,
    reply_no_reply_choose,
)
from cover.ladder import STATE_LABELS, LadderState
from cover.reply_rules import ReplyOption, ReplyTopic, reply_options, reply_propose
from cover.rules import CATEGORY_RULES, ContentCategory
from cover.selectors import doctor_for_user


def _doctor(request):
    doctor = doctor_for_user(user=request.user)
    if doctor is None:
        raise Http404
    return doctor


@login_required
def claim_list(request):
    doctor = _doctor(request)
    return render(
        request,
        "claims/portal/list.html",
        {"claims": claims_of_doctor(doctor=doctor)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def claim_new(request):
    doctor = _doctor(request)
    form = ClaimOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            claim = claim_open(
                doctor=doctor,
                opened_by=request.user,
                urls=data["urls"],
                source_text=data["source_text"],
                quotes=data["quotes"],
                seen_date=data["seen_date"],
                # Blank: the claim holds an estimate (earliest plausible date), never a
                # date silently taken as the one shown on the page.
                publication_date=data["publication_date"],
                author_name=data["author_name"],
                author_is_doctor=data["author_is_doctor"],
                direct_reply_available=data["direct_reply_available"],
                description=data["description"],
            )
        except ClaimActionRefused as exc:
            for reason in exc.reasons:
                form.add_error(None, reason)
        else:
            messages.success(
                request,
                _("Dossier %(reference)s ouvert. Répondez maintenant à quelques questions.")
                % {"reference": claim.reference},
            )
            return redirect("claims:questionnaire", pk=claim.pk)
    return render(request, "claims/portal/new.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def claim_questionnaire(request, pk: int):
    claim = claim_of_doctor(doctor=_doctor(request), pk=pk)
    passages = list(claim.passages.all())
    form = QuestionnaireForm(request.POST or None, passages=passages)
    if request.method == "POST" and form.is_valid():
        try:
            claim_questionnaire_answer(
                claim=claim,
                by=request.user,
                page_is_listing=form.cleaned_data["page_is_listing"],
                answers=form.answers(),
            )
        except (ClaimActionRefused, ValueError) as exc:
            reasons = exc.reasons if isinstance(exc, ClaimActionRefused) else [str(exc)]
            for reason in reasons:
                form.add_error(None, reason)
        else:
            messages.success(request, _("Merci. Un gestionnaire va examiner votre dossier."))
            return redirect("claims:detail", pk=claim.pk)
    return render(request, "claims/portal/questionnaire.html", {"claim": claim, "form": form})


@login_required
def claim_detail(request, pk: int):
    claim = claim_of_doctor(doctor=_doctor(request), pk=pk)
    today = timezone.localdate()
    passages = [
        {
            "quote": p.quote,
            "category": CATEGORY_RULES[ContentCategory(c)].label
            if (c := p.confirmed_category or p.proposed_category)
            else "",
            "confirmed": bool(p.confirmed_category),
        }
        for p in claim.passages.all()
    ]
    # A refused cover closes the claim's deadlines: no countdown, no prescription warning.
    refusal = claim_refusal_notice(claim=claim)
    deadlines = (
        []
        if refusal is not None
        else open_deadlines(deadlines=claim_deadlines(claim=claim, today=today))
    )
    captures = claim_captures(claim=claim)
    return render(
        request,
        "claims/portal/detail.html",
        {
            "claim": claim,
            "state_label": STATE_LABELS[LadderState(claim.state)],
            "passages": passages,
            "timeline": claim_timeline(claim=claim, for_doctor=True, captures=captures),
            "deadlines": deadlines,
            "refusal": refusal,
            "replies": claim.reply_drafts.all()[:5],
            "captures": captures,
            "capture_comparisons": claim_capture_comparisons(captures=captures),
            "capture_urls": list(dict.fromkeys([*claim.urls, *(c.url for c in captures)])),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def claim_reply(request, pk: int):
    """Reply assistant (DOMAIN §5): "no reply" first, a proposal, hard blocks on every draft."""
    doctor = _doctor(request)
    claim = claim_of_doctor(doctor=doctor, pk=pk)
    choice = reply_options(categories=claim_categories(claim=claim))
    topics_form = ReplyProposeForm(request.GET or None)
    topics = [ReplyTopic(t) for t in request.GET.getlist("topics") if t in ReplyTopic.__members__]
    signature = doctor.practice_name or _("Cabinet du Dr %(name)s") % {
        "name": request.user.last_name or request.user.get_full_name()
    }
    proposal = reply_propose(signature=signature, topics=topics)
    form = ReplyForm(request.POST or None, initial={"text": proposal})
    draft = None
    if request.method == "POST":
        action = request.POST.get("action", "check")
        try:
            if action == "no_reply":
                reply_no_reply_choose(claim=claim, by=request.user)
                messages.success(request, _("Choix enregistré : pas de réponse publique."))
                return redirect("claims:detail", pk=claim.pk)
            if action == "approve":
                draft = ReplyDraft.objects.get(pk=request.POST.get("draft"), claim=claim)
                reply_draft_approve(draft=draft, by=request.user)
                messages.success(request, _("Réponse validée : vous pouvez la publier."))
                return redirect("claims:detail", pk=claim.pk)
            if form.is_valid():
                draft = reply_draft_check(
                    claim=claim, text=form.cleaned_data["text"], by=request.user
                )
        except ReplyDraft.DoesNotExist as exc:
            raise Http404 from exc
        except ClaimActionRefused as exc:
            for reason in exc.reasons:
                messages.error(request, reason)
    return render(
        request,
        "claims/portal/reply.html",
        {
            "claim": claim,
            "form": form,
            "topics_form": topics_form,
            "draft": draft,
            "default_no_reply": choice.default is ReplyOption.NO_REPLY,
            "caveats": choice.caveats,
            "illicit": any(CATEGORY_RULES[c].illicit for c in claim_categories(claim=claim)),
        },
    )
