from django.conf import settings
from django.core.management.base import BaseCommand

from tenants.demo import demo_seed


class Command(BaseCommand):
    help = "Crée (ou retrouve) les données de démonstration : plateforme et deux assureurs."

    def handle(self, *args, **options):
        for line in demo_seed(platform_domain=settings.PLATFORM_DOMAIN):
            self.stdout.write(line)
