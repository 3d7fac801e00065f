"""Notification's references to its person and its case are checked once per statement.

A deadline scan writes tens of thousands of notices in one statement; PostgreSQL checks a
foreign-key constraint row by row (one lookup and one row lock per row, at commit), which cost
more than writing the rows. The constraints give way to statement-level triggers that check
the same things with one set-based query each (on SQLite, nothing checks, as before the
scan's own joins):

- a notice inserted or updated must refer to an existing person and case, and those rows are
  locked FOR KEY SHARE, as a foreign key locks them, so a concurrent delete waits and then
  fails;
- a person or case cannot be deleted while a notice refers to it (Django's cascade deletes the
  notices first, so the admin and the services are unaffected).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION escalations_notification_check_references() RETURNS trigger AS $$
DECLARE
    wanted bigint;
    found bigint;
BEGIN
    SELECT count(DISTINCT recipient_id) INTO wanted FROM new_rows;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM auth_user WHERE id IN (SELECT recipient_id FROM new_rows) FOR KEY SHARE
    ) AS locked;
    IF found <> wanted THEN
        RAISE EXCEPTION 'a notification refers to a person who does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT count(DISTINCT difference_id) INTO wanted FROM new_rows;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM escalations_professionaldifference
        WHERE id IN (SELECT difference_id FROM new_rows) FOR KEY SHARE
    ) AS locked;
    IF found <> wanted THEN
        RAISE EXCEPTION 'a notification refers to a case that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER escalations_notification_references_on_insert
    AFTER INSERT ON escalations_notification REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION escalations_notification_check_references();
CREATE TRIGGER escalations_notification_references_on_update
    AFTER UPDATE ON escalations_notification REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION escalations_notification_check_references();

CREATE OR REPLACE FUNCTION escalations_notification_refuse_orphans() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'auth_user' THEN
        PERFORM 1 FROM escalations_notification
        WHERE recipient_id IN (SELECT id FROM old_rows) LIMIT 1;
    ELSE
        PERFORM 1 FROM escalations_notification
        WHERE difference_id IN (SELECT id FROM old_rows) LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'notifications still refer to a deleted row of %', TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER escalations_notification_keep_recipients
    AFTER DELETE ON auth_user REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION escalations_notification_refuse_orphans();
CREATE TRIGGER escalations_notification_keep_cases
    AFTER DELETE ON escalations_professionaldifference REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION escalations_notification_refuse_orphans();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS escalations_notification_keep_cases
    ON escalations_professionaldifference;
DROP TRIGGER IF EXISTS escalations_notification_keep_recipients ON auth_user;
DROP TRIGGER IF EXISTS escalations_notification_references_on_update
    ON escalations_notification;
DROP TRIGGER IF EXISTS escalations_notification_references_on_insert
    ON escalations_notification;
DROP FUNCTION IF EXISTS escalations_notification_refuse_orphans();
DROP FUNCTION IF EXISTS escalations_notification_check_references();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0006_clock_event_drop_redundant_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The triggers go first backwards (BACKWARD runs before the constraints come back).
        migrations.RunPython(migrations.RunPython.noop, backward),
        migrations.AlterField(
            model_name="notification",
            name="difference",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notifications",
                to="escalations.professionaldifference",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="recipient",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notifications",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
