from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0008_stage_entry_open_due_idx"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="professionaldifference",
            index=models.Index(fields=["partnership", "raised_at"], name="difference_raised_idx"),
        ),
    ]
