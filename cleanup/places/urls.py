"""Doctor portal of the Google Maps (Places API) follow-up (namespace "places_reviews"),
mounted under /veille/google-maps/ by saas/urls_tenant.py."""

from django.urls import path

from cleanup.places import views

app_name = "places_reviews"

urlpatterns = [
    path("", views.index, name="index"),
    path("rechercher/", views.search, name="search"),
    path("suivre/", views.follow, name="follow"),
    path("fiche/<int:place_pk>/lire/", views.scan, name="scan"),
    path("fiche/<int:place_pk>/retirer/", views.unfollow, name="unfollow"),
]
