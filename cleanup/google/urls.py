"""Doctor portal of the Google Business Profile link (namespace "google_reviews"), mounted
under /veille/google/ by saas/urls_tenant.py."""

from django.urls import path

from cleanup.google import views

app_name = "google_reviews"

urlpatterns = [
    path("", views.index, name="index"),
    path("connecter/", views.connect, name="connect"),
    path("retour/", views.callback, name="callback"),
    path("deconnecter/", views.disconnect, name="disconnect"),
    path("lire/", views.scan, name="scan"),
    path("avis/<int:review_id>/reponse/", views.reply, name="reply"),
]
