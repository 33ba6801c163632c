from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesReviewsConfig(AppConfig):
    name = "cleanup.places"
    label = "places_reviews"
    verbose_name = _("Avis Google Maps (Places API)")
    default_auto_field = "django.db.models.BigAutoField"
