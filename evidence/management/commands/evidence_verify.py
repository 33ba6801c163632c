"""``manage.py evidence_verify <bundle.zip>``: every check of EVIDENCE.md, one verdict per line.

Exit status 0 only if every check passes. Needs no database row: it reads the file alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from evidence.verify import bundle_verdicts_ok, bundle_verify


class Command(BaseCommand):
    help = "Vérifie un lot de preuve (ZIP) : un verdict par contrôle, code 0 si tout est conforme."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("bundle", type=Path)

    def handle(self, *args, bundle: Path, **options):
        if not bundle.is_file():
            raise CommandError(f"Fichier introuvable : {bundle}")
        verdicts = bundle_verify(zip_path=bundle)
        for verdict in verdicts:
            self.stdout.write(
                f"{'ok' if verdict.ok else 'ÉCHEC'} {verdict.name} : {verdict.detail}"
            )
        ok = bundle_verdicts_ok(verdicts=verdicts)
        self.stdout.write("Lot conforme." if ok else "Lot NON conforme.")
        if not ok:
            sys.exit(1)
