"""Portal screens for evidence: a doctor requests captures, follows them, downloads bundles;
a recipient opens an expiring share link. Thin: reads via selectors, writes via services.

A doctor only ever reaches their own captures: anything else is a 404, and nothing is logged
or changed. Every page view and download of a capture is a custody event.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from evidence import selectors
from evidence.forms import CaptureRequestForm
from evidence.models import Capture
from evidence.services.custody import capture_downloaded, capture_viewed
from evidence.services.requests import capture_request
from evidence.services.sharing import share_link_downloaded, share_link_opened


def _own_capture(request, capture_id: int) -> Capture:
    capture = selectors.capture_of_user(user=request.user, capture_id=capture_id)
    if capture is None:
        raise Http404(_("Capture introuvable."))
    return capture


def _bundle_response(capture: Capture) -> FileResponse:
    handle = selectors.bundle_open(capture=capture)
    if handle is None:
        raise Http404(_("Lot de preuve indisponible."))
    return FileResponse(
        handle,
        as_attachment=True,
        filename=selectors.bundle_filename(capture=capture),
        content_type="application/zip",
    )


@login_required
@require_http_methods(["GET", "POST"])
def capture_list(request):
    form = CaptureRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            capture_id = capture_request(
                url=form.cleaned_data["url"],
                requested_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            form.add_error("url", exc.messages)
        else:
            messages.success(request, _("Capture demandée : elle démarre dans un instant."))
            return redirect("evidence:detail", capture_id=capture_id)
    captures = selectors.captures_of_user(user=request.user)[:100]
    return render(request, "evidence/portal_list.html", {"form": form, "captures": captures})


@login_required
@require_GET
def capture_detail(request, capture_id: int):
    capture = _own_capture(request, capture_id)
    capture_viewed(capture=capture, actor=request.user, where="portail")
    previous = (
        capture.previous
        if capture.previous and capture.previous.requested_by_id == request.user.pk
        else None
    )
    return render(
        request, "evidence/portal_detail.html", {"capture": capture, "previous": previous}
    )


@login_required
@require_GET
def capture_status(request, capture_id: int):
    capture = _own_capture(request, capture_id)
    return JsonResponse(
        {
            **selectors.capture_progress(capture=capture),
            "download_url": reverse("evidence:download", kwargs={"capture_id": capture.pk})
            if capture.status == Capture.Status.COMPLETE
            else None,
        }
    )


@login_required
@require_GET
def capture_download(request, capture_id: int):
    capture = _own_capture(request, capture_id)
    if capture.status != Capture.Status.COMPLETE:
        raise Http404(_("Lot de preuve indisponible."))
    response = _bundle_response(capture)
    capture_downloaded(capture=capture, actor=request.user, where="portail")
    return response


@require_GET
def share_open(request, token: str):
    link = selectors.share_link_from_token(token=token)
    if link is None:
        return render(request, "evidence/share_invalid.html", status=404)
    share_link_opened(link=link)
    return render(
        request, "evidence/share.html", {"link": link, "capture": link.capture, "token": token}
    )


@require_GET
def share_download(request, token: str):
    link = selectors.share_link_from_token(token=token)
    if link is None:
        return render(request, "evidence/share_invalid.html", status=404)
    response = _bundle_response(link.capture)
    share_link_downloaded(link=link)
    return response
