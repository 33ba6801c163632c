from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="OutboxMessage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("schema_name", models.CharField(max_length=63, verbose_name="schéma")),
                (
                    "key",
                    models.CharField(
                        help_text="Ex. evidence.capture:12", max_length=120, verbose_name="clé"
                    ),
                ),
                ("actor_name", models.CharField(max_length=120, verbose_name="tâche")),
                ("queue_name", models.CharField(max_length=60, verbose_name="file")),
                ("kwargs", models.JSONField(default=dict, verbose_name="arguments")),
                (
                    "status",
                    models.CharField(
                        choices=[("pending", "À envoyer"), ("sent", "Envoyé"), ("done", "Traité")],
                        default="pending",
                        max_length=10,
                        verbose_name="état",
                    ),
                ),
                (
                    "message_id",
                    models.CharField(blank=True, max_length=64, verbose_name="dernier message"),
                ),
                ("sends", models.PositiveIntegerField(default=0, verbose_name="envois")),
                (
                    "last_error",
                    models.TextField(blank=True, verbose_name="dernière erreur d'envoi"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="créé le")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="envoyé le")),
                ("done_at", models.DateTimeField(blank=True, null=True, verbose_name="traité le")),
                (
                    "lease_message_id",
                    models.CharField(blank=True, max_length=64, verbose_name="message en cours"),
                ),
                (
                    "heartbeat_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="dernier signe de vie"),
                ),
            ],
            options={
                "verbose_name": "travail en attente d'envoi",
                "verbose_name_plural": "travaux en attente d'envoi",
                "indexes": [
                    models.Index(fields=["status", "queue_name", "id"], name="outbox_status_q")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("schema_name", "key"), name="outbox_schema_key_uniq"
                    )
                ],
            },
        ),
    ]
