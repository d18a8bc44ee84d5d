#!/usr/bin/env bash
# Reminder run benchmark (BENCHMARKS.md, "Scale"): seeds CASES synthetic cases of which OPEN_PERCENT are
# open (`dev seed --open-percent`; most are past their deadline, so each gets an overdue reminder), then
# times `foi-tracker remind --once` (mail off: it records the reminders) and its same-day rerun, which
# records nothing, with each run's peak memory. Floor: one set-based INSERT ... SELECT writing the
# same number of outbox rows in psql.
#
#   bench/reminders.sh CASES OPEN_PERCENT [postgres|sqlite]   e.g. bench/reminders.sh 1000000 10
#
# Databases as for bench/scale.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=$1
open=$2
backend=${3:-postgres}
base_url=${FOI_BENCH_POSTGRES_URL:-postgres://foi_ci:foi_ci@127.0.0.1:5432/foi_ci}
bin=target/release/foi-tracker
until=2026-11-30
cargo build --release --locked >/dev/null
export FOI_CONFIG_DIR=/nonexistent FOI__LOG__LEVEL=warn
case $backend in
  postgres)
    db=foi_bench_reminders
    psql -q "$base_url" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    url="${base_url%/*}/$db" ;;
  sqlite)
    mkdir -p "${FOI_BENCH_DIR:=/tmp/foi-bench}"
    rm -f "$FOI_BENCH_DIR/reminders.db"*
    url="sqlite://$FOI_BENCH_DIR/reminders.db" ;;
  *) echo "backend must be postgres or sqlite" >&2; exit 2 ;;
esac
export FOI__DATABASE__URL=$url
echo "# $cases cases, $open% open, $backend, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
"$bin" migrate >/dev/null
"$bin" dev seed --cases "$cases" --open-percent "$open" --until "$until" 2>/dev/null | tail -n 1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
remind() {
  /usr/bin/time -f '%e s, peak %M KB' "$bin" remind --once --now "${until}T01:00:00Z" 2>&1 \
    | tr '\n' ' ' | sed 's/digests_sent: [0-9]* //; s/reminders_failed: [0-9]* //; s/reminders_sent: [0-9]* //'
}
echo "reminder run: $(remind)"
echo "same-day rerun: $(remind)"
if [ "$backend" = postgres ]; then
  n=$(psql -qAt "$url" -c "SELECT count(*) FROM reminder_outbox")
  psql -q "$url" -c "CREATE TABLE floor_outbox (LIKE reminder_outbox INCLUDING ALL)" >/dev/null
  ms=$( (echo '\timing on'; echo "INSERT INTO floor_outbox SELECT gen_random_uuid()::text, 'floor:' || dedup_key, recipient,
    recipient_role, case_id, agency_id, kind, due_on, working_days, details, state, attempts, next_attempt_at, claimed_by,
    claimed_until, last_error, created_at, sent_at, digest_id FROM reminder_outbox;") | psql -q "$url" 2>&1 \
    | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
  echo "floor: one INSERT ... SELECT of the same $n rows: $ms ms"
fi
