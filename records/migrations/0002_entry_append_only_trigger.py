"""On PostgreSQL, the database itself refuses UPDATE and DELETE on chronology entries.

A deliberate retention purge may delete old entries by setting the transaction-local
``records.allow_purge`` to ``on`` first (``SET LOCAL records.allow_purge = 'on'``); nothing else
can. SQLite has no such trigger here: the model's own guard is all it has.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION records_entry_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('records.allow_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'chronology entries are append-only: % refused on records_entry', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER records_entry_append_only
    BEFORE UPDATE OR DELETE ON records_entry
    FOR EACH ROW EXECUTE FUNCTION records_entry_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS records_entry_append_only ON records_entry;
DROP FUNCTION IF EXISTS records_entry_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
