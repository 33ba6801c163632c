"""``manage.py evidence_custody_verify [--schema S]``: recompute every insurer's custody log and
every capture's chain of custody; report the first broken link.

Exit status 0 only if every chain checked is intact, 1 otherwise (2 for an unknown schema).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, get_tenant_model, tenant_context

from evidence.custody_log import custody_log_verify


class Command(BaseCommand):
    help = (
        "Vérifie le journal de possession de chaque assureur (ou de --schema) et les chaînes "
        "de possession de ses captures : code 0 si tout est intact, 1 sinon."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Schéma de l'assureur à vérifier (tous sinon).")

    def handle(self, *args, schema: str | None = None, **options):
        insurers = get_tenant_model().objects.exclude(schema_name=get_public_schema_name())
        if schema:
            insurers = insurers.filter(schema_name=schema)
            if not insurers.exists():
                raise CommandError(f"Assureur introuvable : schéma « {schema} ».", returncode=2)
        broken: list[str] = []
        for insurer in insurers.order_by("schema_name"):
            with tenant_context(insurer):
                result = custody_log_verify()
            for line in result.lines():
                self.stdout.write(f"{insurer.schema_name} : {line}")
            if not result.ok:
                broken.append(insurer.schema_name)
        if broken:
            raise CommandError(f"Chaîne de possession rompue : {', '.join(broken)}.", returncode=1)
        self.stdout.write("Toutes les chaînes de possession sont intactes.")
