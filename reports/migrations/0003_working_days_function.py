"""PostgreSQL: the SQL function the report uses to count working days between two instants,
from a working-calendar table passed in as arrays (see reports.timing.WorkingClock.arrays).

position(t) = bases[i] + slopes[i] * epoch(t), where i = width_bucket(epoch(t), mids) is the
local day holding t; working days = (position(b) - position(a)) / 86400. An instant outside
the table gives NULL (the report always passes a table covering its rows). Written as a single
expression so the planner inlines it. Nothing on other databases (Python does the same there).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION reports_working_days(
    a timestamptz, b timestamptz, mids float8[], bases float8[], slopes float8[]
) RETURNS float8
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (
        bases[width_bucket(date_part('epoch', b), mids)]
        + slopes[width_bucket(date_part('epoch', b), mids)] * date_part('epoch', b)
        - bases[width_bucket(date_part('epoch', a), mids)]
        - slopes[width_bucket(date_part('epoch', a), mids)] * date_part('epoch', a)
    ) / 86400.0
$$;
"""
DROP = "DROP FUNCTION IF EXISTS reports_working_days(timestamptz, timestamptz, float8[], float8[], float8[]);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_backfill_case_outcomes")]

    operations = [migrations.RunPython(create, drop)]
