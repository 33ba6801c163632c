"""Doctor portal pages of the Google Business Profile link (under /veille/google/).

Thin: every object is looked up through the logged-in doctor's own connection, so another
doctor's id gives a 404; staff (who have no doctor record) get a 403 and cannot approve a reply
in the doctor's name."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cleanup.google.models import GoogleConnection, GoogleReply, GoogleReview
from cleanup.google.services import connection as google_connection
from cleanup.google.services import replies as google_replies
from cleanup.google.services import reviews as google_reviews
from common.http import AuthenticatedHttpRequest
from cover.models import Doctor
from cover.selectors import doctor_for_user

SESSION_STATE = "google_oauth_state"
SESSION_VERIFIER = "google_oauth_verifier"


def _doctor(request: HttpRequest) -> Doctor:
    doctor = doctor_for_user(user=request.user)
    if doctor is None:
        raise PermissionDenied(_("Cet espace est réservé aux médecins assurés."))
    return doctor


def _connection(doctor: Doctor) -> GoogleConnection | None:
    return GoogleConnection.objects.filter(doctor=doctor).first()


def _review(doctor: Doctor, review_id: int) -> GoogleReview:
    return get_object_or_404(
        GoogleReview.objects.select_related("location__connection__doctor", "alert"),
        pk=review_id,
        location__connection__doctor=doctor,
    )


def _reply(doctor: Doctor, reply_id: int) -> GoogleReply:
    return get_object_or_404(
        GoogleReply.objects.select_related("review__location__connection__doctor"),
        pk=reply_id,
        review__location__connection__doctor=doctor,
    )


def _redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(google_connection.REDIRECT_PATH)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    doctor = _doctor(request)
    connection = _connection(doctor)
    locations = []
    if connection is not None:
        locations = [
            (location, list(location.reviews.prefetch_related("replies")))
            for location in connection.locations.filter(active=True)
        ]
    return render(
        request,
        "google_reviews/index.html",
        {"connection": connection, "locations": locations},
    )


@login_required
@require_POST
def connect(request: HttpRequest) -> HttpResponse:
    _doctor(request)
    try:
        start = google_connection.google_connect_start(redirect_uri=_redirect_uri(request))
    except google_connection.GoogleBusinessError as exc:
        messages.error(request, str(exc))
        return redirect("google_reviews:index")
    request.session[SESSION_STATE] = start.state
    request.session[SESSION_VERIFIER] = start.code_verifier
    return redirect(start.url)


@login_required
@require_GET
def callback(request: AuthenticatedHttpRequest) -> HttpResponse:
    doctor = _doctor(request)
    expected = request.session.pop(SESSION_STATE, "")
    verifier = request.session.pop(SESSION_VERIFIER, "")
    if request.GET.get("error"):
        messages.error(request, _("Connexion à Google annulée ou refusée."))
        return redirect("google_reviews:index")
    try:
        google_connection.google_connect_finish(
            doctor=doctor,
            user=request.user,
            redirect_uri=_redirect_uri(request),
            code=request.GET.get("code", ""),
            state=request.GET.get("state", ""),
            expected_state=expected,
            code_verifier=verifier,
        )
    except google_connection.GoogleBusinessError as exc:
        messages.error(request, str(exc))
        return redirect("google_reviews:index")
    messages.success(request, _("Compte Google connecté."))
    return redirect("google_reviews:index")


@login_required
@require_POST
def disconnect(request: AuthenticatedHttpRequest) -> HttpResponse:
    doctor = _doctor(request)
    connection = _connection(doctor)
    if connection is None:
        return redirect("google_reviews:index")
    connection = google_connection.google_disconnect(connection=connection, user=request.user)
    if connection.last_error:
        messages.warning(request, connection.last_error)
    else:
        messages.success(request, _("Compte Google déconnecté et accès révoqué."))
    return redirect("google_reviews:index")


@login_required
@require_POST
def scan(request: HttpRequest) -> HttpResponse:
    doctor = _doctor(request)
    connection = _connection(doctor)
    if connection is None:
        messages.error(request, _("Connectez d'abord votre compte Google."))
        return redirect("google_reviews:index")
    try:
        result = google_reviews.google_reviews_scan(connection=connection)
    except google_connection.GoogleBusinessError as exc:
        messages.error(request, str(exc))
        return redirect("google_reviews:index")
    messages.success(
        request,
        _(
            "Avis Google relus : %(reviews)s avis, %(new)s nouveaux, %(edited)s modifiés, "
            "%(deleted)s supprimés."
        )
        % {
            "reviews": result.reviews,
            "new": result.new,
            "edited": result.edited,
            "deleted": result.deleted,
        },
    )
    return redirect("google_reviews:index")


@login_required
def reply(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    """Draft (GET creates one from the assistant), check (POST « verifier »), approve (POST
    « approuver », by the doctor himself), delete the published reply (POST « supprimer »)."""
    doctor = _doctor(request)
    review = _review(doctor, review_id)
    current = review.replies.exclude(status=GoogleReply.Status.DELETED).first()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "supprimer":
                google_replies.google_reply_delete(review=review, user=request.user)
                messages.success(request, _("Réponse supprimée sur Google."))
                return redirect("google_reviews:index")
            reply_pk = request.POST.get("reponse", "")
            if reply_pk.isdigit():
                reply_obj = _reply(doctor, int(reply_pk))
                if reply_obj.review_id != review.pk:
                    raise PermissionDenied
            elif action == "verifier":
                reply_obj = google_replies.google_reply_draft(review=review, user=request.user)
            else:
                raise PermissionDenied
            if action == "verifier":
                reply_obj = google_replies.google_reply_check(
                    reply=reply_obj, text=request.POST.get("texte", ""), user=request.user
                )
                if reply_obj.status == GoogleReply.Status.REFUSED:
                    messages.error(request, _("La vérification bloque cette réponse."))
                else:
                    messages.success(request, _("Réponse vérifiée : vous pouvez l'approuver."))
            elif action == "approuver":
                reply_obj = google_replies.google_reply_approve(reply=reply_obj, user=request.user)
                google_replies.google_reply_post_enqueue(reply=reply_obj)
                messages.success(request, _("Réponse approuvée : elle va être publiée."))
            else:
                messages.error(request, _("Action inconnue."))
        except google_connection.GoogleBusinessError as exc:
            messages.error(request, str(exc))
        return redirect("google_reviews:reply", review_id=review.pk)
    if request.GET.get("nouvelle") and current is not None:
        if current.status == GoogleReply.Status.POSTED:
            current = None
    suggestion = google_replies.google_reply_suggest(review=review)
    editable = current is None or current.status in (
        GoogleReply.Status.DRAFT,
        GoogleReply.Status.CHECKED,
        GoogleReply.Status.REFUSED,
        GoogleReply.Status.FAILED,
    )
    return render(
        request,
        "google_reviews/reply.html",
        {
            "review": review,
            "reply": current,
            "editable": editable,
            "text": current.text if current is not None else suggestion["text"],
            "suggestion": suggestion,
        },
    )
