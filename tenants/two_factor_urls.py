"""Two-factor pages, included at ``compte/double-authentification/`` on every host."""

from django.urls import path

from tenants import two_factor_views

app_name = "two_factor"

urlpatterns = [
    path("", two_factor_views.verify, name="verify"),
    path("activer/", two_factor_views.enrol, name="enrol"),
    path("codes-de-secours/", two_factor_views.codes, name="codes"),
    path("codes-de-secours/renouveler/", two_factor_views.codes_renew, name="codes_renew"),
    path("deconnexion/", two_factor_views.sign_out, name="logout"),
]
