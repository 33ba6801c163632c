from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from tenants.selectors import insurers_ready
from tenants.services import roles_apply


class Command(BaseCommand):
    help = "Réapplique les rôles (groupes et permissions) de tenants.roles à chaque assureur."

    def handle(self, *args, **options):
        for insurer in insurers_ready():
            with tenant_context(insurer):
                roles_apply()
            self.stdout.write(f"{insurer.schema_name} : rôles à jour")
