from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoverConfig(AppConfig):
    name = "cover"
    verbose_name = _("Garantie e-réputation")
