#!/usr/bin/env bash
# Case ledger export benchmark (BENCHMARKS.md): 100,000 cases in PostgreSQL (`dev seed`), exported as CSV
# and XLSX through GET /api/v1/cases/export by the release build; prints time, size and the server's
# peak resident memory before and after each export.
#
#   bench/ledger.sh [CASES]          (default 100000; PostgreSQL as for bench/intake.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-100000}
base_url=${FOI_BENCH_POSTGRES_URL:-postgres://foi_ci:foi_ci@127.0.0.1:5432/foi_ci}
url="${base_url%/*}/foi_bench_ledger"
port=18191
bin=target/release/foi-tracker
cargo build --release --locked >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export FOI_CONFIG_DIR=/nonexistent FOI__LOG__LEVEL=warn FOI__DATABASE__URL=$url
psql -q "$base_url" -c "DROP DATABASE IF EXISTS foi_bench_ledger" -c "CREATE DATABASE foi_bench_ledger" >/dev/null
"$bin" migrate >/dev/null
"$bin" dev seed --cases "$cases" --open-percent 10 | tail -n 1
token=$("$bin" user add ledger-bench --role admin | tail -n 1)
FOI__SERVER__BIND=127.0.0.1:$port FOI__REMINDERS__SCHEDULER=false "$bin" serve >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
peak() { awk '/VmHWM/ {print $2/1024 " MB"}' "/proc/$server/status"; }
echo "server peak RSS after start: $(peak)"
for format in csv xlsx; do
  start=$(date +%s.%N)
  curl -fsS -o "$work/ledger.$format" -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/cases/export?format=$format&agency=BENCH"
  end=$(date +%s.%N)
  rows=$([ "$format" = csv ] && echo "$(($(wc -l <"$work/ledger.csv") - 1)) rows" || echo "")
  printf '%s: %.1f s, %s bytes %s; server peak RSS now %s\n' "$format" "$(echo "$end - $start" | bc)" \
    "$(stat -c %s "$work/ledger.$format")" "$rows" "$(peak)"
done
