"""On PostgreSQL, the database itself refuses UPDATE and DELETE on access audit entries.

There is no bypass: an access entry holds no personal data to anonymise (ids, a username, an
address and a browser name), so nothing in the app ever needs to change one. SQLite relies on
the model's own guard.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION records_accessevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'access audit entries are append-only: % refused on records_accessevent',
        TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER records_accessevent_append_only
    BEFORE UPDATE OR DELETE ON records_accessevent
    FOR EACH ROW EXECUTE FUNCTION records_accessevent_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS records_accessevent_append_only ON records_accessevent;
DROP FUNCTION IF EXISTS records_accessevent_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("records", "0005_access_event")]

    operations = [migrations.RunPython(forward, backward)]
