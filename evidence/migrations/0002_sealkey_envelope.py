# Seal private keys encrypted at rest (common.keys): new encrypted fields, the existing keys of
# this schema encrypted in place, then the clear-text column dropped. Runs once per tenant
# schema (django-tenants): the associated data names the schema of the connection.
# Irreversible on purpose: going back would write the private keys in clear again.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from common.keys import seal_key_context, seal_key_encrypt


def seal_keys_encrypt(apps, schema_editor):
    SealKey = apps.get_model("evidence", "SealKey")
    schema_name = getattr(schema_editor.connection, "schema_name", "public")
    for seal in SealKey.objects.all().only("pk", "key_pem"):
        encrypted = seal_key_encrypt(
            key_pem=seal.key_pem.encode("ascii"),
            context=seal_key_context(schema_name=schema_name, seal_id=seal.pk),
        )
        SealKey.objects.filter(pk=seal.pk).update(
            key_ciphertext=encrypted.key_ciphertext,
            data_key_wrapped=encrypted.data_key_wrapped,
            master_key_id=encrypted.master_key_id,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="sealkey",
            name="origin",
            field=models.CharField(
                choices=[
                    ("platform", "délivré par la plateforme"),
                    ("imported", "cachet qualifié importé"),
                ],
                default="platform",
                max_length=10,
                verbose_name="origine",
            ),
        ),
        migrations.AddField(
            model_name="sealkey",
            name="key_ciphertext",
            field=models.BinaryField(default=b"", verbose_name="clé privée chiffrée"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="sealkey",
            name="data_key_wrapped",
            field=models.BinaryField(
                default=b"", verbose_name="clé de données chiffrée par la clé maîtresse"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="sealkey",
            name="master_key_id",
            field=models.CharField(
                default="", max_length=16, verbose_name="identifiant de la clé maîtresse"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(seal_keys_encrypt, elidable=False),
        migrations.RemoveField(model_name="sealkey", name="key_pem"),
        migrations.AddField(
            model_name="sealkey",
            name="imported_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="importé par",
            ),
        ),
        migrations.AlterField(
            model_name="sealkey",
            name="ca_cert_pem",
            field=models.TextField(
                help_text="Certificats intermédiaires puis racine, à qui se fier pour vérifier.",
                verbose_name="chaîne de l'autorité du cachet (PEM)",
            ),
        ),
        migrations.AlterModelOptions(
            name="sealkey",
            options={
                "ordering": ["-created_at", "-pk"],
                "verbose_name": "clé de cachet",
                "verbose_name_plural": "clés de cachet",
            },
        ),
    ]
