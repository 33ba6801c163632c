"""Google Business Profile replies: drafted by the reply assistant, checked, approved by the
doctor himself, posted by a worker with ``updateReply``; « Supprimer la réponse » calls
``deleteReply``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _

from cleanup.google.models import GoogleConnection, GoogleReply, GoogleReview
from cleanup.google.services.connection import (
    GoogleApi,
    GoogleBusinessError,
    google_doctor_only_check,
    google_event_record,
)
from cleanup.google.tasks import google_reply_post_task
from cleanup.services.alerts import alert_reply_draft
from common.tasks import task_enqueue_on_commit
from cover.reply_rules import reply_blocking_issues, reply_check, reply_propose


def _connection_of(review: GoogleReview) -> GoogleConnection:
    return review.location.connection


def google_reply_suggest(*, review: GoogleReview) -> dict[str, Any]:
    """The reply assistant's proposal (secrecy-safe wording, DOMAIN §5.3), not saved."""
    if review.alert is not None:
        draft = alert_reply_draft(alert=review.alert)
        return {"text": draft["text"], "caveats": draft["caveats"], "default": draft["default"]}
    doctor = _connection_of(review).doctor
    signature = _("Cabinet du Dr %(name)s") % {"name": doctor.user.last_name or str(doctor)}
    return {"text": reply_propose(signature=signature), "caveats": [], "default": ""}


def google_reply_draft(*, review: GoogleReview, user: User) -> GoogleReply:
    """A recorded draft from the reply assistant."""
    google_doctor_only_check(connection=_connection_of(review), user=user)
    suggestion = google_reply_suggest(review=review)
    reply = GoogleReply(review=review, text=suggestion["text"])
    google_event_record(reply, "draft", user, caveats=suggestion["caveats"])
    reply.save()
    return reply


def google_reply_check(*, reply: GoogleReply, text: str, user: User) -> GoogleReply:
    """Run the reply checks on the (possibly edited) text; a blocking issue refuses it."""
    google_doctor_only_check(connection=_connection_of(reply.review), user=user)
    if reply.status in (GoogleReply.Status.POSTED, GoogleReply.Status.DELETED):
        raise GoogleBusinessError(_("Cette réponse est déjà publiée : rédigez-en une nouvelle."))
    text = (text or "").strip()
    if not text:
        raise GoogleBusinessError(_("La réponse est vide."))
    issues = reply_check(
        text=text,
        reviewer_identifiers=[reply.review.reviewer] if reply.review.reviewer else [],
    )
    blocking = reply_blocking_issues(issues=issues)
    reply.text = text
    reply.issues = [
        {"code": str(i.code), "severity": str(i.severity), "message": str(i.message)}
        for i in issues
    ]
    reply.status = GoogleReply.Status.REFUSED if blocking else GoogleReply.Status.CHECKED
    reply.approved_by, reply.approved_at = None, None
    google_event_record(reply, "check", user, blocking=len(blocking), issues=len(issues))
    reply.save()
    return reply


def google_reply_approve(*, reply: GoogleReply, user: User) -> GoogleReply:
    """The doctor himself approves the checked text (staff cannot: it is his public word).
    Posting then happens in a worker (``cleanup.google.tasks``)."""
    google_doctor_only_check(connection=_connection_of(reply.review), user=user)
    if reply.status != GoogleReply.Status.CHECKED:
        raise GoogleBusinessError(_("Faites d'abord vérifier la réponse (sans blocage)."))
    issues = reply_check(
        text=reply.text,
        reviewer_identifiers=[reply.review.reviewer] if reply.review.reviewer else [],
    )
    if reply_blocking_issues(issues=issues):
        raise GoogleBusinessError(_("La vérification bloque cette réponse : corrigez-la."))
    reply.status = GoogleReply.Status.APPROVED
    reply.approved_by = user
    reply.approved_at = timezone.now()
    google_event_record(reply, "approve", user)
    reply.save()
    return reply


def google_reply_post(*, reply: GoogleReply, http: Any = None) -> GoogleReply:
    """Publish an approved reply with ``updateReply`` (what the worker runs)."""
    connection = _connection_of(reply.review)
    if reply.status != GoogleReply.Status.APPROVED or (
        reply.approved_by_id != connection.doctor.user_id
    ):
        raise GoogleBusinessError(_("Seule une réponse approuvée par le médecin est publiée."))
    api = GoogleApi(connection=connection, http=http)
    method = api.reviews.accounts().locations().reviews().updateReply
    try:
        body = api.execute(method(name=reply.review.name, body={"comment": reply.text}))
    except GoogleBusinessError as exc:
        reply.status = GoogleReply.Status.FAILED
        reply.error = str(exc)
        google_event_record(reply, "post-failed", None, reason=str(exc))
        reply.save()
        raise
    review = reply.review
    review.reply_comment = body.get("comment", reply.text)
    review.reply_update_time = body.get("updateTime", "")
    review.save(update_fields=["reply_comment", "reply_update_time"])
    reply.status = GoogleReply.Status.POSTED
    reply.posted_at = timezone.now()
    reply.error = ""
    google_event_record(reply, "post", None, update_time=review.reply_update_time)
    reply.save()
    return reply


def google_reply_post_enqueue(*, reply: GoogleReply) -> None:
    """Queue the publication once the approval is committed (bound to this schema)."""
    task_enqueue_on_commit(actor=google_reply_post_task, kwargs={"reply_id": reply.pk})


def google_reply_delete(*, review: GoogleReview, user: User, http: Any = None) -> GoogleReview:
    """« Supprimer la réponse »: ``deleteReply`` at Google, recorded on the posted reply."""
    connection = _connection_of(review)
    google_doctor_only_check(connection=connection, user=user)
    api = GoogleApi(connection=connection, http=http)
    api.execute(api.reviews.accounts().locations().reviews().deleteReply(name=review.name))
    review.reply_comment = ""
    review.reply_update_time = ""
    review.save(update_fields=["reply_comment", "reply_update_time"])
    for reply in review.replies.filter(status=GoogleReply.Status.POSTED):
        reply.status = GoogleReply.Status.DELETED
        reply.deleted_at = timezone.now()
        google_event_record(reply, "delete", user)
        reply.save()
    return review
