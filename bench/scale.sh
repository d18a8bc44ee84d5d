#!/usr/bin/env bash
# Scale benchmark (BENCHMARKS.md, "Scale"): seeds CASES realistic synthetic cases (`dev seed`: ten years
# to 2026-11-30, the last 30 days open) on a fresh database, serves it with the release build, and
# measures side by side, in one run, every path against its floor:
#   reads and searches through HTTP (p50/p95 of RUNS requests) against the same SQL run in psql;
#   the annual report (one department, the whole city; JSON and XLSX) against bench/report.sql in psql,
#     with the service's peak memory;
#   calendar changes (a day no deadline reaches, a day inside the open cases' windows);
#   the reminder run and its same-day rerun (`foi-tracker remind --once`), with peak memory;
#   intake through HTTP (wrk, 32 clients) against pgbench running the same writes with as many
#     connections as the service's pool (last: it adds cases).
# The machine's load average is printed before each part. On SQLite there are no psql floors.
#
#   bench/scale.sh CASES [postgres|sqlite] [RUNS]      e.g. bench/scale.sh 1000000 postgres
#
# PostgreSQL is reached through FOI_BENCH_POSTGRES_URL (a role that may CREATE DATABASE), default
# postgres://foi_ci:foi_ci@127.0.0.1:5432/foi_ci as .ci/run sets it up; SQLite files go to
# FOI_BENCH_DIR (default /tmp/foi-bench). Needs wrk (installed with apt when missing and run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
cases=$1
backend=${2:-postgres}
runs=${3:-30}
base_url=${FOI_BENCH_POSTGRES_URL:-postgres://foi_ci:foi_ci@127.0.0.1:5432/foi_ci}
port=18194
bin=target/release/foi-tracker
until=2026-11-30
year=2025
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export FOI_CONFIG_DIR=/nonexistent FOI__LOG__LEVEL=warn FOI__REMINDERS__SCHEDULER=false
case $backend in
  postgres)
    db=foi_bench_scale_$cases
    psql -q "$base_url" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    url="${base_url%/*}/$db" ;;
  sqlite)
    mkdir -p "${FOI_BENCH_DIR:=/tmp/foi-bench}"
    rm -f "$FOI_BENCH_DIR/scale-$cases.db"*
    url="sqlite://$FOI_BENCH_DIR/scale-$cases.db" ;;
  *) echo "backend must be postgres or sqlite" >&2; exit 2 ;;
esac
export FOI__DATABASE__URL=$url
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }

echo "# $cases cases, $backend, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
"$bin" migrate >/dev/null
started=$(date +%s.%N)
"$bin" dev seed --cases "$cases" --until "$until" 2>/dev/null | tail -n 1
echo "seeded in $(echo "$(date +%s.%N) - $started" | bc | xargs printf '%.0f') s"
if [ "$backend" = postgres ]; then
  echo "table and indexes: $(psql -qAt "$url" -c "SELECT pg_size_pretty(pg_total_relation_size('cases'))")"
else
  echo "database file: $(du -h "${url#sqlite://}" | cut -f1)"
fi
admin=$("$bin" user add "scale-admin-$$" --role admin | tail -n 1)
"$bin" agency add PJ 盘锦市人民政府 >/dev/null
clerk=$("$bin" user add "scale-clerk-$$" --role clerk --agency PJ | tail -n 1)
FOI__SERVER__BIND=127.0.0.1:$port "$bin" serve >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
api="http://127.0.0.1:$port/api/v1"

# Percentiles of the numbers on stdin (milliseconds): "p50 / p95".
percentiles() { sort -n | awk '{a[NR]=$1} END {printf "%.1f / %.1f", a[int((NR+1)/2)], a[int(NR*0.95+0.999)]}'; }
# http PATH: p50 / p95 of RUNS authenticated GETs (after one warm-up), failing on any non-200.
http() {
  curl -fsS -o /dev/null -H "Authorization: Bearer $admin" "$api$1"
  for _ in $(seq 1 "$runs"); do
    curl -fsS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $admin" "$api$1"
  done | awk '{print $1 * 1000}' | percentiles
}
# sql QUERY: p50 / p95 of RUNS executions in one psql session (after one warm-up).
sql() {
  [ "$backend" = postgres ] || { echo "-"; return; }
  { echo '\timing on'; for _ in $(seq 0 "$runs"); do echo "$1;"; done; } | psql -q "$url" 2>&1 \
    | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n +2 | percentiles
}
row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3"; }

echo; load
echo "| read (HTTP, $runs runs) | service p50 / p95 ms | SQL floor p50 / p95 ms |"
echo "|---|---|---|"
select="SELECT c.*, a.code, a.path FROM cases c JOIN agencies a ON a.id = c.agency_id"
first=$(curl -fsS -H "Authorization: Bearer $admin" "$api/cases?limit=50")
cursor=$(echo "$first" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"])')
last_id=$(echo "$first" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][-1]["id"])')
row "first page, newest first" "$(http "/cases?limit=50")" \
  "$(sql "$select WHERE c.state <> 'voided' ORDER BY c.id DESC LIMIT 51")"
row "next page (cursor)" "$(http "/cases?limit=50&cursor=$cursor")" \
  "$(sql "$select WHERE c.state <> 'voided' AND c.id < '$last_id' ORDER BY c.id DESC LIMIT 51")"
row "one department, under review, by fax" "$(http "/cases?agency=BENCH-03&subtree=false&state=under_review&channel=fax&limit=50")" \
  "$(sql "$select WHERE a.path = '/BENCH/BENCH-03/' AND c.state = 'under_review' AND c.channel = 'fax' ORDER BY c.id DESC LIMIT 51")"
row "open cases, nearest deadline first" "$(http "/cases?open=true&sort=due&limit=50")" \
  "$(sql "$select WHERE c.closed_on IS NULL AND c.state IN ('received','registered','under_review','awaiting_correction','consulting','awaiting_fee','reply_drafted','reply_approved') ORDER BY c.final_due_on IS NULL, c.final_due_on, c.id LIMIT 51")"
row "received in one month, by receipt date" "$(http "/cases?received_from=$year-03-01&received_to=$year-03-31&sort=received&limit=50")" \
  "$(sql "$select WHERE c.state <> 'voided' AND c.received_on BETWEEN '$year-03-01' AND '$year-03-31' ORDER BY c.received_on DESC, c.id DESC LIMIT 51")"
row "received in one month, newest registration first" "$(http "/cases?received_from=$year-03-01&received_to=$year-03-31&limit=50")" \
  "$(sql "$select WHERE c.state <> 'voided' AND c.received_on BETWEEN '$year-03-01' AND '$year-03-31' ORDER BY c.id DESC LIMIT 51")"
# Reading one case replays its events, which seeded rows lack: the lookups use a case registered now.
body=$(sed -n '/^wrk.body = \[\[/,/\]\]/p' bench/intake.lua | sed 's/^wrk.body = \[\[//; s/\]\]$//')
number=$(curl -fsS -H "Authorization: Bearer $clerk" -H 'Content-Type: application/json' -d "$body" "$api/cases" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["tracking_number"])')
row "one case by tracking number" "$(http "/cases/by-number/$number")" "$(sql "$select WHERE c.tracking_number = '$number'")"
row "by the applicant's phone" "$(http "/cases?phone=15704271234&limit=50")" \
  "$(sql "$select WHERE c.state <> 'voided' AND c.applicant_phone_key = '15704271234' ORDER BY c.id DESC LIMIT 51")"
search() { # LABEL TEXT TERMS: the service's q= search and its SQL
  local encoded
  encoded=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$2")
  row "$1" "$(http "/cases?q=$encoded&limit=50")" \
    "$(sql "$select WHERE c.state <> 'voided' AND string_to_array(c.search_terms, ' ') @> string_to_array('$3', ' ') AND (strpos(lower(c.description), '$2') > 0 OR strpos(lower(c.applicant_name), '$2') > 0 OR strpos(lower(c.tracking_number), '$2') > 0) ORDER BY c.id DESC LIMIT 51")"
}
search "text, frequent (道路: 1 case in 8)" 道路 道路
search "text, rare (古树名木: 1 in 1,000)" 古树名木 名木\ 古树\ 树名
search "text, no match (量子)" 量子 量子
search "text, a surname alone (张)" 张 张

echo; load
echo "| report $year (HTTP, median of 5) | service ms | SQL floor ms (bench/report.sql) |"
echo "|---|---|---|"
report_floor() { # PATTERN: the total of bench/report.sql's statements, median of 5
  [ "$backend" = postgres ] || { echo "-"; return; }
  for _ in 1 2 3 4 5 6; do
    { echo '\timing on'; cat bench/report.sql; } | psql -q -v pattern="$1" -v y0="$year-01-01" -v y1="$year-12-31" "$url" 2>&1 \
      | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | paste -sd+ | bc
  done | tail -n 5 | sort -n | sed -n 3p
}
report() { # QUERY: median of 5 after a warm-up
  curl -fsS -o /dev/null -H "Authorization: Bearer $admin" "$api/reports/y2021/$year?$1"
  for _ in 1 2 3 4 5; do
    curl -fsS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $admin" "$api/reports/y2021/$year?$1"
  done | awk '{print $1 * 1000}' | sort -n | sed -n 3p
}
department=$(report_floor /BENCH/BENCH-03/)
city=$(report_floor '/BENCH/%')
row "one department (BENCH-03), JSON" "$(report "agency=BENCH-03&subtree=false")" "$department"
row "one department (BENCH-03), XLSX" "$(report "agency=BENCH-03&subtree=false&output=xlsx")" "$department"
row "whole city (BENCH and its 10 departments), JSON" "$(report "agency=BENCH&subtree=true")" "$city"
row "whole city, XLSX" "$(report "agency=BENCH&subtree=true&output=xlsx")" "$city"
echo "service peak memory after the reads and reports (VmHWM): $(( $(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$server/status") / 1024 )) MB"

echo; load
change() { # METHOD PATH [BODY]: time, examined, recomputed
  local seconds
  seconds=$(curl -fsS -o "$work/out.json" -w '%{time_total}' -X "$1" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' ${3:+-d "$3"} "$api$2")
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.0f ms, examined %s, recomputed %d" % (float(sys.argv[2]) * 1000, d.get("examined"), len(d.get("recomputed", []))))' \
    "$work/out.json" "$seconds"
}
echo "calendar change, a day after every deadline (2030-01-02): $(change PUT /calendar/days/2030-01-02 '{"is_off_day": true, "name": "bench"}')"
echo "calendar change, a day inside the open cases' windows (2026-11-20): $(change PUT /calendar/days/2026-11-20 '{"is_off_day": true, "name": "bench"}')"
echo "  and undone: $(change DELETE /calendar/days/2026-11-20)"

echo; load
remind() {
  /usr/bin/time -f '%e s, peak %M KB' "$bin" remind --once --now "${until}T01:00:00Z" 2>&1 \
    | tr '\n' ' ' | sed 's/digests_sent: [0-9]* //; s/reminders_failed: [0-9]* //; s/reminders_sent: [0-9]* //'
}
echo "reminder run: $(remind)"
echo "same-day rerun: $(remind)"

echo; load
pool=$(sed -n 's/^pool_size = \([0-9]*\)/\1/p' config/default.toml)
echo "intake, 15 s: service over HTTP, 32 clients (pool of $pool connections):"
FOI_BENCH_TOKEN=$clerk wrk -t2 -c32 -d15s -s bench/intake.lua "$api/cases" | tail -n 3 | sed 's/^/  /'
if [ "$backend" = postgres ]; then
  agency=$(psql -qAt "$url" -c "SELECT id FROM agencies WHERE code = 'PJ'")
  actor=$(psql -qAt "$url" -c "SELECT id FROM users WHERE role = 'clerk' LIMIT 1")
  echo "intake floor, 15 s: pgbench, the same writes in SQL, $pool connections:"
  pgbench -n -c "$pool" -j 2 -T 15 -f bench/intake-floor.sql -D agency="$agency" -D actor="$actor" "$url" 2>/dev/null \
    | grep -E "^(tps|latency average)" | sed 's/^/  /'
fi
kill "$server"; wait "$server" 2>/dev/null || true
