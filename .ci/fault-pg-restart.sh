#!/usr/bin/env bash
# Fault test: PostgreSQL restarts while clients keep asking. Four client loops read through the
# service during `pg_ctlcluster restart`; after the server accepts connections again, requests must
# succeed within 5 s, and no request may answer 500 (503 while it is down is right).
# Prints: the outage, the recovery time and the status counts.
# Usage: .ci/fault-pg-restart.sh BINARY POSTGRES_URL PG_VERSION
set -euo pipefail
bin=$(realpath "$1")
url=$2
pg_version=$3
port=${FAULT_PORT:-18140}
work=$(mktemp -d)
export FOI__DATABASE__URL="$url" FOI__SERVER__BIND="127.0.0.1:$port" FOI__LOG__LEVEL=warn
export FOI_CONFIG_DIR=/nonexistent FOI__REMINDERS__SCHEDULER=false FOI__DATABASE__CONNECT_TIMEOUT_SECONDS=2
"$bin" migrate >/dev/null
"$bin" agency add FAULT 故障测试市 >/dev/null 2>&1 || true
token=$("$bin" user add fault-reader --role statistician --agency FAULT | tail -n 1)
"$bin" serve >"$work/serve.log" 2>&1 &
server=$!
loops=()
cleanup() { kill "${loops[@]}" $server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done

client() {
  while :; do
    code=$(curl -s -o /dev/null -m 10 -w '%{http_code}' -H "Authorization: Bearer $token" \
      "http://127.0.0.1:$port/api/v1/agencies" || true)
    printf '%s %s\n' "$(date +%s.%N)" "$code"
  done
}
for i in 1 2 3 4; do client >"$work/client$i.log" & loops+=($!); done
sleep 2
down_at=$(date +%s.%N)
pg_ctlcluster "$pg_version" main restart
until pg_isready -q -h 127.0.0.1 -p 5432; do sleep 0.05; done
up_at=$(date +%s.%N)
sleep 7
kill "${loops[@]}" 2>/dev/null || true
wait "${loops[@]}" 2>/dev/null || true
loops=()
ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")

cat "$work"/client*.log | sort -n | python3 -c '
import sys
down, up, ready = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
rows = [(float(t), c) for t, c in (line.split() for line in sys.stdin if len(line.split()) == 2)]
counts = {}
for _, c in rows:
    counts[c] = counts.get(c, 0) + 1
first_ok = next((t for t, c in rows if t >= up and c == "200"), None)
# The last failure after the server came back, if any.
last_bad = max((t for t, c in rows if t >= up and c != "200"), default=None)
recovery = (first_ok - up) if first_ok else None
print(f"PostgreSQL restart: down for {up - down:.2f} s; first success {recovery:.2f} s after it accepted connections"
      if recovery is not None else "no success after the restart")
print(f"requests: {len(rows)}; by status: {dict(sorted(counts.items()))}; last failure after restart: "
      + (f"{last_bad - up:.2f} s" if last_bad else "none") + f"; /readyz now {ready}")
ok = recovery is not None and recovery <= 5 and counts.get("500", 0) == 0 and ready == "200" \
     and (last_bad is None or last_bad - up <= 5)
sys.exit(0 if ok else 1)
' "$down_at" "$up_at" "$ready"
