from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.two_factor import second_factor_reset


class Command(BaseCommand):
    help = (
        "Supprime l'application d'authentification et les codes de secours d'un compte "
        "(téléphone perdu) : il devra en enregistrer une nouvelle à sa prochaine connexion."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="adresse e-mail (identifiant) du compte")
        parser.add_argument(
            "--schema",
            default=get_public_schema_name(),
            help="schéma de l'assureur (par défaut : la plateforme)",
        )

    def handle(self, *args, email: str, schema: str, **options):
        with schema_context(schema):
            user = get_user_model().objects.filter(username=email.strip().lower()).first()
            if user is None:
                raise CommandError(f"Aucun compte {email} dans le schéma {schema}.")
            removed = second_factor_reset(user=user)
        self.stdout.write(f"{removed} dispositif(s) supprimé(s) pour {email} ({schema}).")
