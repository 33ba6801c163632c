"""``manage.py evidence_storage_check``: is the evidence storage really write-once?

With ``EGIDE_EVIDENCE_STORAGE=s3``: the bucket must exist, have Object Lock enabled and
versioning on; each point is printed in French, and the exit status is 1 when one fails.
With the filesystem backend: says where bundles go and that only the application protects them.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from evidence.storage_s3 import evidence_bucket_check


class Command(BaseCommand):
    help = (
        "Vérifie que le stockage des lots de preuve est en écriture unique "
        "(S3 : Object Lock et gestion des versions activés)."
    )

    def handle(self, *args, **options):
        kind = settings.EGIDE_EVIDENCE_STORAGE
        if kind == "filesystem":
            self._filesystem()
            return
        if kind != "s3":
            raise CommandError(
                f"EGIDE_EVIDENCE_STORAGE={kind!r} : valeurs possibles « filesystem » ou « s3 »."
            )
        try:
            checks = evidence_bucket_check()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        for check in checks:
            self.stdout.write(f"{'ok' if check.ok else 'ÉCHEC'} {check.message}")
        if not all(check.ok for check in checks):
            raise CommandError(
                "Stockage S3 des preuves non conforme : les lots ne seraient pas protégés "
                "contre la suppression. Corrigez le compartiment avant d'y écrire des preuves."
            )
        self.stdout.write(self.style.SUCCESS("Stockage des preuves conforme (écriture unique)."))

    def _filesystem(self) -> None:
        root = Path(settings.EGIDE_EVIDENCE_ROOT)
        if root.exists() and not os.access(root, os.W_OK):
            raise CommandError(f"Dossier des preuves non accessible en écriture : {root}")
        self.stdout.write(
            f"ok Stockage local : {root}/<schéma>/ (fichiers en lecture seule, suppression "
            "refusée par l'application)."
        )
        self.stdout.write(
            "Attention : sur disque local, seul Égide protège les lots ; un administrateur du "
            "serveur pourrait les modifier. En production, utilisez EGIDE_EVIDENCE_STORAGE=s3 "
            "avec un compartiment à verrouillage d'objets (Object Lock)."
        )
