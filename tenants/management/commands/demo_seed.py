from django.conf import settings
from django.core.management.base import BaseCommand

from saas.embedded.review_site import demo_reviews_running
from saas.stripe import stripe_local_running
from tenants.demo import demo_seed


class Command(BaseCommand):
    help = "Crée (ou retrouve) les données de démonstration : plateforme et deux assureurs."

    def handle(self, *args, **options):
        # The seed creates Stripe accounts and subscriptions: the local stand-in must answer
        # before the Procfile starts it (nothing happens against real Stripe).
        # Likewise the demo review site, which the monitoring baseline reads once.
        with stripe_local_running(), demo_reviews_running():
            lines = demo_seed(platform_domain=settings.PLATFORM_DOMAIN)
        for line in lines:
            self.stdout.write(line)
