from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save
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
        from cover.claims import tasks  # noqa: F401  # lazy: app loading

        _dashboards_watch()


def _dashboards_watch() -> None:
    """Handlers' cached dashboards (``selectors.handler_dashboard``) follow every write of what
    they count, once it is committed: a signal, so that no write path can forget it."""
    from cover.claims.models import Claim, ClaimEvent  # lazy: app loading
    from cover.claims.selectors.claims import dashboards_invalidate  # lazy: app loading
    from evidence.models import Capture  # lazy: app loading

    def written(**kwargs: object) -> None:
        connection = transaction.get_connection()
        # once per transaction is enough, however many rows it writes
        if not any(entry[1] is dashboards_invalidate for entry in connection.run_on_commit):
            transaction.on_commit(dashboards_invalidate)

    for model in (Claim, ClaimEvent, Capture):
        for signal in (post_save, post_delete):
            signal.connect(
                written, sender=model, weak=False, dispatch_uid=f"claims-dashboard-{model.__name__}"
            )
