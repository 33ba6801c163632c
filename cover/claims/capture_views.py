"""A claim's captures, seen from the claim: the doctor's « Captures » section (live progress,
thumbnail, « Nouvelle capture »), and the comparison of two captures of the same address with
its PDF annex, for the doctor (portal) and for handlers (Wagtail admin).

Thin: every read goes through ``cover.claims.selectors``, filtered on the signed-in doctor
(another doctor's claim, or a capture of another claim, is a 404 like a missing one); every
write through ``cover.claims.services``. Bundles are read through the storage API.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cover.claims.admin_views import handler_required
from cover.claims.models import Claim
from cover.claims.selectors.captures import (
    claim_capture,
    claim_captures_annex_pdf,
    claim_captures_comparison,
)
from cover.claims.selectors.claims import claim_of_doctor
from cover.claims.services.captures import claim_capture_request, claim_captures_consulted
from cover.claims.services.common import ClaimActionRefused
from cover.selectors import doctor_for_user
from evidence.compare import (
    SCREENSHOT_MEMBER,
    BundleUnreadable,
    bundle_members_read,
    screenshot_reduced,
    side_reduced,
)
from evidence.models import Capture
from evidence.selectors import capture_progress

THUMBNAIL_WIDTH = 480


def _doctor_claim(request, pk: int) -> Claim:
    return claim_of_doctor(doctor=doctor_for_user(user=request.user), pk=pk)


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _pair(request) -> tuple[int, int]:
    try:
        return int(request.GET.get("a", "")), int(request.GET.get("b", ""))
    except ValueError as exc:
        raise Http404 from exc


def _thumbnail(capture) -> HttpResponse:
    if capture.status != Capture.Status.COMPLETE:
        raise Http404(_("Capture d'écran indisponible."))
    try:
        members = bundle_members_read(capture=capture, suffixes=[SCREENSHOT_MEMBER])
    except BundleUnreadable as exc:
        raise Http404(exc.message) from exc
    png = screenshot_reduced(members.get(SCREENSHOT_MEMBER), width=THUMBNAIL_WIDTH)
    if png is None:
        raise Http404(_("Capture d'écran indisponible."))
    return _private(HttpResponse(png, content_type="image/png"))


# --------------------------------------------------------------------------------------------
# Doctor's portal
# --------------------------------------------------------------------------------------------


@login_required
@require_POST
def capture_new(request, pk: int):
    """« Nouvelle capture »: one of the claim's addresses, or another one. A second click while
    the first capture of that address is queued or running queues nothing (service guard);
    the per-claim hourly limit refuses with a French message and creates nothing."""
    claim = _doctor_claim(request, pk)
    url = (request.POST.get("other_url") or "").strip() or request.POST.get("url", "")
    try:
        capture_id = claim_capture_request(claim=claim, by=request.user, url=url)
    except ClaimActionRefused as exc:
        for reason in exc.reasons:
            messages.error(request, reason)
    else:
        messages.success(
            request,
            _("Capture n° %(id)s demandée : elle démarre dans un instant.") % {"id": capture_id},
        )
    return redirect(reverse("claims:detail", kwargs={"pk": claim.pk}) + "#captures")


@login_required
@require_GET
def capture_status(request, pk: int, capture_id: int):
    """What the live progress bar of the claim page polls (any capture of the doctor's claim,
    including those the insurer requested)."""
    claim = _doctor_claim(request, pk)
    capture = claim_capture(claim=claim, capture_id=capture_id)
    complete = capture.status == Capture.Status.COMPLETE
    return _private(
        JsonResponse(
            {
                **capture_progress(capture=capture),
                "image_url": reverse(
                    "claims:capture_image", kwargs={"pk": claim.pk, "capture_id": capture.pk}
                )
                if complete
                else None,
            }
        )
    )


@login_required
@require_GET
def capture_image(request, pk: int, capture_id: int):
    """The first screen of a complete capture of the doctor's claim, reduced, read out of the
    bundle itself."""
    claim = _doctor_claim(request, pk)
    return _thumbnail(claim_capture(claim=claim, capture_id=capture_id))


def _compare(request, claim: Claim, *, where: str):
    first_id, second_id = _pair(request)
    try:
        comparison = claim_captures_comparison(claim=claim, first_id=first_id, second_id=second_id)
    except (ValueError, BundleUnreadable) as exc:
        messages.error(request, exc.message if isinstance(exc, BundleUnreadable) else str(exc))
        return None
    claim_captures_consulted(
        claim=claim, capture_ids=[first_id, second_id], by=request.user, where=where
    )
    return comparison


def _annex_response(claim: Claim, comparison) -> HttpResponse:
    pdf = claim_captures_annex_pdf(claim=claim, comparison=comparison)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = (
        f"annexe-{claim.reference}-captures-"
        f"{comparison.first.capture_id}-{comparison.second.capture_id}.pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _private(response)


def _page_context(claim: Claim, comparison, *, annex_url: str) -> dict:
    return {
        "claim": claim,
        "comparison": comparison,
        "sides": [
            (
                comparison.first,
                side_reduced(comparison.first).screenshot_data_uri,
                _("Première capture"),
            ),
            (
                comparison.second,
                side_reduced(comparison.second).screenshot_data_uri,
                _("Seconde capture"),
            ),
        ],
        "annex_url": annex_url,
        "pair_query": f"?a={comparison.first.capture_id}&b={comparison.second.capture_id}",
    }


@login_required
@require_GET
def captures_compare(request, pk: int):
    claim = _doctor_claim(request, pk)
    comparison = _compare(request, claim, where="portail, comparaison")
    if comparison is None:
        return redirect(reverse("claims:detail", kwargs={"pk": claim.pk}) + "#captures")
    return render(
        request,
        "claims/portal/captures_compare.html",
        _page_context(
            claim,
            comparison,
            annex_url=reverse("claims:captures_annex", kwargs={"pk": claim.pk}),
        ),
    )


@login_required
@require_GET
def captures_annex(request, pk: int):
    claim = _doctor_claim(request, pk)
    comparison = _compare(request, claim, where="portail, annexe de comparaison")
    if comparison is None:
        return redirect(reverse("claims:detail", kwargs={"pk": claim.pk}) + "#captures")
    return _annex_response(claim, comparison)


# --------------------------------------------------------------------------------------------
# Handlers (Wagtail admin)
# --------------------------------------------------------------------------------------------


def _handler_claim(pk: int) -> Claim:
    return get_object_or_404(Claim.objects.prefetch_related("passages", "events"), pk=pk)


@handler_required
@require_GET
def admin_captures_compare(request, pk: int):
    claim = _handler_claim(pk)
    comparison = _compare(request, claim, where="administration, comparaison")
    if comparison is None:
        return redirect(reverse("claims_admin:detail", kwargs={"pk": claim.pk}) + "#evidence")
    context = _page_context(
        claim,
        comparison,
        annex_url=reverse("claims_admin:captures_annex", kwargs={"pk": claim.pk}),
    )
    title = _("Comparaison des captures n° %(a)s et n° %(b)s") % {
        "a": comparison.first.capture_id,
        "b": comparison.second.capture_id,
    }
    context.update({"header_title": title, "page_title": title, "header_icon": "doc-full"})
    return render(request, "claims/admin/captures_compare.html", context)


@handler_required
@require_GET
def admin_captures_annex(request, pk: int):
    claim = _handler_claim(pk)
    comparison = _compare(request, claim, where="administration, annexe de comparaison")
    if comparison is None:
        return redirect(reverse("claims_admin:detail", kwargs={"pk": claim.pk}) + "#evidence")
    return _annex_response(claim, comparison)
