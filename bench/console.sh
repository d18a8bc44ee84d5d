#!/usr/bin/env bash
# Console benchmark (BENCHMARKS.md, "Console pages"): seeds CASES synthetic cases on a fresh PostgreSQL
# database (`dev seed`: ten years to 2026-11-30, the last 30 days open), registers 40 cases of one
# department through the API and assigns them to a handler, signs in as that handler, the department's office head and an
# administrator through the console's own form, and measures the server-side time of each page
# (p50 / p95 of RUNS requests after a warm-up, through HTTP with the session cookie) and the weight of a
# page with its stylesheet and script.
#
#   bench/console.sh [CASES] [RUNS]      e.g. bench/console.sh 1000000 50
#
# PostgreSQL is reached through FOI_BENCH_POSTGRES_URL (a role that may CREATE DATABASE), default
# postgres://foi_ci:foi_ci@127.0.0.1:5432/foi_ci as .ci/run sets it up.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-1000000}
runs=${2:-50}
base_url=${FOI_BENCH_POSTGRES_URL:-postgres://foi_ci:foi_ci@127.0.0.1:5432/foi_ci}
port=18195
bin=target/release/foi-tracker
password=Lantern-River-2026
cargo build --release --locked >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export FOI_CONFIG_DIR=/nonexistent FOI__LOG__LEVEL=warn FOI__REMINDERS__SCHEDULER=false
db=foi_bench_console_$cases
psql -q "$base_url" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
export FOI__DATABASE__URL="${base_url%/*}/$db"

echo "# console pages, $cases cases, PostgreSQL, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
"$bin" migrate >/dev/null
"$bin" dev seed --cases "$cases" --until 2026-11-30 2>/dev/null | tail -n 1
admin=$("$bin" user add "bench-admin-$$" --role admin --login "bench-admin-$$" | tail -n 1)
"$bin" user add "bench-handler-$$" --role handler --agency BENCH-03 --login "bench-handler-$$" >/dev/null
"$bin" user add "bench-head-$$" --role approver --agency BENCH-03 --login "bench-head-$$" >/dev/null
for login in "bench-admin-$$" "bench-handler-$$" "bench-head-$$"; do
  printf '%s\n' "$password" | "$bin" user password "$login" >/dev/null
done
FOI__SERVER__BIND=127.0.0.1:$port "$bin" serve >"$work/serve.log" 2>&1 &
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
site="http://127.0.0.1:$port"
api="$site/api/v1"

# The handler's 40 open cases: registered and assigned through the API, so each has its event log
# (seeded rows have none, and a case page needs one).
handler_id=$(curl -fsS -H "Authorization: Bearer $admin" "$api/users?role=handler" \
  | python3 -c 'import json,sys; print([u["id"] for u in json.load(sys.stdin) if (u["login"] or "").startswith("bench-handler")][0])')
for i in $(seq 1 40); do
  curl -fsS -H "Authorization: Bearer $admin" -H 'content-type: application/json' "$api/cases" -d "{\"agency\":\"BENCH-03\",\"channel\":\"letter\",\"arrived_at\":\"2026-11-2${i: -1}T09:30:00+08:00\",\"applicant\":{\"kind\":\"natural_person\",\"name\":\"申请人$i\",\"phone\":\"1390000$(printf %04d "$i")\"},\"description\":\"$i 号申请：城区道路改造工程的招标文件和中标通知书\",\"delivery_form\":\"paper\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
done >"$work/ids"
while read -r id; do
  etag=$(curl -fsS -o /dev/null -D - -H "Authorization: Bearer $admin" "$api/cases/$id" | sed -n 's/^etag: //Ip' | tr -d '\r')
  curl -fsS -o /dev/null -H "Authorization: Bearer $admin" -H "If-Match: $etag" -H 'content-type: application/json' \
    -d "{\"action\":{\"type\":\"assign\",\"handler_id\":\"$handler_id\"}}" "$api/cases/$id/actions"
done <"$work/ids"
echo "registered and assigned $(wc -l <"$work/ids") cases of BENCH-03 to the handler"
case_id=$(head -n 1 "$work/ids")
number=$(curl -fsS -H "Authorization: Bearer $admin" "$api/cases/$case_id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tracking_number"])')

# sign_in LOGIN: a cookie jar signed in through the console's form.
sign_in() {
  curl -fsS -o /dev/null -c "$work/$1.jar" -H 'sec-fetch-site: same-origin' \
    --data-urlencode "name=$1" --data-urlencode "password=$password" --data-urlencode "next=/" "$site/login"
}
percentiles() { sort -n | awk '{a[NR]=$1} END {printf "%.1f / %.1f", a[int((NR+1)/2)], a[int(NR*0.95+0.999)]}'; }
# page LOGIN PATH: p50 / p95 ms of RUNS GETs (after one warm-up), failing on anything but 200.
page() {
  curl -fsS -o /dev/null -b "$work/$1.jar" "$site$2"
  for _ in $(seq 1 "$runs"); do
    curl -fsS -o /dev/null -w '%{http_code} %{time_total}\n' -b "$work/$1.jar" "$site$2"
  done | awk '$1 != 200 {exit 1} {print $2 * 1000}' | percentiles
}
weight() { curl -fsS -b "$work/$1.jar" "$site$2" | wc -c; }
for login in "bench-admin-$$" "bench-handler-$$" "bench-head-$$"; do sign_in "$login"; done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| page | p50 / p95 ms |\n|---|---|\n'
printf '| handler work queue (40 cases) | %s |\n' "$(page "bench-handler-$$" /)"
printf '| office head work queue (drafts of BENCH-03) | %s |\n' "$(page "bench-head-$$" /)"
printf '| administrator work queue (overdue, all agencies) | %s |\n' "$(page "bench-admin-$$" /)"
printf '| case page | %s |\n' "$(page "bench-handler-$$" "/cases/$case_id")"
printf '| search, frequent word 道路 | %s |\n' "$(page "bench-admin-$$" "/search?q=%E9%81%93%E8%B7%AF")"
printf '| search, rare word 古树名木 | %s |\n' "$(page "bench-admin-$$" "/search?q=%E5%8F%A4%E6%A0%91%E5%90%8D%E6%9C%A8")"
printf '| search by phone | %s |\n' "$(page "bench-admin-$$" "/search?contact=13900000007")"
printf '| search by tracking number (redirect to the case) | %s |\n' \
  "$(curl -fsS -o /dev/null -b "$work/bench-admin-$$.jar" -w '%{time_total}\n' "$site/search?q=$number" | awk '{printf "%.1f (one request)", $1 * 1000}')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
stylesheet=$(curl -fsS "$site/" | grep -o '/static/console-[0-9a-f]*\.css' | head -n 1)
css=$(curl -fsS "$site$stylesheet" | wc -c)
js=$(curl -fsS "$site/static/htmx-2.0.11.min.js" | wc -c)
for path in / "/cases/$case_id" "/search?q=%E9%81%93%E8%B7%AF"; do
  html=$(weight "bench-admin-$$" "$path")
  echo "page weight $path: HTML $html + CSS $css + script $js = $((html + css + js)) bytes"
done
echo "service peak memory: $(grep VmHWM /proc/"$(pgrep -f "foi-tracker serve" | head -n 1)"/status | awk '{print $2, $3}')"
