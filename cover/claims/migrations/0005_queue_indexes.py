# The handlers' queue (cover.claims.selectors.claims_queue) reads open claims nearest deadline
# first, one page at a time: this partial index gives that order without sorting the table.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0004_cost_service_category"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(
                condition=models.Q(("state", "CLOSED"), _negated=True),
                fields=["next_deadline_date", "created_at", "id"],
                name="claim_queue_order_idx",
            ),
        ),
    ]
