#!/usr/bin/env bash
# The README's PostgreSQL backup and restore recipe, run once: pg_dump -Fc of a database the service
# has used, pg_restore into an empty one, then the restored copy must pass `foi-tracker audit verify`
# and hold the same number of cases, events and users.
# Usage: .ci/pg-backup-restore.sh BINARY SOURCE_URL EMPTY_TARGET_URL
set -euo pipefail
bin=$(realpath "$1")
source_url=$2
target_url=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FOI_CONFIG_DIR=/nonexistent FOI__LOG__LEVEL=warn

# Backup (as in the README).
pg_dump --format=custom --no-owner --file="$work/foi-tracker.dump" "$source_url"
# Restore into an empty database (as in the README).
pg_restore --no-owner --exit-on-error --dbname="$target_url" "$work/foi-tracker.dump"

count() { psql -qAt "$1" -c "SELECT (SELECT count(*) FROM cases) || ' cases, ' || (SELECT count(*) FROM case_events) || ' events, ' || (SELECT count(*) FROM users) || ' users'"; }
before=$(count "$source_url")
after=$(count "$target_url")
echo "source:   $before"
echo "restored: $after"
[ "$before" = "$after" ] || { echo "the restored database differs from the source" >&2; exit 1; }
FOI__DATABASE__URL="$target_url" "$bin" audit verify | tail -n 1
FOI__DATABASE__URL="$target_url" "$bin" audit verify >/dev/null
echo "backup $(du -h "$work/foi-tracker.dump" | cut -f1), restored and verified"
