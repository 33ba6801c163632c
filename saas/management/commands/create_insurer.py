from django.core.management.base import BaseCommand, CommandError

from saas.onboarding import insurer_onboard
from tenants.services import OnboardingError


class Command(BaseCommand):
    help = "Crée un assureur (schéma, domaine, site Wagtail, rôles, compte administrateur)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--domain", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--schema", default=None)

    def handle(self, *args, **options):
        try:
            insurer = insurer_onboard(
                name=options["name"],
                domain=options["domain"],
                admin_email=options["admin_email"],
                schema_name=options["schema"],
            )
        except OnboardingError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Assureur « {insurer.name} » prêt (schéma {insurer.schema_name}) ; "
                f"invitation envoyée à {options['admin_email']}."
            )
        )
