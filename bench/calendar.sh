#!/usr/bin/env bash
# Calendar change benchmark (BENCHMARKS.md): CASES synthetic cases (`dev seed`, 10% open) in PostgreSQL,
# served by the release build; times calendar changes through the HTTP API and prints how many open
# cases each one examined and recomputed:
#   1. a national day in 2030, after every deadline (examines nothing);
#   2. a national day inside the window of the open cases received shortly before it;
#   3. re-importing the 2020 State Council notice (examines every open case whose deadline reaches 2020).
# `dev seed` writes case rows without event logs, so the recomputation reads and recomputes every
# examined case but records no `deadline_set` (a seeded row has no event chain to extend).
#
#   bench/calendar.sh [CASES]          (default 1000000; PostgreSQL as for bench/intake.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-1000000}
base_url=${FOI_BENCH_POSTGRES_URL:-postgres://foi_ci:foi_ci@127.0.0.1:5432/foi_ci}
url="${base_url%/*}/foi_bench_calendar"
port=18192
bin=target/release/foi-tracker
cargo build --release --locked >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export FOI_CONFIG_DIR=/nonexistent FOI__LOG__LEVEL=warn FOI__DATABASE__URL=$url
psql -q "$base_url" -c "DROP DATABASE IF EXISTS foi_bench_calendar" -c "CREATE DATABASE foi_bench_calendar" >/dev/null
"$bin" migrate >/dev/null
start=$(date +%s)
"$bin" dev seed --cases "$cases" --open-percent 10 | tail -n 1
echo "seeded in $(( $(date +%s) - start )) s"
psql -q "$url" -c "ANALYZE cases" >/dev/null
echo "open cases: $(psql -qAt "$url" -c "SELECT count(*) FROM cases WHERE closed_on IS NULL")"
token=$("$bin" user add calendar-bench --role admin | tail -n 1)
FOI__SERVER__BIND=127.0.0.1:$port FOI__REMINDERS__SCHEDULER=false "$bin" serve >"$work/serve.log" 2>&1 &
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
api="http://127.0.0.1:$port/api/v1"

# time METHOD PATH [BODY]: prints seconds, examined and recomputed.
time_change() {
  local seconds
  seconds=$(curl -fsS -o "$work/out.json" -w '%{time_total}' -X "$1" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' ${3:+-d "$3"} "$api$2")
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.3f s, examined %s, recomputed %d" % (float(sys.argv[2]), d.get("examined"), len(d.get("recomputed", []))))' \
    "$work/out.json" "$seconds"
}
printf '1. national day 2030-01-02 (after every deadline): '
time_change PUT /calendar/days/2030-01-02 '{"is_off_day": true, "name": "bench"}'
printf '2. national day 2020-06-15 (inside recent windows): '
time_change PUT /calendar/days/2020-06-15 '{"is_off_day": true, "name": "bench"}'
printf '3. the 2020 notice imported again: '
time_change POST /calendar/notices "$(cat calendar/holiday-cn/2020.json)"
