from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Installed only for its template filters (``{% load egide_format %}``); no models."""

    name = "common"
    verbose_name = "Égide (commun)"
