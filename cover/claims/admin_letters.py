"""Letters in the handlers' workspace: generated through the letter gate, downloaded, and their
sending, receipt and follow-ups recorded.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cover.claims.admin_views import _detail_at, _refused, handler_required
from cover.claims.forms import LetterFollowUpForm, LetterForm, LetterReceiptForm, LetterSentForm
from cover.claims.models import Claim, Letter
from cover.claims.selectors.claims import claim_letter, partners_active
from cover.claims.selectors.letters import letter_values_auto
from cover.claims.services.common import ClaimActionRefused, LetterIncomplete
from cover.claims.services.letters import (
    letter_act_check,
    letter_follow_up_record,
    letter_generate,
    letter_mark_sent,
    letter_receipt_record,
)
from cover.letter_fields import LETTER_SPECS, LetterKind
from cover.rules import ClaimEventKind


@handler_required
def letter_new(request, pk: int, kind: str):
    claim = get_object_or_404(Claim, pk=pk)
    try:
        letter_kind = LetterKind(kind)
    except ValueError as exc:
        raise Http404 from exc
    today = timezone.localdate()
    partner = None
    if request.method == "POST" and request.POST.get("partner"):
        partner = partners_active().filter(pk=request.POST["partner"]).first()
    auto = letter_values_auto(claim=claim, kind=letter_kind, today=today, partner=partner)
    form = LetterForm(request.POST or None, kind=letter_kind, auto=auto)
    # The gate's verdict before anything is typed: the same reasons the ladder gives.
    gate = letter_act_check(claim=claim, kind=letter_kind, today=today)
    missing: list[str] = []
    refused_title = ""
    if request.method == "POST" and form.is_valid():
        try:
            letter_generate(
                claim=claim,
                kind=letter_kind,
                by=request.user,
                values=form.values(),
                partner=form.cleaned_data.get("partner"),
            )
        except LetterIncomplete as exc:
            missing = exc.reasons
            refused_title = _("Courrier refusé : champs obligatoires manquants")
        except ClaimActionRefused as exc:
            missing = exc.reasons
            refused_title = _("Courrier refusé")
        else:
            messages.success(
                request,
                _("Courrier prêt : %(label)s.") % {"label": LETTER_SPECS[letter_kind].label},
            )
            for warning in gate.warnings:
                messages.warning(request, str(warning.message))
            return redirect("claims_admin:detail", pk=pk)
    return render(
        request,
        "claims/admin/letter_form.html",
        {
            "header_title": LETTER_SPECS[letter_kind].label,
            "page_title": f"{claim.reference} — {LETTER_SPECS[letter_kind].label}",
            "header_icon": "doc-full",
            "claim": claim,
            "spec": LETTER_SPECS[letter_kind],
            "form": form,
            "missing": missing,
            "refused_title": refused_title,
            "gate_blocked": [str(f.message) for f in gate.blocked] if not missing else [],
            "gate_warnings": [str(f.message) for f in gate.warnings],
            "partners_url": reverse("wagtailsnippets_claims_partner:list"),
        },
    )


@handler_required
def letter_pdf(request, pk: int, letter_pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    letter = claim_letter(claim=claim, pk=letter_pk)
    return FileResponse(
        letter.file.open("rb"),
        content_type="application/pdf",
        filename=f"{claim.reference}-{letter.kind.lower()}.pdf",
    )


@handler_required
def letter_proof(request, pk: int, letter_pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    letter = claim_letter(claim=claim, pk=letter_pk)
    if not letter.proof:
        raise Http404
    return FileResponse(letter.proof.open("rb"), as_attachment=True)


@handler_required
@require_POST
def letter_sent(request, pk: int, letter_pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    letter: Letter = claim_letter(claim=claim, pk=letter_pk)
    form = LetterSentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            letter_mark_sent(
                letter=letter,
                sent_on=form.cleaned_data["sent_on"],
                proof=form.cleaned_data["proof"],
                capture_ref=form.cleaned_data["capture_ref"],
                by=request.user,
            )
            messages.success(request, _("Envoi enregistré."))
        except ClaimActionRefused as exc:
            _refused(request, exc)
    else:
        messages.error(request, _("Indiquez la date d'envoi."))
    return redirect("claims_admin:detail", pk=pk)


@handler_required
@require_POST
def letter_received(request, pk: int, letter_pk: int):
    """Record the addressee's receipt of a sent letter: its clock restarts from the receipt."""
    claim = get_object_or_404(Claim, pk=pk)
    letter: Letter = claim_letter(claim=claim, pk=letter_pk)
    form = LetterReceiptForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indiquez la date de réception."))
        return _detail_at(pk, "letters")
    try:
        letter_receipt_record(
            letter=letter, received_on=form.cleaned_data["received_on"], by=request.user
        )
    except ClaimActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Réception enregistrée : échéances recalculées."))
    return _detail_at(pk, "letters")


@handler_required
@require_POST
def letter_follow_up(request, pk: int, letter_pk: int):
    """Record the addressee's next step on a sent letter (extension, answer, decision...)."""
    claim = get_object_or_404(Claim, pk=pk)
    letter: Letter = claim_letter(claim=claim, pk=letter_pk)
    form = LetterFollowUpForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choisissez la suite et sa date."))
        return _detail_at(pk, "letters")
    try:
        letter_follow_up_record(
            letter=letter,
            kind=ClaimEventKind(form.cleaned_data["kind"]),
            date=form.cleaned_data["date"],
            note=form.cleaned_data["note"],
            by=request.user,
        )
    except ClaimActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Suite enregistrée : échéances recalculées."))
    return _detail_at(pk, "letters")
