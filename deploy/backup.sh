#!/usr/bin/env bash
# A PostgreSQL backup: `pg_dump -Fc` of the database into BACKUP_DIR, with the row count of
# every table taken in the very snapshot the dump reads (NAME.dump.counts), so that
# `restore-drill.sh` can prove the dump restores to exactly what was backed up.
#
#   DATABASE_URL=postgres://user:pass@host:5432/name BACKUP_DIR=var/backups deploy/backup.sh
#
# Without DATABASE_URL it uses POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB and POSTGRES_HOST
# (default db), as docker-compose.yml's `backup` service has them. Keeps BACKUP_KEEP_DAYS days
# of dumps (default 14; 0 keeps all). Needs pg_dump and psql of the server's major version.
set -euo pipefail

url="${DATABASE_URL:-}"
if [ -z "$url" ]; then
  : "${POSTGRES_USER:?set DATABASE_URL, or POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB}"
  url="postgres://${POSTGRES_USER}:${POSTGRES_PASSWORD:-}@${POSTGRES_HOST:-db}:5432/${POSTGRES_DB:?}"
fi
backup_dir="${BACKUP_DIR:-var/backups}"
keep_days="${BACKUP_KEEP_DAYS:-14}"
mkdir -p "$backup_dir"

name="$(psql "$url" -qAtX -c 'SELECT current_database()')"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
dump="$backup_dir/${name}-${stamp}.dump"

# One REPEATABLE READ transaction stays open while pg_dump runs: it exports its snapshot for
# pg_dump and counts every table's rows in that same snapshot.
coproc PSQL { psql "$url" -qAtX -v ON_ERROR_STOP=1 2>&1; }
# Copies of the coprocess's pipes: the originals are closed in $(...) subshells.
exec {to_psql}>&"${PSQL[1]}" {from_psql}<&"${PSQL[0]}"
trap 'kill "${PSQL_PID:-}" 2>/dev/null || true; rm -f "$dump.partial" "$dump.counts.partial"' EXIT
ask() { # send SQL, print the output up to a marker line
  printf '%s\nSELECT %s;\n' "$1" "'--end--'" >&"$to_psql"
  local line
  while IFS= read -r line <&"$from_psql"; do
    [ "$line" = "--end--" ] && return 0
    printf '%s\n' "$line"
  done
  echo "backup: psql ended early" >&2
  return 1
}
snapshot="$(ask "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_export_snapshot();")"
[[ "$snapshot" =~ ^[0-9A-F-]+$ ]] || { echo "backup: no snapshot: $snapshot" >&2; exit 1; }

pg_dump "$url" --format=custom --snapshot="$snapshot" --file="$dump.partial"
# table<TAB>rows, for every ordinary and partitioned table outside the system schemas.
ask "$(cat "$(dirname "$0")/table-counts.sql")" | tr '|' '\t' >"$dump.counts.partial"
ask "COMMIT;" >/dev/null
printf '\\q\n' >&"$to_psql"

mv "$dump.counts.partial" "$dump.counts"
mv "$dump.partial" "$dump"
echo "backup: $dump ($(du -h "$dump" | cut -f1), $(wc -l <"$dump.counts") tables)"

if [ "$keep_days" -gt 0 ]; then
  find "$backup_dir" -maxdepth 1 -name "${name}-*.dump*" -mtime "+$keep_days" -print -delete
fi
