import django.db.models.deletion
import wagtail.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cover", "0008_site_style_wording"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.AddField(
            model_name="legalpage",
            name="generated_content",
            field=models.CharField(
                blank=True,
                choices=[
                    ("legal_notice", "Mentions légales"),
                    ("privacy", "Politique de confidentialité"),
                ],
                help_text="Affiché avant le contenu, à partir des informations légales.",
                max_length=20,
                verbose_name="contenu généré",
            ),
        ),
        migrations.AlterField(
            model_name="legalpage",
            name="body",
            field=wagtail.fields.RichTextField(blank=True, verbose_name="contenu"),
        ),
        migrations.CreateModel(
            name="SiteOpening",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "opened_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="site ouvert le"),
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
            options={"verbose_name": "ouverture du site"},
        ),
        migrations.CreateModel(
            name="FrozenDocument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "sha256",
                    models.CharField(max_length=64, unique=True, verbose_name="empreinte SHA-256"),
                ),
                ("title", models.CharField(max_length=255, verbose_name="titre")),
                (
                    "file",
                    models.FileField(upload_to="conditions-generales/", verbose_name="fichier"),
                ),
                (
                    "source_document_id",
                    models.PositiveIntegerField(null=True, verbose_name="document d'origine"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="copié le")),
            ],
            options={
                "verbose_name": "conditions générales archivées",
                "verbose_name_plural": "conditions générales archivées",
            },
        ),
    ]
