# Branding's site style (typography and layout) and the policy statuses worded for « contrat ».

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cover", "0007_insurer_legal_info"),
    ]

    operations = [
        migrations.AddField(
            model_name="branding",
            name="site_style",
            field=models.CharField(
                choices=[
                    ("modern", "Moderne : caractères sans empattement, bandeau latéral"),
                    (
                        "classic",
                        "Classique : titres à empattement, accroche centrée, coins arrondis",
                    ),
                ],
                default="modern",
                help_text="Typographie et mise en page du site public et de l'espace assuré.",
                max_length=10,
                verbose_name="style du site",
            ),
        ),
        migrations.AlterField(
            model_name="policy",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "En attente de paiement"),
                    ("active", "En vigueur"),
                    ("past_due", "Impayé"),
                    ("cancelled", "Résilié"),
                ],
                default="pending",
                max_length=10,
                verbose_name="statut",
            ),
        ),
    ]
