#!/usr/bin/env bash
# Restore drill: restore the latest dump in BACKUP_DIR into a scratch database on the same
# server, compare the row count of every table with the source, print them, and drop the
# scratch database. Exits non-zero if the restore fails or any count differs.
#
#   DATABASE_URL=postgres://user:pass@host:5432/name BACKUP_DIR=var/backups deploy/restore-drill.sh
#
# The source counts are those backup.sh took in the dump's own snapshot (NAME.dump.counts);
# for a dump without them, the live database's counts now (which differ if it has changed
# since the dump). Without DATABASE_URL it uses POSTGRES_* as backup.sh does. The user needs
# the CREATEDB privilege. Needs pg_restore and psql of the server's major version.
set -euo pipefail

url="${DATABASE_URL:-}"
if [ -z "$url" ]; then
  : "${POSTGRES_USER:?set DATABASE_URL, or POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB}"
  url="postgres://${POSTGRES_USER}:${POSTGRES_PASSWORD:-}@${POSTGRES_HOST:-db}:5432/${POSTGRES_DB:?}"
fi
backup_dir="${BACKUP_DIR:-var/backups}"
here="$(cd "$(dirname "$0")" && pwd)"

dump="$(find "$backup_dir" -maxdepth 1 -name '*.dump' -type f -printf '%T@ %p\n' 2>/dev/null |
  sort -n | tail -n 1 | cut -d' ' -f2-)"
[ -n "$dump" ] || { echo "restore-drill: no *.dump in $backup_dir (run make backup)" >&2; exit 1; }

source_name="$(psql "$url" -qAtX -c 'SELECT current_database()')"
scratch="$(printf '%s' "${source_name:0:40}_drill_$(date -u +%Y%m%d%H%M%S)_$$")"
# The scratch database's URL: the source's with the last path part replaced.
base="${url%%\?*}"
query=""
[ "$base" != "$url" ] && query="?${url#*\?}"
scratch_url="${base%/*}/${scratch}${query}"

drop_scratch() {
  psql "$url" -qAtX -c "DROP DATABASE IF EXISTS \"${scratch}\" WITH (FORCE)" >/dev/null ||
    echo "restore-drill: could not drop the scratch database ${scratch}" >&2
}
trap drop_scratch EXIT

echo "restore-drill: restoring $dump into the scratch database $scratch"
started=$SECONDS
psql "$url" -qAtX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"${scratch}\"" >/dev/null
pg_restore --dbname="$scratch_url" --no-owner --no-privileges --exit-on-error "$dump"
echo "restore-drill: restored in $((SECONDS - started)) s"

counts_sql="$(cat "$here/table-counts.sql")"
if [ -f "$dump.counts" ]; then
  source_label="at backup"
  expected="$(cat "$dump.counts")"
else
  source_label="live now"
  echo "restore-drill: no $dump.counts: comparing with the live database" >&2
  expected="$(psql "$url" -qAtX -F $'\t' -v ON_ERROR_STOP=1 -c "$counts_sql")"
fi
restored="$(psql "$scratch_url" -qAtX -F $'\t' -v ON_ERROR_STOP=1 -c "$counts_sql")"

# Every table on either side, with both counts; '-' where a table is missing.
report="$(join -t $'\t' -a 1 -a 2 -e - -o 0,1.2,2.2 \
  <(printf '%s\n' "$expected" | sort -t $'\t' -k1,1) \
  <(printf '%s\n' "$restored" | sort -t $'\t' -k1,1))"
printf '%-60s %12s %12s\n' "table" "$source_label" "restored"
mismatches=0
tables=0
while IFS=$'\t' read -r table want got; do
  [ -n "$table" ] || continue
  tables=$((tables + 1))
  mark=""
  if [ "$want" != "$got" ]; then
    mark="  MISMATCH"
    mismatches=$((mismatches + 1))
  fi
  printf '%-60s %12s %12s%s\n' "$table" "$want" "$got" "$mark"
done <<<"$report"

if [ "$tables" -eq 0 ]; then
  echo "restore-drill: FAILED: no tables to compare" >&2
  exit 1
fi
if [ "$mismatches" -gt 0 ]; then
  echo "restore-drill: FAILED: $mismatches of $tables tables differ" >&2
  exit 1
fi
echo "restore-drill: OK: $tables tables, every row count matches"
