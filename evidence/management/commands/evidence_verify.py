"""``manage.py evidence_verify <bundle.zip> [--renewals PATH] [--at ISO]``: every check of
EVIDENCE.md, one verdict per line, plus the timestamp renewal chain when there is one.

The renewals are ``--renewals`` (folder or ZIP), else ``<zip stem>.renewals`` next to the bundle.
``--at`` is the instant at which the last token must be valid (default: now). Exit status 0 only
if every check passes. Needs no database row: it reads the files alone.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from evidence.verify import bundle_verdicts_ok, bundle_verify


class Command(BaseCommand):
    help = "Vérifie un lot de preuve (ZIP) et ses renouvellements : un verdict par contrôle."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("bundle", type=Path)
        parser.add_argument("--renewals", type=Path, help="dossier (ou ZIP) des renouvellements")
        parser.add_argument("--at", help="instant de vérification du dernier jeton (ISO 8601)")

    def handle(self, *args, bundle: Path, renewals: Path | None, at: str | None, **options):
        if not bundle.is_file():
            raise CommandError(f"Fichier introuvable : {bundle}")
        if renewals is not None and not renewals.exists():
            raise CommandError(f"Renouvellements introuvables : {renewals}")
        moment = None
        if at:
            try:
                moment = dt.datetime.fromisoformat(at)
            except ValueError as exc:
                raise CommandError(f"Date invalide pour --at : {at}") from exc
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
        verdicts = bundle_verify(zip_path=bundle, renewals=renewals, at=moment)
        for verdict in verdicts:
            self.stdout.write(
                f"{'ok' if verdict.ok else 'ÉCHEC'} {verdict.name} : {verdict.detail}"
            )
        ok = bundle_verdicts_ok(verdicts=verdicts)
        self.stdout.write("Lot conforme." if ok else "Lot NON conforme.")
        if not ok:
            sys.exit(1)
