# Evidence renewals (issue 12.3): the renewal chain of a bundle's timestamp, and the custody
# event kind « Horodatage renouvelé ».
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("evidence", "0003_storage_retention")]

    operations = [
        migrations.AlterField(
            model_name="custodyevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("requested", "Demandée"),
                    ("started", "Commencée"),
                    ("completed", "Terminée"),
                    ("failed", "Échec"),
                    ("viewed", "Consultée"),
                    ("downloaded", "Téléchargée"),
                    ("shared", "Envoyée par lien"),
                    ("link-opened", "Lien ouvert"),
                    ("renewed", "Horodatage renouvelé"),
                ],
                max_length=20,
                verbose_name="événement",
            ),
        ),
        migrations.CreateModel(
            name="EvidenceRenewal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.PositiveIntegerField(verbose_name="n°")),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("tsa-expiry", "Certificat de l'autorité d'horodatage bientôt expiré"),
                            ("weak-algorithm", "Algorithme affaibli"),
                            ("forced", "Renouvellement demandé"),
                        ],
                        max_length=20,
                        verbose_name="motif",
                    ),
                ),
                ("detail", models.TextField(blank=True, verbose_name="précisions")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="créé le")),
                (
                    "record_name",
                    models.CharField(max_length=300, verbose_name="fichier du renouvellement"),
                ),
                ("token_name", models.CharField(max_length=300, verbose_name="jeton d'horodatage")),
                (
                    "tsa_cert_name",
                    models.CharField(max_length=300, verbose_name="certificat de l'autorité"),
                ),
                (
                    "tsa_ca_name",
                    models.CharField(
                        max_length=300, verbose_name="certificat racine de l'autorité"
                    ),
                ),
                (
                    "record_sha256",
                    models.CharField(max_length=64, verbose_name="empreinte du fichier"),
                ),
                (
                    "hash_algorithm",
                    models.CharField(max_length=10, verbose_name="algorithme d'empreinte"),
                ),
                ("gen_time", models.DateTimeField(verbose_name="date de l'horodatage")),
                (
                    "tsa_not_after",
                    models.DateTimeField(
                        verbose_name="fin de validité du certificat de l'autorité"
                    ),
                ),
                (
                    "capture",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="renewals",
                        to="evidence.capture",
                    ),
                ),
            ],
            options={
                "verbose_name": "renouvellement d'horodatage",
                "verbose_name_plural": "renouvellements d'horodatage",
                "ordering": ["capture", "seq"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("capture", "seq"), name="evidence_renewal_seq_unique"
                    )
                ],
            },
        ),
    ]
