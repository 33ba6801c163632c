from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants.services import template_schema_ensure


class Command(BaseCommand):
    help = "Migre le schéma public, le schéma modèle des assureurs, puis chaque assureur."

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        template_schema_ensure(verbosity=verbosity)
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=verbosity)
