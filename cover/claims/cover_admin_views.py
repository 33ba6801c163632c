"""Handler's cover decisions in the Wagtail admin: refuse with a reason and the clause applied,
or reverse a refusal after review. Thin: the rules and the audit are in ``services``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cover.claims import plan_terms
from cover.claims.admin_views import handler_required
from cover.claims.models import Claim
from cover.claims.services import cover_check
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.cover_check import cover_clauses, cover_refusal_reverse


class CoverRefuseForm(forms.Form):
    """The clause choices are the plan's own terms (``services.cover_clauses``) plus « another
    clause », quoted by the handler."""

    reason = forms.CharField(
        label=gettext_lazy("Motif du refus (lu par le médecin)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    clause_code = forms.ChoiceField(label=gettext_lazy("Clause du contrat appliquée"))
    clause_text = forms.CharField(
        label=gettext_lazy("Autre clause : citez-la (article et texte)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )

    def __init__(self, *args, claim: Claim, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(c.code, c.text) for c in cover_clauses(claim=claim)]
        choices.append((plan_terms.CLAUSE_OTHER, _("Autre clause du contrat (à citer)")))
        clause_field = self.fields["clause_code"]
        assert isinstance(clause_field, forms.ChoiceField)
        clause_field.choices = choices


class CoverReverseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Motif du réexamen (réclamation, fait nouveau…)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


@handler_required
@require_POST
def cover_refuse(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    form = CoverRefuseForm(request.POST, claim=claim, prefix="refuse")
    if not form.is_valid():
        messages.error(request, _("Indiquez le motif du refus et la clause appliquée."))
        return redirect("claims_admin:detail", pk=pk)
    try:
        cover_check.cover_refuse(
            claim=claim,
            by=request.user,
            reason=form.cleaned_data["reason"],
            clause_code=form.cleaned_data["clause_code"],
            clause_text=form.cleaned_data["clause_text"],
        )
    except ClaimActionRefused as exc:
        for reason in exc.reasons:
            messages.error(request, reason)
    else:
        messages.success(
            request, _("Refus de garantie enregistré : le médecin en est informé, délais clos.")
        )
    return redirect("claims_admin:detail", pk=pk)


@handler_required
@require_POST
def cover_reverse(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    form = CoverReverseForm(request.POST, prefix="reverse")
    if not form.is_valid():
        messages.error(request, _("Indiquez le motif du réexamen."))
        return redirect("claims_admin:detail", pk=pk)
    try:
        cover_refusal_reverse(claim=claim, by=request.user, reason=form.cleaned_data["reason"])
    except ClaimActionRefused as exc:
        for reason in exc.reasons:
            messages.error(request, reason)
    else:
        messages.success(request, _("Refus levé : la garantie est acquise, les délais reprennent."))
    return redirect("claims_admin:detail", pk=pk)
