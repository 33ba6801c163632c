"""``manage.py evidence_keys_rotate``: re-wrap every seal's data key under the current master key.

Rotation, step by step: configure the new master key as ``EGIDE_MASTER_KEY_FILE`` and the old
one in ``EGIDE_MASTER_KEY_PREVIOUS_FILES``, run this command (every insurer, suspended ones
included), then remove the old key. Certificates, key ciphertexts and bundles do not change.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from common.keys import MasterKeyError, SealKeyDecryptError, master_key_current
from evidence.seals import seal_keys_rewrap
from tenants.db import connection
from tenants.models import Insurer


class Command(BaseCommand):
    help = (
        "Rechiffre la clé de données de chaque cachet, pour chaque assureur, avec la clé "
        "maîtresse actuelle (sans changer les certificats ni les lots)."
    )

    def handle(self, *args, **options):
        try:
            current = master_key_current()
        except MasterKeyError as exc:
            raise CommandError(str(exc)) from exc
        rewrapped_total = current_total = 0
        for insurer in Insurer.objects.exclude(schema_name="public").order_by("schema_name"):
            with tenant_context(insurer):
                if "evidence_sealkey" not in connection.introspection.table_names():
                    self.stdout.write(f"{insurer.schema_name} : schéma sans cachet, ignoré")
                    continue
                try:
                    rewrapped, already = seal_keys_rewrap()
                except (MasterKeyError, SealKeyDecryptError) as exc:
                    raise CommandError(f"{insurer.schema_name} : {exc}") from exc
            rewrapped_total += rewrapped
            current_total += already
            self.stdout.write(
                f"{insurer.schema_name} : {rewrapped} clé(s) rechiffrée(s), "
                f"{already} déjà sous la clé maîtresse actuelle"
            )
        self.stdout.write(
            f"Clé maîtresse {current.key_id} : {rewrapped_total} clé(s) rechiffrée(s), "
            f"{current_total} déjà à jour."
        )
