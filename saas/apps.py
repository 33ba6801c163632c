from django.apps import AppConfig

from saas.page_cache import signals_connect


class SaasConfig(AppConfig):
    """Project wiring. Listed first so the Dramatiq broker exists before any actor is declared."""

    name = "saas"
    verbose_name = "Égide"

    def ready(self) -> None:
        from saas.broker import broker_setup  # lazy: it imports models (needs the app registry)

        broker_setup()
        signals_connect()
