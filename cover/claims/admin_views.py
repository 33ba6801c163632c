"""Handlers' workspace in the Wagtail admin: the queue and the claim file's actions.

Thin views over the selectors and services; every view needs ``claims.handle_claim``. The claim
file itself is ``admin_detail`` (it also takes the captures' actions — request, retry,
re-capture — as POSTs on its own address; their live progress polls the evidence admin's
``etat.json``); its letters are ``admin_letters``.
"""

from __future__ import annotations

import datetime
import hashlib
from functools import wraps

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin.ui.components import Component

from cover.claims.charts import week_deadlines_svg
from cover.claims.forms import (
    AttachmentForm,
    CostForm,
    EventForm,
    NoteForm,
    PublicationDateForm,
    QualifyForm,
    RepublicationForm,
    TransitionForm,
)
from cover.claims.models import LADDER_STATE_CHOICES, Claim, CostKind, CoverStatus
from cover.claims.selectors.claims import (
    DASHBOARD_CACHE_S,
    claim_attachment,
    claim_handler,
    claims_queue,
    dashboards_version,
    handler_dashboard,
    partners_commissaires,
)
from cover.claims.selectors.engine import clock_configuration, deadline_badge
from cover.claims.services.captures import claim_evidence_send
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.costs import cost_record
from cover.claims.services.cover_check import cover_check
from cover.claims.services.events import (
    claim_event_record,
    claim_publication_date_correct,
    claim_republication_record,
)
from cover.claims.services.handling import claim_assign, claim_attachment_add, claim_note_add
from cover.claims.services.ladder import claim_transition
from cover.claims.services.opening import claim_qualify
from cover.ladder import LadderState
from cover.rules import ClaimEventKind, Route

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


def _refused(request, exc: ClaimActionRefused) -> None:
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
        dashboard = handler_dashboard(user=self.request.user, today=today)
        holiday_calendar = clock_configuration().holiday_calendar
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
                    deadline_badge(
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
    """The claims queue, one page at a time. The page's body (dashboard, rows, pagination) is kept
    a minute per handler, filters, page and day under the insurer's claims version, so it is
    rebuilt as soon as a claim, an event or a capture is written (``dashboards_invalidate``);
    names of doctors and handlers edited elsewhere show within the minute. The body holds no
    CSRF token: the rows' « M'attribuer » buttons submit one form outside it."""
    today = timezone.localdate()
    filters = {
        "state": request.GET.get("state", ""),
        "assignment": request.GET.get("assignment", ""),
        "cover": request.GET.get("cover", ""),
    }
    page_number = request.GET.get("page", "")
    key = _queue_cache_key(request, today=today, filters=filters, page_number=page_number)
    body = cache.get(key) if key else None
    if not isinstance(body, str):
        body = render_to_string(
            "claims/admin/_queue_body.html",
            _queue_body_context(request, today=today, filters=filters, page_number=page_number),
            request=request,
        )
        if key:
            cache.set(key, body, DASHBOARD_CACHE_S)
    return render(
        request,
        "claims/admin/queue.html",
        {
            "header_title": _("Sinistres"),
            "page_title": _("Sinistres — file de traitement"),
            "header_icon": "warning",
            "states": LADDER_STATE_CHOICES,
            "cover_choices": CoverStatus.choices,
            "filters": filters,
            "queue_body": mark_safe(body),  # noqa: S308 -- our own template's output
        },
    )


def _queue_cache_key(
    request, *, today: datetime.date, filters: dict[str, str], page_number: str
) -> str | None:
    version = dashboards_version()
    if version is None or not (page_number == "" or page_number.isdigit()):
        return None
    raw = "|".join(
        [str(version), str(request.user.pk), today.isoformat(), page_number, get_language()]
        + [filters[name][:40] for name in ("state", "assignment", "cover")]
    )
    return "claims-queue:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def _queue_body_context(
    request, *, today: datetime.date, filters: dict[str, str], page_number: str
) -> dict:
    state, assignment, cover_status = filters["state"], filters["assignment"], filters["cover"]
    claims = claims_queue(
        state=state,
        assigned_to=request.user if assignment == "mine" else None,
        unassigned=assignment == "unassigned",
        cover_status=cover_status,
    )
    # One page at a time: an insurer has thousands of open claims (bench/bench_load.py).
    page = Paginator(claims, QUEUE_PAGE_SIZE).get_page(page_number)
    query = request.GET.copy()
    query.pop("page", None)
    holiday_calendar = clock_configuration().holiday_calendar
    rows = [
        (
            claim,
            deadline_badge(
                due=claim.next_deadline_date, today=today, holiday_calendar=holiday_calendar
            ),
        )
        for claim in page.object_list
    ]
    return {
        "rows": rows,
        "page": page,
        "page_query": query.urlencode(),
        # Handlers land here: the dashboard heads the unfiltered first page.
        "dashboard_panel": (
            HandlerDashboardPanel(request)
            if page.number == 1 and not (state or assignment or cover_status)
            else None
        ),
    }


@handler_required
@require_POST
def assign(request, pk: int):
    """Assign the claim to oneself (no ``handler``) or to a colleague of the same insurer."""
    claim = get_object_or_404(Claim.objects.select_related("assigned_to"), pk=pk)
    handler_id = request.POST.get("handler")
    handler = claim_handler(pk=handler_id) if handler_id else request.user
    try:
        claim_assign(claim=claim, handler=handler, by=request.user)
    except ClaimActionRefused as exc:
        _refused(request, exc)
    else:
        assert handler is not None  # claim_assign refuses a missing handler
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
            claim_note_add(claim=claim, text=form.cleaned_data["text"], by=request.user)
        except ClaimActionRefused as exc:
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
            claim_attachment_add(
                claim=claim,
                upload=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
                by=request.user,
            )
        except ClaimActionRefused as exc:
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
    attachment = claim_attachment(claim=claim, pk=attachment_pk)
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
@require_POST
def evidence_send(request, pk: int):
    """Send a capture of the claim to a commissaire de justice of the directory."""
    claim = get_object_or_404(Claim, pk=pk)
    partner = partners_commissaires().filter(pk=request.POST.get("partner")).first()
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
        claim_evidence_send(
            claim=claim,
            capture_id=capture_id,
            partner=partner,
            expires_in_days=days,
            by=request.user,
        )
    except ClaimActionRefused as exc:
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
            claim_qualify(
                claim=claim,
                by=request.user,
                categories={p.pk: data[f"category_{p.pk}"] for p in passages},
                qualifications={p.pk: data[f"qualification_{p.pk}"] for p in passages},
                legal_bases={p.pk: data[f"legal_basis_{p.pk}"] for p in passages},
                facts=data["facts"],
            )
            messages.success(request, _("Qualification enregistrée."))
        except ClaimActionRefused as exc:
            _refused(request, exc)
    else:
        messages.error(request, _("Choisissez une catégorie pour chaque passage."))
    return redirect("claims_admin:detail", pk=pk)


@handler_required
@require_POST
def cover(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    decision = cover_check(claim=claim, by=request.user)
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
        claim_transition(
            claim=claim,
            to_state=LadderState(form.cleaned_data["to_state"]),
            route=Route(route) if route else None,
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
        messages.success(request, _("Étape mise à jour."))
    except ClaimActionRefused as exc:
        _refused(request, exc)
    return redirect("claims_admin:detail", pk=pk)


@handler_required
@require_POST
def event(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    form = EventForm(request.POST)
    if form.is_valid():
        try:
            claim_event_record(
                claim=claim,
                kind=ClaimEventKind(form.cleaned_data["kind"]),
                date=form.cleaned_data["date"],
                ref=form.cleaned_data["ref"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
            messages.success(request, _("Événement enregistré."))
        except ClaimActionRefused as exc:
            _refused(request, exc)
    else:
        messages.error(request, _("Événement incomplet."))
    return redirect("claims_admin:detail", pk=pk)


@handler_required
@require_POST
def cost(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk)
    form = CostForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            recorded = cost_record(
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
        except ClaimActionRefused as exc:
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
        claim_publication_date_correct(
            claim=claim,
            new_date=form.cleaned_data["new_date"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    except ClaimActionRefused as exc:
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
        claim_republication_record(
            claim=claim,
            date=form.cleaned_data["date"],
            url=form.cleaned_data["url"],
            note=form.cleaned_data["note"],
            by=request.user,
        )
    except ClaimActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Republication enregistrée : nouveau délai de prescription."))
    return _detail_at(pk, "deadlines")
