"""The insurer's custody log (``CustodyLogEntry``): table, append-only trigger, and the events
recorded before it existed, appended in the order they happened."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "evidence_custodylogentry"

# The function lives in the public schema (one for every insurer); each tenant table has its
# trigger. Cloned tenant schemas get the trigger with the table (django-tenants' clone copies
# triggers and keeps a public function qualified as such).
GUARD_SQL = f"""
CREATE OR REPLACE FUNCTION public.evidence_custody_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'journal de possession en ajout seul : % refusé sur %.%',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER evidence_custody_log_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION public.evidence_custody_log_append_only();
CREATE TRIGGER evidence_custody_log_no_truncate
    BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION public.evidence_custody_log_append_only();
"""

UNGUARD_SQL = f"""
DROP TRIGGER IF EXISTS evidence_custody_log_no_truncate ON {TABLE};
DROP TRIGGER IF EXISTS evidence_custody_log_append_only ON {TABLE};
"""


def backfill(apps, schema_editor):
    """Append the capture events recorded so far, oldest first (none in a new schema)."""
    from evidence.custody_log import custody_log_genesis, custody_log_hash, custody_log_payload

    CustodyEvent = apps.get_model("evidence", "CustodyEvent")
    CustodyLogEntry = apps.get_model("evidence", "CustodyLogEntry")
    if CustodyLogEntry.objects.exists():
        return
    previous = custody_log_genesis(schema_name=schema_editor.connection.schema_name)
    batch = []
    for seq, event in enumerate(
        CustodyEvent.objects.order_by("at", "capture_id", "seq").iterator(), start=1
    ):
        entry = CustodyLogEntry(
            seq=seq,
            at=event.at,
            kind=event.kind,
            capture_id=event.capture_id,
            capture_seq=event.seq,
            event_hash=event.hash,
            actor_id=event.actor_id,
            actor_label=event.actor_label,
            detail=event.detail,
            prev_hash=previous,
        )
        entry.hash = custody_log_hash(custody_log_payload(entry))
        previous = entry.hash
        batch.append(entry)
        if len(batch) >= 1000:
            CustodyLogEntry.objects.bulk_create(batch)
            batch = []
    CustodyLogEntry.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0004_renewal"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CustodyLogEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.PositiveBigIntegerField(unique=True, verbose_name="maillon n°")),
                ("at", models.DateTimeField(verbose_name="date")),
                ("kind", models.CharField(max_length=30, verbose_name="événement")),
                (
                    "capture_seq",
                    models.PositiveIntegerField(
                        null=True, verbose_name="n° dans la chaîne de la capture"
                    ),
                ),
                (
                    "event_hash",
                    models.CharField(
                        blank=True, max_length=64, verbose_name="empreinte de l'événement"
                    ),
                ),
                ("actor_label", models.CharField(max_length=254, verbose_name="acteur")),
                ("detail", models.JSONField(blank=True, default=dict, verbose_name="détails")),
                ("prev_hash", models.CharField(max_length=64, verbose_name="empreinte précédente")),
                ("hash", models.CharField(max_length=64, verbose_name="empreinte")),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="utilisateur",
                    ),
                ),
                (
                    "capture",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="evidence.capture",
                        verbose_name="capture",
                    ),
                ),
            ],
            options={
                "verbose_name": "maillon du journal de possession",
                "verbose_name_plural": "journal de possession",
                "ordering": ["-seq"],
                "indexes": [
                    models.Index(
                        fields=["capture", "capture_seq"], name="evidence_cu_capture_72743e_idx"
                    )
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunSQL(GUARD_SQL, UNGUARD_SQL),
    ]
