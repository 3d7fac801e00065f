from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0007_notification_set_based_references"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="stageentry",
            index=models.Index(
                condition=models.Q(("left_at__isnull", True)),
                fields=["due_at", "difference"],
                name="stage_entry_open_due_idx",
            ),
        ),
    ]
