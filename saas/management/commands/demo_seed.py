from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from saas.demo import demo_seed
from saas.embedded.review_site import demo_reviews_running


class Command(BaseCommand):
    help = "Crée (ou retrouve) les données de démonstration : plateforme et deux assureurs."

    def handle(self, *args, **options):
        # The seed creates Stripe accounts and subscriptions: the local stand-in must answer
        # before the Procfile starts it (nothing happens against real Stripe).
        # Likewise the demo review site, which the monitoring baseline reads once.
        try:
            from devtools.stripe_standin.demo import stripe_local_running  # lazy: optional
        except ImportError as exc:  # the production image leaves devtools/ out
            raise CommandError(
                "Les données de démonstration ont besoin des outils de développement "
                "(dossier devtools/), absents de cette installation."
            ) from exc
        with stripe_local_running(), demo_reviews_running():
            lines = demo_seed(platform_domain=settings.PLATFORM_DOMAIN)
        for line in lines:
            self.stdout.write(line)
