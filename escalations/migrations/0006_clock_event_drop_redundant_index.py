"""ClockEvent's stage_entry index duplicated the unique constraint clock_event_once
(stage_entry, kind), whose index serves every lookup by stage entry: one index less for the
deadline scan to write per event."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("escalations", "0005_retention_legal_hold_and_anonymisation")]

    operations = [
        migrations.AlterField(
            model_name="clockevent",
            name="stage_entry",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="escalations.stageentry",
            ),
        ),
    ]
