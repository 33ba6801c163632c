from django.apps import AppConfig


class SaasConfig(AppConfig):
    """Project wiring. Listed first so the Dramatiq broker exists before any actor is declared."""

    name = "saas"
    verbose_name = "Égide"

    def ready(self) -> None:
        from saas.broker import broker_setup

        broker_setup()

        from saas.page_cache import signals_connect

        signals_connect()
