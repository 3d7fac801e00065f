from django.db import migrations


def add_row(apps, schema_editor):
    Heartbeat = apps.get_model("ops", "Heartbeat")
    Heartbeat.objects.get_or_create(name="deadline_scan")


def remove_row(apps, schema_editor):
    Heartbeat = apps.get_model("ops", "Heartbeat")
    Heartbeat.objects.filter(name="deadline_scan").delete()


class Migration(migrations.Migration):
    dependencies = [("ops", "0001_heartbeats")]

    operations = [migrations.RunPython(add_row, remove_row)]
