#!/usr/bin/env bash
# Intake throughput benchmark (BENCHMARKS.md): 32 concurrent HTTP clients registering cases against the
# release build, on SQLite and on PostgreSQL, beside pgbench running the same writes directly in SQL.
#
#   bench/intake.sh [SECONDS]        (needs: wrk, pgbench, a running PostgreSQL; see BENCHMARKS.md)
#
# PostgreSQL is reached through FOI_BENCH_POSTGRES_URL (a role that may CREATE DATABASE), default
# postgres://foi_ci:foi_ci@127.0.0.1:5432/foi_ci as set up by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
clients=32
base_url=${FOI_BENCH_POSTGRES_URL:-postgres://foi_ci:foi_ci@127.0.0.1:5432/foi_ci}
admin_url=${base_url%/*}
port=18190
bin=target/release/foi-tracker
cargo build --release --locked >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# Prepares a database with one agency and one clerk; prints the clerk's token.
prepare() {
  FOI__DATABASE__URL=$1 "$bin" agency add PJ 盘锦市人民政府 >/dev/null
  FOI__DATABASE__URL=$1 "$bin" user add bench --role clerk --agency PJ | tail -n 1
}

http_run() {
  local label=$1 url=$2
  local token
  token=$(prepare "$url")
  FOI__DATABASE__URL=$url FOI__SERVER__BIND=127.0.0.1:$port FOI__LOG__LEVEL=warn "$bin" serve >"$work/$label.log" 2>&1 &
  local server=$!
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== HTTP intake, $label, $clients clients, ${seconds}s"
  FOI_BENCH_TOKEN=$token wrk -t2 -c"$clients" -d"${seconds}s" -s bench/intake.lua "http://127.0.0.1:$port/api/v1/cases" | tail -n 3
  kill "$server"; wait "$server" 2>/dev/null || true
}

fresh_pg() {
  local name=$1
  psql -q "$base_url" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
  echo "$admin_url/$name"
}

http_run sqlite "sqlite://$work/bench.db"
http_run postgres "$(fresh_pg foi_bench_http)"

floor_url=$(fresh_pg foi_bench_sql)
prepare "$floor_url" >/dev/null
agency=$(psql -qAt "$floor_url" -c "SELECT id FROM agencies WHERE code = 'PJ'")
actor=$(psql -qAt "$floor_url" -c "SELECT id FROM users LIMIT 1")
echo "== direct SQL (pgbench, same writes), postgres, $clients clients, ${seconds}s"
pgbench -n -c "$clients" -j 2 -T "$seconds" -f bench/intake-floor.sql -D agency="$agency" -D actor="$actor" "$floor_url" \
  | grep -E "^(tps|latency average|number of failed)"
