# The insurer's evidence retention (issue 12.2): the Object Lock period of every bundle on S3.
import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0002_sealkey_envelope"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.CreateModel(
            name="EvidenceSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "retention_years",
                    models.PositiveSmallIntegerField(
                        default=6,
                        help_text=(
                            "Chaque lot de preuve est verrouillé en écriture unique jusqu'à cette "
                            "échéance : personne ne peut le modifier ni le supprimer avant. Au "
                            "moins 5 ans, délai de prescription de droit commun des actions "
                            "civiles (article 2224 du Code civil) ; au plus 30 ans. Un changement "
                            "vaut pour les lots écrits ensuite."
                        ),
                        validators=[
                            django.core.validators.MinValueValidator(5),
                            django.core.validators.MaxValueValidator(30),
                        ],
                        verbose_name="Durée de conservation des preuves (années)",
                    ),
                ),
                (
                    "site",
                    models.OneToOneField(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="wagtailcore.site",
                    ),
                ),
            ],
            options={
                "verbose_name": "conservation des preuves",
            },
        ),
    ]
