"""The free-text declaration delay and territory, converted by 0005, go in their own migration:
a data migration and an ALTER TABLE in one transaction can fail on pending trigger events."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cover", "0005_plan_structured_terms"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="plan",
            name="declaration_delay",
        ),
        migrations.RemoveField(
            model_name="plan",
            name="territory",
        ),
    ]
