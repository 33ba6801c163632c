"""``manage.py evidence_renew``: renew the timestamps of bundles whose renewal is due.

Every ready insurer, or one (``--schema``); every complete capture, or one (``--capture``).
Due: the last token's TSA certificate expires within EGIDE_EVIDENCE_RENEW_BEFORE_DAYS, or one of
its algorithms is listed in EGIDE_EVIDENCE_WEAK_ALGORITHMS. ``--force`` renews even when not
due, ``--dry-run`` only prints what would be renewed. The weekly job does the same.
Exit status 1 if a renewal failed (nothing is recorded for it; the next run retries).
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_tenant_model, tenant_context

from evidence.models import EvidenceRenewal
from evidence.renewal import captures_renew
from evidence.services.custody import COMMAND_ACTOR
from tenants.selectors import insurers_ready


class Command(BaseCommand):
    help = "Renouvelle l'horodatage des lots de preuve dont le renouvellement est dû."

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="schéma d'un seul assureur")
        parser.add_argument("--capture", type=int, help="n° d'une seule capture (avec --schema)")
        parser.add_argument("--force", action="store_true", help="renouveler même si non dû")
        parser.add_argument("--dry-run", action="store_true", help="afficher sans rien faire")

    def handle(self, *args, schema, capture, force, dry_run, **options):
        if capture is not None and not schema:
            raise CommandError("--capture demande --schema.")
        if schema:
            insurer = get_tenant_model().objects.filter(schema_name=schema).first()
            if insurer is None or schema == "public":
                raise CommandError(f"Assureur inconnu pour le schéma « {schema} ».")
            insurers = [insurer]
        else:
            insurers = list(insurers_ready().order_by("schema_name"))
        reasons = dict(EvidenceRenewal.Reason.choices)
        counts = {"renewed": 0, "planned": 0, "failed": 0, "not-due": 0}
        for insurer in insurers:
            with tenant_context(insurer):
                outcomes = captures_renew(
                    capture_id=capture, force=force, dry_run=dry_run, actor_label=COMMAND_ACTOR
                )
            for outcome in outcomes:
                counts[outcome.status] += 1
                where = f"{insurer.schema_name} capture n° {outcome.capture_id}"
                why = f"{reasons.get(outcome.reason, outcome.reason)} — {outcome.detail}"
                if outcome.status == "renewed" and outcome.renewal is not None:
                    self.stdout.write(
                        f"{where} : renouvelée (n° {outcome.renewal.seq}, "
                        f"horodatage du {outcome.renewal.gen_time:%Y-%m-%d %H:%M:%S} UTC). "
                        f"Motif : {why}"
                    )
                elif outcome.status == "planned":
                    self.stdout.write(f"{where} : à renouveler (simulation). Motif : {why}")
                elif outcome.status == "failed":
                    self.stderr.write(f"{where} : ÉCHEC du renouvellement : {outcome.detail}")
        self.stdout.write(
            f"{counts['renewed']} renouvelée(s), {counts['planned']} à renouveler (simulation), "
            f"{counts['not-due']} non due(s), {counts['failed']} en échec."
        )
        if counts["failed"]:
            sys.exit(1)
