#!/usr/bin/env bash
# End to end against a real SMTP server: aiosmtpd (from PyPI) stores what it receives in a Maildir; the
# service registers a request, `foi-tracker remind --once` on its deadline morning mails the digest, and
# the Maildir must hold exactly one message naming the case, also after a second run.
# Usage: .ci/smtp-e2e.sh BINARY
set -euo pipefail
bin=$(realpath "$1")
venv=${AIOSMTPD_VENV:-.venv/aiosmtpd}
port=${SMTP_E2E_PORT:-18325}
smtp_port=${SMTP_E2E_SMTP_PORT:-18326}
work=$(mktemp -d)

if [ ! -x "$venv/bin/aiosmtpd" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==1.4.6"
fi
"$venv/bin/aiosmtpd" -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$work/maildir" &
smtpd=$!
export FOI__DATABASE__URL="sqlite://$work/e2e.db" FOI__SERVER__BIND="127.0.0.1:$port" FOI__LOG__LEVEL=warn
export FOI_CONFIG_DIR=/nonexistent FOI__REMINDERS__SCHEDULER=false
"$bin" agency add PJ 盘锦市人民政府 --email gk@panjin.gov.cn >/dev/null
token=$("$bin" user add e2e-clerk --role clerk --agency PJ | tail -n 1)
"$bin" serve >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server $smtpd 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
case_json=$(curl -fsS "http://127.0.0.1:$port/api/v1/cases" -H "Authorization: Bearer $token" \
  -H 'content-type: application/json' \
  -d '{"agency":"PJ","channel":"letter","arrived_at":"2024-03-01T09:30:00+08:00","applicant":{"kind":"natural_person","name":"张三","phone":"15704271234"},"description":"道路改造","delivery_form":"paper"}')
number=$(printf '%s' "$case_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tracking_number"])')
due=$(printf '%s' "$case_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["deadline"]["final_due_on"])')
kill $server
export FOI__MAIL__ENABLED=true FOI__MAIL__SMTP_URL="smtp://127.0.0.1:$smtp_port"
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$smtp_port) 2>/dev/null && break; sleep 0.2; done
"$bin" remind --once --now "${due}T09:00:00+08:00"
"$bin" remind --once --now "${due}T09:05:00+08:00"
sleep 1
count=$(find "$work/maildir/new" -type f | wc -l)
[ "$count" -eq 1 ] || { echo "expected 1 message in the Maildir, found $count" >&2; exit 1; }
"$venv/bin/python" - "$work/maildir" "$number" <<'PY'
import mailbox, sys
box = mailbox.Maildir(sys.argv[1], create=False)
[message] = list(box)
body = message.get_payload(decode=True).decode("utf-8")
assert message["To"] == "gk@panjin.gov.cn", message["To"]
assert sys.argv[2] in body and "今日到期" in body and "张*" in body, body
print(f"aiosmtpd received one digest for {sys.argv[2]}")
PY
