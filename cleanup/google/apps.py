from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GoogleReviewsConfig(AppConfig):
    name = "cleanup.google"
    label = "google_reviews"
    verbose_name = _("Avis Google Business Profile")
    default_auto_field = "django.db.models.BigAutoField"
