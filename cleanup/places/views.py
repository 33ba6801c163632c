"""Doctor portal pages of the Google Maps follow-up (under /veille/google-maps/).

Thin: every place is looked up through the logged-in doctor, so another doctor's id gives a
404; staff (who have no doctor record) get a 403, like the Google Business Profile pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cleanup.charts import line_chart_svg
from cleanup.places import services
from cleanup.places.models import FollowedPlace, PlacesSettings
from cover.models import Doctor
from cover.selectors import doctor_for_user


def _doctor(request: HttpRequest) -> Doctor:
    doctor = doctor_for_user(user=request.user)
    if doctor is None:
        raise PermissionDenied(_("Cet espace est réservé aux médecins assurés."))
    return doctor


def _place(doctor: Doctor, place_pk: int) -> FollowedPlace:
    return get_object_or_404(FollowedPlace, pk=place_pk, doctor=doctor)


def _enabled() -> bool:
    conf = PlacesSettings.objects.filter(site__is_default_site=True).first()
    return conf is not None and conf.configured


def _context(doctor: Doctor, **extra: object) -> dict[str, object]:
    places = []
    for place in FollowedPlace.objects.filter(doctor=doctor).prefetch_related("rating_points"):
        points = list(place.rating_points.all())
        reviews = place.reviews.filter(content_purged_at__isnull=True).order_by(
            "-last_seen", "-publish_time", "-pk"
        )
        places.append(
            {
                "place": place,
                "reviews": list(reviews),
                "rating_chart": line_chart_svg(
                    title=_("Note Google Maps (sur 5)"),
                    series=[(_("Note"), [(p.at, p.rating) for p in points])],
                    y_min=0,
                    y_max=5,
                    empty_text=_("Pas encore de relevé"),
                ),
                "count_chart": line_chart_svg(
                    title=_("Nombre d'avis Google Maps"),
                    series=[
                        (
                            _("Avis"),
                            [
                                (p.at, float(p.count) if p.count is not None else None)
                                for p in points
                            ],
                        )
                    ],  # fmt: skip
                    y_min=0,
                    empty_text=_("Pas encore de relevé"),
                ),
            }
        )
    return {"places": places, "enabled": _enabled(), **extra}


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    doctor = _doctor(request)
    return render(request, "places_reviews/index.html", _context(doctor))


@login_required
@require_POST
def search(request: HttpRequest) -> HttpResponse:
    """POST (with its CSRF token): each search is billed to the insurer, another site must not
    be able to trigger one from the doctor's browser."""
    doctor = _doctor(request)
    name = request.POST.get("nom", "")
    address = request.POST.get("adresse", "")
    candidates: list[services.PlaceCandidate] = []
    try:
        candidates = services.places_search(name=name, address=address)
    except services.PlacesError as exc:
        messages.error(request, str(exc))
    followed = set(FollowedPlace.objects.filter(doctor=doctor).values_list("place_id", flat=True))
    return render(
        request,
        "places_reviews/index.html",
        _context(
            doctor,
            searched=True,
            candidates=candidates,
            followed_ids=followed,
            query_name=name,
            query_address=address,
        ),
    )


@login_required
@require_POST
def follow(request: HttpRequest) -> HttpResponse:
    doctor = _doctor(request)
    try:
        place = services.place_follow(doctor=doctor, place_id=request.POST.get("place_id", ""))
    except services.PlacesError as exc:
        messages.error(request, str(exc))
        return redirect("places_reviews:index")
    messages.success(
        request,
        _("Fiche « %(name)s » suivie : lancez une première lecture.") % {"name": place},
    )
    return redirect("places_reviews:index")


@login_required
@require_POST
def scan(request: HttpRequest, place_pk: int) -> HttpResponse:
    doctor = _doctor(request)
    place = _place(doctor, place_pk)
    try:
        result = services.place_scan(place=place)
    except services.PlacesError as exc:
        services.place_scan_record_error(place=place, error=exc)
        messages.error(request, str(exc))
        return redirect("places_reviews:index")
    messages.success(
        request,
        _(
            "Fiche relue : note %(rating)s, %(count)s avis ; %(new)s nouvel(s) avis, "
            "%(edited)s modifié(s) parmi les %(reviews)s affichés par Google."
        )
        % {
            "rating": result.rating if result.rating is not None else "—",
            "count": result.count if result.count is not None else "—",
            "new": result.new,
            "edited": result.edited,
            "reviews": result.reviews,
        },
    )
    return redirect("places_reviews:index")


@login_required
@require_POST
def unfollow(request: HttpRequest, place_pk: int) -> HttpResponse:
    doctor = _doctor(request)
    place = _place(doctor, place_pk)
    services.place_unfollow(place=place)
    messages.success(request, _("Fiche retirée de votre suivi."))
    return redirect("places_reviews:index")
