"""Claims handlers' evidence screens in the Wagtail admin: captures, their checks and custody,
download, sending a bundle to a recipient as an expiring link, and requesting a capture or a
re-capture with the same live progress as the doctor's portal.

Thin views over selectors and services. Viewing a capture's page, downloading its bundle and
sharing it are custody events; the checks are recomputed from the stored files on every view.
A re-capture creates a new capture: the earlier one is never rewritten.
"""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from evidence import selectors
from evidence.forms import CaptureRequestForm, ShareForm
from evidence.models import Capture
from evidence.renewal import renewals_zip
from evidence.services import requests as capture_requests
from evidence.services import sharing
from evidence.services.custody import capture_downloaded, capture_viewed

VIEW_PERMISSION = "evidence.view_capture"
DOWNLOAD_PERMISSION = "evidence.download_capture"
SHARE_PERMISSION = "evidence.share_capture"
# Asking for a capture records new evidence and rewrites none: the staff who review captures
# may ask for one (the claims handler role holds no evidence.add_capture).
REQUEST_PERMISSION = VIEW_PERMISSION


def permission_required(codename: str):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated or not request.user.has_perm(codename):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _capture(capture_id: int) -> Capture:
    capture = selectors.capture_detail(capture_id=capture_id)
    if capture is None:
        raise Http404(_("Capture introuvable."))
    return capture


@require_http_methods(["GET", "POST"])
@permission_required(VIEW_PERMISSION)
def capture_list(request):
    form = CaptureRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            capture_id = capture_requests.capture_request(
                url=form.cleaned_data["url"],
                requested_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            form.add_error("url", exc.messages)
        else:
            messages.success(request, _("Capture demandée : elle démarre dans un instant."))
            return redirect("evidence_admin:detail", capture_id=capture_id)
    captures = selectors.captures_all()[:200]
    return render(
        request,
        "evidence/admin_list.html",
        {
            "header_title": _("Preuves"),
            "page_title": _("Captures de preuve"),
            "header_icon": "doc-full",
            "captures": captures,
            "form": form,
        },
    )


@require_GET
@permission_required(VIEW_PERMISSION)
def capture_detail(request, capture_id: int):
    capture = _capture(capture_id)
    capture_viewed(capture=capture, actor=request.user, where="administration")
    verdicts = (
        selectors.capture_verdicts(capture=capture)
        if capture.status == Capture.Status.COMPLETE
        else []
    )
    return render(
        request,
        "evidence/admin_detail.html",
        {
            "header_title": _("Capture n° %(id)s") % {"id": capture.pk},
            "page_title": _("Capture n° %(id)s") % {"id": capture.pk},
            "header_icon": "doc-full",
            "capture": capture,
            "verdicts": verdicts,
            "all_ok": bool(verdicts) and all(v.ok for v in verdicts),
            "custody": selectors.custody_events(capture=capture).select_related("actor"),
            "custody_check": selectors.custody_chain_check(capture=capture),
            "share_form": ShareForm(),
            "share_links": capture.share_links.all(),
            "can_download": request.user.has_perm(DOWNLOAD_PERMISSION),
            "can_share": request.user.has_perm(SHARE_PERMISSION),
            "can_request": request.user.has_perm(REQUEST_PERMISSION),
        },
    )


@require_GET
@permission_required(VIEW_PERMISSION)
def capture_status(request, capture_id: int):
    """What the live progress bar polls (the admin twin of the portal's ``etat.json``)."""
    capture = _capture(capture_id)
    complete = capture.status == Capture.Status.COMPLETE
    return JsonResponse(
        {
            **selectors.capture_progress(capture=capture),
            "detail_url": reverse("evidence_admin:detail", kwargs={"capture_id": capture.pk}),
            "download_url": reverse("evidence_admin:download", kwargs={"capture_id": capture.pk})
            if complete and request.user.has_perm(DOWNLOAD_PERMISSION)
            else None,
        }
    )


@require_POST
@permission_required(REQUEST_PERMISSION)
def capture_recapture(request, capture_id: int):
    """Retry a failed capture, or capture a complete one's page again, as a new capture."""
    capture = _capture(capture_id)
    try:
        new_id = capture_requests.capture_recapture(
            capture_id=capture.pk,
            requested_by=request.user,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("evidence_admin:detail", capture_id=capture.pk)
    messages.success(
        request,
        _("Nouvelle capture n° %(id)s demandée : elle démarre dans un instant.") % {"id": new_id},
    )
    return redirect("evidence_admin:detail", capture_id=new_id)


@require_GET
@permission_required(VIEW_PERMISSION)
def capture_thumbnail(request, capture_id: int):
    png = selectors.capture_screenshot(capture=_capture(capture_id))
    if png is None:
        raise Http404(_("Capture d'écran indisponible."))
    return HttpResponse(png, content_type="image/png")


@require_GET
@permission_required(DOWNLOAD_PERMISSION)
def capture_download(request, capture_id: int):
    capture = _capture(capture_id)
    handle = selectors.bundle_open(capture=capture)
    if handle is None:
        raise Http404(_("Lot de preuve indisponible."))
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=selectors.bundle_filename(capture=capture),
        content_type="application/zip",
    )
    capture_downloaded(capture=capture, actor=request.user, where="administration")
    return response


@require_POST
@permission_required(SHARE_PERMISSION)
def capture_share(request, capture_id: int):
    capture = _capture(capture_id)
    form = ShareForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("evidence_admin:detail", capture_id=capture.pk)
    try:
        link = sharing.capture_share(
            capture=capture,
            recipient_email=form.cleaned_data["recipient_email"],
            expires_in=dt.timedelta(days=int(form.cleaned_data["days"])),
            shared_by=request.user,
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Lien envoyé à %(email)s, valable jusqu'au %(date)s.")
            % {
                "email": link.recipient_email,
                "date": timezone.localtime(link.expires_at).strftime("%d/%m/%Y %H:%M"),
            },
        )
    return redirect("evidence_admin:detail", capture_id=capture.pk)


@require_GET
@permission_required(DOWNLOAD_PERMISSION)
def capture_renewals_download(request, capture_id: int):
    """The bundle's timestamp renewal folder, as a ZIP (``<bundle>.renewals/``)."""
    capture = _capture(capture_id)
    packed = renewals_zip(capture=capture)
    if packed is None:
        raise Http404(_("Aucun renouvellement d'horodatage pour cette capture."))
    filename, content = packed
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    capture_downloaded(
        capture=capture, actor=request.user, where="administration (renouvellements)"
    )
    return response
