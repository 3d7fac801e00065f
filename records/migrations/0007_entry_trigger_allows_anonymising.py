"""The chronology trigger lets a retention anonymisation blank an entry's text, and nothing else.

An UPDATE of ``records_entry`` passes only when the transaction has said so explicitly
(``SET LOCAL records.anonymising = 'on'``, which ends with the transaction) and the new row
differs from the old only by text columns set to '' (the author's name to 'Anonymised'):
no id, case, kind, state, date, link or author can change, and no text can be rewritten.
DELETE is still refused unless ``records.allow_purge`` is on (migration 0002). See
docs/adr/0006-retention-and-anonymisation.md.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION records_entry_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('records.allow_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND current_setting('records.anonymising', true) = 'on'
        AND (NEW.id, NEW.difference_id, NEW.kind, NEW.status, NEW.occurred_at, NEW.transition,
             NEW.from_status, NEW.to_status, NEW.corrects_id, NEW.author_id, NEW.created_at,
             NEW.author_role, NEW.author_agency_name)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.difference_id, OLD.kind, OLD.status, OLD.occurred_at, OLD.transition,
             OLD.from_status, OLD.to_status, OLD.corrects_id, OLD.author_id, OLD.created_at,
             OLD.author_role, OLD.author_agency_name)
        AND NEW.method = '' AND NEW.participants = '' AND NEW.facts = ''
        AND NEW.opinion = '' AND NEW.outcome = '' AND NEW.reason = ''
        AND NEW.author_name IN (OLD.author_name, 'Anonymised')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'chronology entries are append-only: % refused on records_entry', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

# Back to migration 0002's function (the trigger itself is unchanged).
BACKWARD = """
CREATE OR REPLACE FUNCTION records_entry_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('records.allow_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'chronology entries are append-only: % refused on records_entry', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("records", "0006_access_event_append_only_trigger")]

    operations = [migrations.RunPython(forward, backward)]
