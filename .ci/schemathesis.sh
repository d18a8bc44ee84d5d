#!/usr/bin/env bash
# Fuzzes the running service against its own OpenAPI document: fails on any 5xx response and on any
# response that breaks the published schema (status body, content type, headers).
# Usage: .ci/schemathesis.sh BINARY DATABASE_URL   (the binary is the one the tests built)
set -euo pipefail
bin=$(realpath "$1")
db_url=$2
port=${SCHEMATHESIS_PORT:-18123}
work=$(mktemp -d)
venv=${SCHEMATHESIS_VENV:-.venv/schemathesis}

if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi

export FOI__DATABASE__URL=$db_url
export FOI__SERVER__BIND=127.0.0.1:$port
export FOI__LOG__LEVEL=warn
# Fuzzing is not an attack: the rate limits (tested on their own) would otherwise answer 429 to it.
export FOI__LIMITS__CALCULATOR_PER_MINUTE=10000000 FOI__LIMITS__FAILED_AUTH_PER_MINUTE=10000000
export FOI__LIMITS__FAILED_LOGINS_PER_USER=10000000 FOI__LIMITS__FAILED_LOGINS_PER_ADDRESS=10000000 FOI__LIMITS__FAILED_LOGIN_DELAY_MS=0
# Some real data for the fuzzer to find: a city, a district, a topic and one case.
"$bin" agency add PJ 盘锦市人民政府 --email gk@panjin.gov.cn >/dev/null
"$bin" agency add PJ-XLT 兴隆台区人民政府 --parent PJ >/dev/null
"$bin" agency topic PJ urban 城建环保类 >/dev/null
token=$("$bin" user add schemathesis --role admin | tail -n 1)

"$bin" serve >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null

curl -fsS "http://127.0.0.1:$port/api/v1/cases" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"agency":"PJ","channel":"letter","arrived_at":"2015-03-02T09:30:00+08:00","applicant":{"kind":"natural_person","name":"张三","phone":"15704271234"},"description":"道路改造","delivery_form":"paper","topic":"urban"}' >/dev/null

status=0
# .ci/python/sitecustomize.py works around a CPython 3.11 bug that Hypothesis can hit (see there).
PYTHONPATH="$(dirname "$0")/python${PYTHONPATH:+:$PYTHONPATH}" "$venv/bin/schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance,content_type_conformance,response_headers_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-60}" \
  --seed 20151231 \
  --generation-allow-x00 true \
  --no-color \
  --workers 2 || status=$?

if grep -q "panicked" "$work/serve.log"; then
  echo "the service panicked during the run:" >&2
  grep -A3 "panicked" "$work/serve.log" >&2
  status=1
fi
exit $status
