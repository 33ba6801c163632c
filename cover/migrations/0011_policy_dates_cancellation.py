import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cover", "0010_plan_euros_four_eyes"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.AddField(
            model_name="policy",
            name="renewal_date",
            field=models.DateField(blank=True, null=True, verbose_name="prochaine échéance"),
        ),
        migrations.AddField(
            model_name="policy",
            name="cancel_requested_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="résiliation demandée le"
            ),
        ),
        migrations.CreateModel(
            name="CancellationSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "effective_rule",
                    models.CharField(
                        choices=[
                            ("period_end", "À la fin de la période de cotisation payée"),
                            ("notice", "Après un préavis d'un nombre de jours fixé"),
                        ],
                        default="period_end",
                        help_text=(
                            "À vérifier : la documentation du produit ne fixe pas cette règle ; "
                            "faites valider votre choix par votre conseil (code des assurances, "
                            "art. L113-14 ; décret n° 2023-182)."
                        ),
                        max_length=20,
                        verbose_name="date d'effet d'une résiliation en ligne",
                    ),
                ),
                (
                    "notice_days",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        help_text=(
                            "Seulement avec la règle du préavis : nombre de jours entre la "
                            "demande et la fin de la garantie, sans dépasser la fin de la période "
                            "payée. À vérifier."
                        ),
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(366),
                        ],
                        verbose_name="préavis (jours)",
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
            options={"verbose_name": "résiliation en ligne"},
        ),
    ]
