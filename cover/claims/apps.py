from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClaimsConfig(AppConfig):
    """Claims live in their own app (label ``claims``) so their migrations stay apart from the
    offer's; the code sits under ``cover/`` because claims are part of the guarantee."""

    name = "cover.claims"
    label = "claims"
    verbose_name = _("Sinistres")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Declare the actors in every process (web, worker, scheduler) once the broker exists.
        from cover.claims import tasks  # noqa: F401
