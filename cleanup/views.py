"""Doctor portal of the monitoring guarantee. Thin: reads through selectors, writes through
services; every object is looked up through the doctor's own selectors, so another doctor's id
gives a 404, never their data."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cleanup import selectors
from cleanup.charts import line_chart_svg
from cleanup.forms import RemovalRequestForm, RequestSentForm, WatchedPageForm, WatchProfileForm
from cleanup.letters import DEFAULT_DATA_CONCERNED, DEFAULT_GROUNDS, letter_pdf, letter_text
from cleanup.models import Alert, ContentPlanItem, RemovalRequest, Scan
from cleanup.scoring import FLAG_NOTICE
from cleanup.services.alerts import (
    alert_capture,
    alert_claim_open,
    alert_dismiss,
    alert_mark_read,
    alert_reply_draft,
    baseline_review_alert,
    watched_page_capture,
)
from cleanup.services.common import terms_for_doctor
from cleanup.services.compliance import platform_compliance_run
from cleanup.services.content import content_plan_item_decide, profile_page_publish
from cleanup.services.removals import (
    removal_request_answered,
    removal_request_cancel,
    removal_request_create,
    removal_request_extension_notified,
    removal_request_mark_sent,
    removal_requests_used,
)
from cleanup.services.scans import scan_request
from cleanup.services.watch import watch_profile_save, watched_page_add, watched_page_remove
from common.http import AuthenticatedHttpRequest
from cover.claims.selectors import claims as claim_selectors
from cover.models import Doctor, MonitoringFrequency
from cover.selectors import doctor_for_user


def _doctor(request: HttpRequest) -> Doctor:
    doctor = doctor_for_user(user=request.user)
    if doctor is None:
        raise PermissionDenied(_("Cet espace est réservé aux médecins assurés."))
    return doctor


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [str(m) for msgs in exc.message_dict.values() for m in msgs]
    return [str(m) for m in exc.messages]


def _terms(doctor: Doctor):
    try:
        return terms_for_doctor(doctor=doctor, on=timezone.localdate())
    except ValidationError:
        return None


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    doctor = _doctor(request)
    profile = selectors.watch_profile_for_doctor(doctor=doctor)
    terms = _terms(doctor)
    context: dict[str, Any] = {"doctor": doctor, "profile": profile, "terms": terms}
    if terms is not None:
        labels = dict(MonitoringFrequency.choices)
        context["frequency_label"] = str(labels.get(terms.monitoring_frequency, "")).lower()
    if profile is not None:
        ratings, counts = selectors.rating_series(profile=profile)
        alerts = list(selectors.alerts_for_doctor(doctor=doctor)[:50])
        context.update(
            {
                "scan": selectors.scan_latest(profile=profile),
                "rating_chart": line_chart_svg(
                    title=_("Note moyenne (sur 5)"),
                    series=[(s.label, s.points) for s in ratings],
                    y_min=0,
                    y_max=5,
                    empty_text=_("Pas encore de relevé"),
                ),
                "count_chart": line_chart_svg(
                    title=_("Nombre d'avis"),
                    series=[(s.label, s.points) for s in counts],
                    y_min=0,
                    empty_text=_("Pas encore de relevé"),
                ),
                "alerts": [
                    (
                        a,
                        selectors.text_segments(text=a.text, flags=a.flags),
                        selectors.alert_actions(alert=a),
                    )
                    for a in alerts
                ],
                "unread_pages": selectors.pages_without_reviews(profile=profile),
                "mentions": selectors.mentions_for_doctor(doctor=doctor)[:30],
                "rank_history": selectors.rank_history(profile=profile),
                "requests": selectors.removal_requests_for_doctor(doctor=doctor)[:10],
                "flag_notice": FLAG_NOTICE,
            }
        )
    return render(request, "cleanup/dashboard.html", context)


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    doctor = _doctor(request)
    profile = selectors.watch_profile_for_doctor(doctor=doctor)
    initial = {
        "name_variants": "\n".join(profile.name_variants)
        if profile
        else f"Dr {doctor.user.get_full_name()}\n{doctor.user.get_full_name()}",
        "practice_name": profile.practice_name if profile else doctor.practice_name,
        "city": profile.city if profile else doctor.city,
        "specialty": profile.specialty if profile else doctor.specialty,
        "keywords": "\n".join(profile.keywords) if profile else "",
    }
    form = WatchProfileForm(request.POST or None, initial=initial)
    page_form = WatchedPageForm(prefix="page")
    if request.method == "POST" and form.is_valid():
        names, keywords = form.cleaned_lists()
        try:
            watch_profile_save(
                doctor=doctor,
                name_variants=names,
                practice_name=form.cleaned_data["practice_name"],
                city=form.cleaned_data["city"],
                specialty=form.cleaned_data["specialty"],
                keywords=keywords,
            )
        except ValidationError as exc:
            for message in _errors(exc):
                form.add_error(None, message)
        else:
            messages.success(request, _("Votre profil de veille est enregistré."))
            return redirect("cleanup:profile")
    return render(
        request,
        "cleanup/profile.html",
        {
            "form": form,
            "page_form": page_form,
            "profile": profile,
            "pages": selectors.watched_pages_for_doctor(doctor=doctor),
            "terms": _terms(doctor),
        },
    )


@login_required
@require_POST
def page_add(request: HttpRequest) -> HttpResponse:
    doctor = _doctor(request)
    profile = selectors.watch_profile_for_doctor(doctor=doctor)
    if profile is None:
        messages.error(request, _("Enregistrez d'abord votre profil de veille."))
        return redirect("cleanup:profile")
    form = WatchedPageForm(request.POST, prefix="page")
    if form.is_valid():
        try:
            watched_page_add(profile=profile, **form.cleaned_data)
        except ValidationError as exc:
            for message in _errors(exc):
                messages.error(request, message)
        else:
            messages.success(request, _("Page ajoutée à la veille."))
    else:
        messages.error(request, _("Adresse de page manquante."))
    return redirect("cleanup:profile")


@login_required
@require_POST
def page_remove(request: HttpRequest, page_id: int) -> HttpResponse:
    doctor = _doctor(request)
    page = selectors.watched_pages_for_doctor(doctor=doctor).filter(pk=page_id).first()
    if page is None:
        raise Http404
    watched_page_remove(page=page)
    messages.success(request, _("Page retirée de la veille."))
    return redirect("cleanup:profile")


def _scan_json(scan: Scan) -> dict[str, Any]:
    return {
        "id": scan.pk,
        "status": scan.status,
        "status_label": scan.get_status_display(),
        "progress": scan.progress,
        "finished": scan.status in (Scan.Status.DONE, Scan.Status.FAILED),
        "alerts": scan.alerts_count,
        "new_reviews": scan.new_reviews,
        "baseline_reviews": scan.baseline_reviews,
        "edited_reviews": scan.edited_reviews,
        "removed_reviews": scan.removed_reviews,
        "new_results": scan.new_results,
        "error": scan.error,
    }


@login_required
@require_POST
def scan_now(request: HttpRequest) -> HttpResponse:
    doctor = _doctor(request)
    profile = selectors.watch_profile_for_doctor(doctor=doctor)
    if profile is None:
        messages.error(request, _("Enregistrez d'abord votre profil de veille."))
        return redirect("cleanup:profile")
    scan = scan_request(profile=profile)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse(_scan_json(scan), status=202)
    messages.info(request, _("Veille lancée : les résultats s'affichent dès qu'elle est finie."))
    return redirect("cleanup:dashboard")


@login_required
@require_GET
def scan_status(request: HttpRequest, scan_id: int) -> JsonResponse:
    scan = selectors.scan_for_doctor(doctor=_doctor(request), scan_id=scan_id)
    if scan is None:
        raise Http404
    return JsonResponse(_scan_json(scan))


def _alert(request: HttpRequest, alert_id: int) -> Alert:
    alert = selectors.alert_for_doctor(doctor=_doctor(request), alert_id=alert_id)
    if alert is None:
        raise Http404
    return alert


@login_required
@require_POST
def alert_action(request: AuthenticatedHttpRequest, alert_id: int, action: str) -> HttpResponse:
    alert = _alert(request, alert_id)
    done = {"preuve": alert.evidence_ref, "sinistre": alert.claim_ref}
    if action in done and not done[action] and action not in selectors.alert_actions(alert=alert):
        # A fair or lawful review is answered, not taken down: no claim or capture for it.
        messages.error(
            request,
            _(
                "Cette action n'est pas proposée pour cette alerte : aucun passage n'y est "
                "signalé comme possiblement illicite."
            ),
        )
        return redirect(f"{_dashboard_url()}#alerte-{alert.pk}")
    try:
        if action == "lue":
            alert_mark_read(alert=alert)
        elif action == "ecarter":
            alert_dismiss(alert=alert)
            messages.success(request, _("Alerte écartée."))
        elif action == "preuve":
            ref = alert_capture(alert=alert, user=request.user)
            messages.success(
                request, _("Capture de preuve demandée (réf. %(ref)s).") % {"ref": ref}
            )
        elif action == "sinistre":
            already_opened = bool(alert.claim_ref)
            ref = alert_claim_open(alert=alert, user=request.user)
            claim = claim_selectors.claim_of_doctor_by_reference(
                doctor=alert.profile.doctor, reference=ref
            )
            if already_opened and claim is not None:
                # One claim per alert: a second click leads to the claim already opened.
                messages.info(
                    request,
                    _("Un sinistre est déjà ouvert pour cette alerte (réf. %(ref)s).")
                    % {"ref": ref},
                )
                return redirect("claims:detail", pk=claim.pk)
            messages.success(request, _("Sinistre ouvert (réf. %(ref)s).") % {"ref": ref})
        else:
            raise Http404
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    return redirect(f"{_dashboard_url()}#alerte-{alert.pk}")


@login_required
@require_POST
def baseline_examine(request: HttpRequest, alert_id: int, review_id: int) -> HttpResponse:
    """One review listed in a baseline summary becomes its own alert, with its actions."""
    alert = _alert(request, alert_id)
    try:
        created = baseline_review_alert(alert=alert, review_id=review_id)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
        return redirect(f"{_dashboard_url()}#alerte-{alert.pk}")
    messages.success(request, _("Avis ajouté à vos alertes : choisissez l'action qui convient."))
    return redirect(f"{_dashboard_url()}#alerte-{created.pk}")


@login_required
@require_POST
def page_capture(request: AuthenticatedHttpRequest, page_id: int) -> HttpResponse:
    """Capture a watched page whose reviews could not be read, for a person to look at."""
    doctor = _doctor(request)
    page = selectors.watched_pages_for_doctor(doctor=doctor).filter(pk=page_id).first()
    if page is None:
        raise Http404
    try:
        ref = watched_page_capture(page=page, user=request.user)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("Capture de la page demandée (réf. %(ref)s).") % {"ref": ref})
    return redirect(f"{_dashboard_url()}#pages-illisibles")


def _dashboard_url() -> str:
    return reverse("cleanup:dashboard")


@login_required
@require_GET
def alert_reply(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _alert(request, alert_id)
    draft = alert_reply_draft(alert=alert)
    return render(
        request,
        "cleanup/reply.html",
        {
            "alert": alert,
            "draft": draft,
            "segments": selectors.text_segments(text=alert.text, flags=alert.flags),
        },
    )


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    doctor = _doctor(request)
    profile = selectors.watch_profile_for_doctor(doctor=doctor)
    if profile is None:
        messages.error(request, _("Enregistrez d'abord votre profil de veille."))
        return redirect("cleanup:profile")
    alert = None
    alert_id = request.GET.get("alerte") or request.POST.get("alerte") or ""
    if alert_id:
        if not alert_id.isdigit():
            raise Http404
        alert = selectors.alert_for_doctor(doctor=doctor, alert_id=int(alert_id))
    kind = request.GET.get("type") or (
        RemovalRequest.Kind.DEREFERENCING
        if alert and alert.mention_id
        else RemovalRequest.Kind.GDPR_LISTING
    )
    if kind not in RemovalRequest.Kind.values:
        raise Http404
    initial = {
        "kind": kind,
        "urls": alert.url if alert else "",
        "grounds": "\n".join(DEFAULT_GROUNDS[RemovalRequest.Kind(kind)]),
        "data_concerned": DEFAULT_DATA_CONCERNED
        if kind == RemovalRequest.Kind.GDPR_LISTING
        else "",
    }
    form = RemovalRequestForm(request.POST or None, initial=initial)
    used, allowed = removal_requests_used(profile=profile, today=timezone.localdate())
    if request.method == "POST" and form.is_valid():
        urls, grounds = form.lists()
        try:
            created = removal_request_create(
                profile=profile,
                kind=form.cleaned_data["kind"],
                recipient_name=form.cleaned_data["recipient_name"],
                recipient_address=form.cleaned_data["recipient_address"],
                urls=urls,
                grounds=grounds,
                data_concerned=form.cleaned_data["data_concerned"],
                alert=alert,
            )
        except ValidationError as exc:
            for message in _errors(exc):
                form.add_error(None, message)
        else:
            messages.success(request, _("Courrier préparé. Relisez-le avant de l'envoyer."))
            return redirect("cleanup:request", request_id=created.pk)
    return render(
        request,
        "cleanup/request_form.html",
        {"form": form, "alert": alert, "used": used, "allowed": allowed},
    )


@login_required
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    doctor = _doctor(request)
    removal = selectors.removal_request_for_doctor(doctor=doctor, request_id=request_id)
    if removal is None:
        raise Http404
    sent_form = RequestSentForm(request.POST if request.POST.get("action") == "sent" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        today = timezone.localdate()
        try:
            if action == "sent":
                if sent_form.is_valid():
                    removal_request_mark_sent(
                        request=removal,
                        sent_on=sent_form.cleaned_data["sent_on"],
                        received_on=sent_form.cleaned_data["received_on"],
                    )
                else:
                    raise ValidationError(_("Indiquez la date d'envoi."))
            elif action == "extension":
                removal_request_extension_notified(request=removal, on=today)
            elif action in ("granted", "refused"):
                removal_request_answered(request=removal, granted=action == "granted", on=today)
            elif action == "cancel":
                removal_request_cancel(request=removal)
            else:
                raise Http404
        except ValidationError as exc:
            for message in _errors(exc):
                messages.error(request, message)
        else:
            messages.success(request, _("Demande mise à jour."))
        return redirect("cleanup:request", request_id=removal.pk)
    return render(
        request,
        "cleanup/request_detail.html",
        {"removal": removal, "letter": letter_text(request=removal), "sent_form": sent_form},
    )


@login_required
@require_GET
def request_pdf(request: HttpRequest, request_id: int) -> HttpResponse:
    removal = selectors.removal_request_for_doctor(doctor=_doctor(request), request_id=request_id)
    if removal is None:
        raise Http404
    response = HttpResponse(letter_pdf(request=removal), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="demande-{removal.pk}.pdf"'
    return response


@login_required
@require_GET
def requests_list(request: HttpRequest) -> HttpResponse:
    doctor = _doctor(request)
    return render(
        request,
        "cleanup/requests.html",
        {"requests": selectors.removal_requests_for_doctor(doctor=doctor)},
    )


@login_required
def content_plan(request: HttpRequest) -> HttpResponse:
    """The doctor's own content: the profile page, and the items staff propose, which only
    the doctor approves (or refuses) here."""
    doctor = _doctor(request)
    if request.method == "POST" and request.POST.get("decision") == "profile":
        try:
            profile_page_publish(
                doctor=doctor,
                background=request.POST.get("background", ""),
                practice_info=request.POST.get("practice_info", ""),
            )
        except ValidationError as exc:
            for message in _errors(exc):
                messages.error(request, message)
        else:
            messages.success(request, _("Votre fiche professionnelle est publiée."))
        return redirect("cleanup:content")
    if request.method == "POST":
        item_id = request.POST.get("item", "")
        item = selectors.content_item_for_doctor(
            doctor=doctor, item_id=int(item_id) if item_id.isdigit() else 0
        )
        decision = request.POST.get("decision")
        if item is None or decision not in ("approve", "reject"):
            raise Http404
        try:
            decided = content_plan_item_decide(
                item=item, actor=request.user, approve=decision == "approve"
            )
        except ValidationError as exc:
            for message in _errors(exc):
                messages.error(request, message)
        else:
            if decided.status == decided.Status.PUBLISHED:
                messages.success(request, _("Contenu approuvé et publié."))
            elif decided.status == decided.Status.TO_PUBLISH:
                messages.success(
                    request, _("Contenu approuvé : l'équipe de votre assureur va le publier.")
                )
            else:
                messages.success(request, _("Contenu refusé."))
        return redirect("cleanup:content")
    profile = selectors.watch_profile_for_doctor(doctor=doctor)
    items = list(
        selectors.content_plan_for_doctor(doctor=doctor)
        .exclude(status=ContentPlanItem.Status.DRAFT)
        .select_related("page")
        .prefetch_related("events__actor")
    )
    return render(
        request,
        "cleanup/content_plan.html",
        {
            "items": items,
            "terms": _terms(doctor),
            "profile_page": selectors.profile_page_for_doctor(doctor=doctor),
            "rank_chart": selectors.content_rank_chart(profile=profile) if profile else "",
        },
    )


@login_required
def compliance(request: HttpRequest, page_id: int) -> HttpResponse:
    """Platform compliance check (DOMAIN §6.2) of one watched page, with the SignalConso
    draft. Run on demand: a few page reads, each with the fetcher's timeouts."""
    doctor = _doctor(request)
    page = selectors.watched_pages_for_doctor(doctor=doctor).filter(pk=page_id).first()
    if page is None:
        raise Http404
    if request.method == "POST":
        try:
            platform_compliance_run(
                page=page,
                section_url=request.POST.get("section_url", ""),
                legal_url=request.POST.get("legal_url", ""),
            )
        except ValidationError as exc:
            for message in _errors(exc):
                messages.error(request, message)
        return redirect("cleanup:compliance", page_id=page.pk)
    check = selectors.compliance_checks_for_doctor(doctor=doctor, page_id=page.pk).first()
    return render(request, "cleanup/compliance.html", {"page": page, "check": check})
