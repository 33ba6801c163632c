"""Handlers' workspace in the Wagtail admin: the queue and the claim file.

Thin views over the selectors and services; every view needs ``claims.handle_claim``. The claim
file also takes the captures' actions (request, retry, re-capture) as POSTs on its own address;
their live progress polls the evidence admin's ``etat.json``.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from wagtail.admin.ui.components import Component

from cover.claims import selectors, services
from cover.claims.charts import week_deadlines_svg
from cover.claims.forms import (
    AssignForm,
    AttachmentForm,
    CostForm,
    EventForm,
    LetterFollowUpForm,
    LetterForm,
    LetterReceiptForm,
    LetterSentForm,
    NoteForm,
    PublicationDateForm,
    QualifyForm,
    RepublicationForm,
    TransitionForm,
)
from cover.claims.models import LADDER_STATE_CHOICES, Claim, CostKind, CoverStatus, Letter
from cover.ladder import LadderState
from cover.letter_fields import LETTER_SPECS, LetterKind
from cover.rules import CATEGORY_RULES, EVENT_LABELS, ClaimEventKind, Route

PERMISSION = "claims.handle_claim"

# Wagtail's own listings show 20: 25 rows is a screen or two, sorted by deadline, and half
# the rendering of 50 (bench/bench_load.py).
QUEUE_PAGE_SIZE = 25


def _detail_at(pk: int, section: str):
    """Back to the claim page, at the section the action was taken from."""
    return redirect(reverse("claims_admin:detail", kwargs={"pk": pk}) + f"#{section}")


def handler_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated or not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _refused(request, exc: services.ClaimActionRefused) -> None:
    for reason in exc.reasons:
        messages.error(request, reason)


class HandlerDashboardPanel(Component):
    """The handlers' first screen on the admin home: this week's deadlines as a picture, the
    unassigned claims and the failed captures of claims (bounded queries, see
    ``selectors.handler_dashboard``)."""

    name = "claims_dashboard"
    order = 50
    template_name = "claims/admin/dashboard_panel.html"

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None):
        today = timezone.localdate()
        dashboard = selectors.handler_dashboard(user=self.request.user, today=today)
        holiday_calendar = selectors.clock_configuration().holiday_calendar
        queue = reverse("claims_admin:queue")
        return {
            "dashboard": dashboard,
            "today": today,
            "week_svg": mark_safe(  # noqa: S308 -- built by charts.py, every value escaped
                week_deadlines_svg(days=dashboard.due_by_day, today=today, link=queue)
            ),
            "due_rows": [
                (
                    claim,
                    selectors.deadline_badge(
                        due=claim.next_deadline_date,
                        today=today,
                        holiday_calendar=holiday_calendar,
                    ),
                )
                for claim in dashboard.due_this_week
            ],
            "queue_url": queue,
        }


@handler_required
def queue(request):
    today = timezone.localdate()
    state = request.GET.get("state", "")
    assignment = request.GET.get("assignment", "")
    cover_status = request.GET.get("cover", "")
    claims = selectors.claims_queue(
        state=state,
        assigned_to=request.user if assignment == "mine" else None,
        unassigned=assignment == "unassigned",
        cover_status=cover_status,
    )
    # One page at a time: an insurer has thousands of open claims (bench/bench_load.py).
    page = Paginator(claims, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    holiday_calendar = selectors.clock_configuration().holiday_calendar
    rows = [
        (
            claim,
            selectors.deadline_badge(
                due=claim.next_deadline_date, today=today, holiday_calendar=holiday_calendar
            ),
        )
        for claim in page.object_list
    ]
    return render(
        request,
        "claims/admin/queue.html",
        {
            "header_title": _("Sinistres"),
            "page_title": _("Sinistres — file de traitement"),
            "header_icon": "warning",
            "rows": rows,
            "states": LADDER_STATE_CHOICES,
            "cover_choices": CoverStatus.choices,
            "filters": {"state": state, "assignment": assignment, "cover": cover_status},
            "page": page,
            "page_query": query.urlencode(),
            # Handlers land here: the dashboard heads the unfiltered first page.
            "dashboard_panel": (
                HandlerDashboardPanel(request)
                if page.number == 1 and not (state or assignment or cover_status)
                else None
            ),
        },
    )


@handler_required
@require_POST
def assign(request, pk: int):
    """Assign the claim to oneself (no ``handler``) or to a colleague of the same insurer."""
    claim = get_object_or_404(Claim.objects.select_related("assigned_to"), pk=pk)
    handler_id = request.POST.get("handler")
    handler = selectors.claim_handler(pk=handler_id) if handler_id else request.user
    try:
        services.claim_assign(claim=claim, handler=handler, by=request.user)
    except services.ClaimActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(
            request,
            _("Dossier %(ref)s attribué à %(name)s.")
            % {"ref": claim.reference, "name": handler.get_full_name() or handler.email},
        )
    if request.POST.get("next") == "queue":
        return redirect("claims_admin:queue")
    return redirect("claims_admin:detail", pk=claim.pk)


@handler_required
@require_POST
def note_add(request, pk: int):
    """An internal note: staff only, never shown to the doctor."""
    claim = get_object_or_404(Claim, pk=pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.claim_note_add(claim=claim, text=form.cleaned_data["text"], by=request.user)
        except services.ClaimActionRefused as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Note interne ajoutée."))
    else:
        messages.error(request, _("Écrivez la note (5 000 caractères au plus)."))
    return _detail_at(pk, "notes")


@handler_required
@require_POST
def attachment_add(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.claim_attachment_add(
                claim=claim,
                upload=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
                by=request.user,
            )
        except services.ClaimActionRefused as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Pièce jointe ajoutée."))
    else:
        messages.error(request, _("Choisissez un fichier à joindre."))
    return _detail_at(pk, "notes")


@handler_required
def attachment_download(request, pk: int, attachment_pk: int):
    """Served only here, to the insurer's handlers: always as a download, never rendered by the
    browser on this origin."""
    claim = get_object_or_404(Claim, pk=pk)
    attachment = selectors.claim_attachment(claim=claim, pk=attachment_pk)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


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
    captures = selectors.claim_captures(claim=claim)
    categories = selectors.claim_categories(claim=claim)
    configuration = selectors.clock_configuration()
    deadlines = selectors.claim_deadlines(claim=claim, today=today, configuration=configuration)
    passages = list(claim.passages.all())
    letter_kinds = [(k.value, LETTER_SPECS[k].label) for k in LetterKind]
    letters = list(claim.letters.all())
    notes = list(selectors.claim_notes(claim=claim))
    attachments = list(selectors.claim_attachments(claim=claim))
    letter_follow_ups = {
        letter.pk: [
            (k.value, EVENT_LABELS[k]) for k in services.letter_follow_up_kinds(letter=letter)
        ]
        for letter in letters
    }
    return render(
        request,
        "claims/admin/detail.html",
        {
            "header_title": claim.reference,
            "page_title": _("Sinistre %(ref)s") % {"ref": claim.reference},
            "header_icon": "warning",
            "claim": claim,
            "today": today,
            "badge": selectors.deadline_badge(
                due=claim.next_deadline_date,
                today=today,
                holiday_calendar=configuration.holiday_calendar,
            ),
            "categories": [CATEGORY_RULES[c].label for c in categories],
            "deadlines": deadlines,
            "qualify_form": QualifyForm(passages=passages, facts=list(claim.facts)),
            "ladder": selectors.claim_ladder_options(
                claim=claim, today=today, configuration=configuration
            ),
            "transition_form": TransitionForm(),
            "event_form": EventForm(initial={"date": today}),
            "events": selectors.claim_timeline(claim=claim, for_doctor=False, captures=captures),
            "transitions": claim.transitions.select_related("actor"),
            "letters": [(letter, letter_follow_ups[letter.pk]) for letter in letters],
            "letter_kinds": letter_kinds,
            "sent_form": LetterSentForm(initial={"sent_on": today}),
            "receipt_form": LetterReceiptForm(initial={"received_on": today}),
            "follow_up_form": LetterFollowUpForm(initial={"date": today}),
            "publication_form": PublicationDateForm(initial={"new_date": claim.publication_date}),
            "publication_changes": selectors.claim_publication_date_changes(claim=claim),
            "publication_evidence_before": selectors.claim_publication_evidence_before(
                claim=claim, captures=captures
            ),
            "republication_form": RepublicationForm(initial={"date": today}),
            "costs": claim.costs.select_related("partner"),
            "cost_form": CostForm(initial={"incurred_on": today}),
            "cost_summary": selectors.claim_cost_summary(claim=claim, today=today),
            "replies": claim.reply_drafts.all(),
            "captures": captures,
            "capture_comparisons": selectors.claim_capture_comparisons(captures=captures),
            "capture_urls": list(dict.fromkeys([*claim.urls, *(c.url for c in captures)])),
            "commissaires": selectors.partners_commissaires(),
            "assign_form": AssignForm(
                handlers=selectors.claim_handlers(),
                initial={"handler": claim.assigned_to_id or request.user.pk},
            ),
            "notes": notes,
            "note_form": NoteForm(),
            "attachments": attachments,
            "notes_count": len(notes) + len(attachments),
            "attachment_form": AttachmentForm(),
            "partners_url": reverse("wagtailsnippets_claims_partner:list"),
        },
    )


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
        if recapture_of not in selectors.claim_capture_ids(claim=claim):
            raise Http404(_("Capture introuvable."))
    url = (request.POST.get("other_url") or "").strip() or request.POST.get("url", "")
    try:
        capture_id = services.claim_capture_request(
            claim=claim,
            by=request.user,
            url=url if recapture_of is None else "",
            recapture_of=recapture_of,
            reason=request.POST.get("reason", ""),
        )
    except services.ClaimActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(
            request,
            _("Capture n° %(id)s demandée : elle démarre dans un instant.") % {"id": capture_id},
        )
    return _detail_at(claim.pk, "evidence")


@handler_required
@require_POST
def evidence_send(request, pk: int):
    """Send a capture of the claim to a commissaire de justice of the directory."""
    claim = get_object_or_404(Claim, pk=pk)
    partner = selectors.partners_commissaires().filter(pk=request.POST.get("partner")).first()
    try:
        capture_id = int(request.POST.get("capture", ""))
        days = int(request.POST.get("days", "7"))
    except ValueError:
        messages.error(request, _("Choisissez une capture et une durée de validité."))
        return redirect("claims_admin:detail", pk=pk)
    if partner is None:
        messages.error(request, _("Choisissez un commissaire de justice actif de l'annuaire."))
        return redirect("claims_admin:detail", pk=pk)
    try:
        services.claim_evidence_send(
            claim=claim,
            capture_id=capture_id,
            partner=partner,
            expires_in_days=days,
            by=request.user,
        )
    except services.ClaimActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(
            request,
            _("Lien de téléchargement envoyé à %(name)s.") % {"name": partner.name},
        )
    return redirect("claims_admin:detail", pk=pk)


@handler_required
@require_POST
def qualify(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    passages = list(claim.passages.all())
    form = QualifyForm(request.POST, passages=passages, facts=list(claim.facts))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.claim_qualify(
                claim=claim,
                by=request.user,
                categories={p.pk: data[f"category_{p.pk}"] for p in passages},
                qualifications={p.pk: data[f"qualification_{p.pk}"] for p in passages},
                legal_bases={p.pk: data[f"legal_basis_{p.pk}"] for p in passages},
                facts=data["facts"],
            )
            messages.success(request, _("Qualification enregistrée."))
        except services.ClaimActionRefused as exc:
            _refused(request, exc)
    else:
        messages.error(request, _("Choisissez une catégorie pour chaque passage."))
    return redirect("claims_admin:detail", pk=pk)


@handler_required
@require_POST
def cover(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    decision = services.cover_check(claim=claim, by=request.user)
    if decision.covered:
        messages.success(request, _("Garantie acquise."))
    else:
        for reason in decision.reasons:
            messages.warning(request, reason)
    return redirect("claims_admin:detail", pk=pk)


@handler_required
@require_POST
def transition(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        route_errors = form.errors.get("route")
        if route_errors:
            for error in route_errors:
                messages.error(request, str(error))
        else:
            messages.error(request, _("Indiquez l'étape et le motif du changement."))
        return _detail_at(pk, "ladder")
    route = form.cleaned_data["route"]
    try:
        services.claim_transition(
            claim=claim,
            to_state=LadderState(form.cleaned_data["to_state"]),
            route=Route(route) if route else None,
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
        messages.success(request, _("Étape mise à jour."))
    except services.ClaimActionRefused as exc:
        _refused(request, exc)
    return redirect("claims_admin:detail", pk=pk)


@handler_required
@require_POST
def event(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    form = EventForm(request.POST)
    if form.is_valid():
        try:
            services.claim_event_record(
                claim=claim,
                kind=ClaimEventKind(form.cleaned_data["kind"]),
                date=form.cleaned_data["date"],
                ref=form.cleaned_data["ref"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
            messages.success(request, _("Événement enregistré."))
        except services.ClaimActionRefused as exc:
            _refused(request, exc)
    else:
        messages.error(request, _("Événement incomplet."))
    return redirect("claims_admin:detail", pk=pk)


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
        partner = selectors.partners_active().filter(pk=request.POST["partner"]).first()
    auto = selectors.letter_values_auto(claim=claim, kind=letter_kind, today=today, partner=partner)
    form = LetterForm(request.POST or None, kind=letter_kind, auto=auto)
    # The gate's verdict before anything is typed: the same reasons the ladder gives.
    gate = services.letter_act_check(claim=claim, kind=letter_kind, today=today)
    missing: list[str] = []
    refused_title = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.letter_generate(
                claim=claim,
                kind=letter_kind,
                by=request.user,
                values=form.values(),
                partner=form.cleaned_data.get("partner"),
            )
        except services.LetterIncomplete as exc:
            missing = exc.reasons
            refused_title = _("Courrier refusé : champs obligatoires manquants")
        except services.ClaimActionRefused as exc:
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
    letter = selectors.claim_letter(claim=claim, pk=letter_pk)
    return FileResponse(
        letter.file.open("rb"),
        content_type="application/pdf",
        filename=f"{claim.reference}-{letter.kind.lower()}.pdf",
    )


@handler_required
def letter_proof(request, pk: int, letter_pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    letter = selectors.claim_letter(claim=claim, pk=letter_pk)
    if not letter.proof:
        raise Http404
    return FileResponse(letter.proof.open("rb"), as_attachment=True)


@handler_required
@require_POST
def letter_sent(request, pk: int, letter_pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    letter: Letter = selectors.claim_letter(claim=claim, pk=letter_pk)
    form = LetterSentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.letter_mark_sent(
                letter=letter,
                sent_on=form.cleaned_data["sent_on"],
                proof=form.cleaned_data["proof"],
                capture_ref=form.cleaned_data["capture_ref"],
                by=request.user,
            )
            messages.success(request, _("Envoi enregistré."))
        except services.ClaimActionRefused as exc:
            _refused(request, exc)
    else:
        messages.error(request, _("Indiquez la date d'envoi."))
    return redirect("claims_admin:detail", pk=pk)


@handler_required
@require_POST
def cost(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    form = CostForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            recorded = services.cost_record(
                claim=claim,
                kind=CostKind(data["kind"]),
                amount_cents=data["amount"],
                incurred_on=data["incurred_on"],
                label=data["label"],
                partner=data["partner"],
                service=data["service"] or None,
                by=request.user,
            )
            messages.success(request, _("Frais enregistrés."))
            for note in recorded.cover_notes:
                messages.warning(request, note)
        except services.ClaimActionRefused as exc:
            _refused(request, exc)
    else:
        messages.error(request, _("Frais incomplets."))
    return redirect("claims_admin:detail", pk=pk)


@handler_required
@require_POST
def publication_date(request, pk: int):
    """Correct the publication date with a reason: deadlines and queue follow, audited."""
    claim = get_object_or_404(Claim, pk=pk)
    form = PublicationDateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indiquez la nouvelle date de publication et le motif."))
        return _detail_at(pk, "summary")
    try:
        services.claim_publication_date_correct(
            claim=claim,
            new_date=form.cleaned_data["new_date"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    except services.ClaimActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Date de publication corrigée : échéances recalculées."))
    return _detail_at(pk, "summary")


@handler_required
@require_POST
def republication(request, pk: int):
    """Record a republication: a new press-law period for the republished content."""
    claim = get_object_or_404(Claim, pk=pk)
    form = RepublicationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indiquez la date de la republication."))
        return _detail_at(pk, "deadlines")
    try:
        services.claim_republication_record(
            claim=claim,
            date=form.cleaned_data["date"],
            url=form.cleaned_data["url"],
            note=form.cleaned_data["note"],
            by=request.user,
        )
    except services.ClaimActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Republication enregistrée : nouveau délai de prescription."))
    return _detail_at(pk, "deadlines")


@handler_required
@require_POST
def letter_received(request, pk: int, letter_pk: int):
    """Record the addressee's receipt of a sent letter: its clock restarts from the receipt."""
    claim = get_object_or_404(Claim, pk=pk)
    letter: Letter = selectors.claim_letter(claim=claim, pk=letter_pk)
    form = LetterReceiptForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indiquez la date de réception."))
        return _detail_at(pk, "letters")
    try:
        services.letter_receipt_record(
            letter=letter, received_on=form.cleaned_data["received_on"], by=request.user
        )
    except services.ClaimActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Réception enregistrée : échéances recalculées."))
    return _detail_at(pk, "letters")


@handler_required
@require_POST
def letter_follow_up(request, pk: int, letter_pk: int):
    """Record the addressee's next step on a sent letter (extension, answer, decision...)."""
    claim = get_object_or_404(Claim, pk=pk)
    letter: Letter = selectors.claim_letter(claim=claim, pk=letter_pk)
    form = LetterFollowUpForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choisissez la suite et sa date."))
        return _detail_at(pk, "letters")
    try:
        services.letter_follow_up_record(
            letter=letter,
            kind=ClaimEventKind(form.cleaned_data["kind"]),
            date=form.cleaned_data["date"],
            note=form.cleaned_data["note"],
            by=request.user,
        )
    except services.ClaimActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Suite enregistrée : échéances recalculées."))
    return _detail_at(pk, "letters")
