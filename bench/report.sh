#!/usr/bin/env bash
# Times one annual report (y2021, 2020, agency BENCH with its subtree) through the running service
# against the same aggregates run by hand in psql, and reports the service's peak memory.
# Usage: bench/report.sh POSTGRES_URL [RUNS]   (after `foi-tracker dev seed --cases 1000000` on that database)
set -euo pipefail
url=$1
runs=${2:-5}
bin=${FOI_BIN:-target/release/foi-tracker}
port=${BENCH_PORT:-18300}
export FOI__DATABASE__URL=$url FOI__SERVER__BIND=127.0.0.1:$port FOI__LOG__LEVEL=warn FOI_CONFIG_DIR=/nonexistent
token=$("$bin" user add "report-bench-$$" --role statistician --agency BENCH | tail -n 1)
"$bin" serve >/tmp/report-bench-serve.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
report="http://127.0.0.1:$port/api/v1/reports/y2021/2020?agency=BENCH&subtree=true"
curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$report"   # warm up
service=()
for _ in $(seq 1 "$runs"); do
  service+=("$(curl -fsS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "$report")")
done
psql "$url" -q -f "$(dirname "$0")/report.sql" >/dev/null   # warm up
by_hand=()
for _ in $(seq 1 "$runs"); do
  ms=$( (echo '\timing on'; cat "$(dirname "$0")/report.sql") | psql "$url" -q 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | paste -sd+ | bc)
  by_hand+=("$(echo "scale=4; $ms / 1000" | bc)")
done
peak_kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$server/status")
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s=$(median "${service[@]}"); h=$(median "${by_hand[@]}")
echo "cases under BENCH: $(psql "$url" -tAc "SELECT count(*) FROM cases c JOIN agencies a ON a.id = c.agency_id WHERE a.path LIKE '/BENCH/%'")"
echo "service, whole HTTP request (median of $runs): ${s} s   [${service[*]}]"
echo "psql, the same aggregates by hand (median of $runs): ${h} s   [${by_hand[*]}]"
echo "ratio: $(echo "scale=2; $s / $h" | bc)"
echo "service peak memory (VmHWM): $((peak_kb / 1024)) MB"
