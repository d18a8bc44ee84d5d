#!/usr/bin/env bash
# The console in a real browser (.ci/e2e/console.py): Chromium and chromedriver from Debian, or with
# E2E_BROWSER=firefox Firefox ESR from Debian and geckodriver built from crates.io (Debian has none),
# Selenium in a virtualenv. Serves a fresh database with the built binary and saves the screenshots.
# Usage: [E2E_BROWSER=firefox] .ci/console-e2e.sh BINARY DATABASE_URL SCREENSHOT_DIR [PORT]
set -euo pipefail
bin=$(realpath "$1")
db_url=$2
shots=$3
port=${4:-18131}
here=$(cd "$(dirname "$0")" && pwd)
venv=${E2E_VENV:-.venv/e2e}

# Chinese fonts, so the screenshots show the console as an office sees it.
if [ "${E2E_BROWSER:-chromium}" = firefox ]; then
  if ! command -v firefox-esr >/dev/null || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q firefox-esr fonts-noto-cjk
  fi
  tools=$(cd "$here/.." && pwd)/target/e2e-tools
  if [ ! -x "$tools/bin/geckodriver" ]; then
    cargo install --quiet --locked geckodriver --version 0.37.1 --root "$tools"
  fi
  export GECKODRIVER=$tools/bin/geckodriver
elif ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver fonts-noto-cjk
fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "selenium==4.51.0"
fi

work=$(mktemp -d)
export FOI__DATABASE__URL=$db_url FOI__SERVER__BIND=127.0.0.1:$port FOI__LOG__LEVEL=warn
export FOI_CONFIG_DIR=/nonexistent FOI__REMINDERS__SCHEDULER=false
"$bin" agency add PJ 盘锦市人民政府 --email gk@panjin.gov.cn >/dev/null
"$bin" agency add PJ-XLT 兴隆台区人民政府 --parent PJ >/dev/null
"$bin" agency topic PJ urban 城建环保类 >/dev/null
token=$("$bin" user add e2e-admin --role admin | tail -n 1)

"$bin" serve >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null

status=0
"$venv/bin/python" "$here/e2e/console.py" "http://127.0.0.1:$port" "$token" "$shots" || status=$?
if grep -q "panicked" "$work/serve.log"; then
  echo "the service panicked during the run:" >&2
  grep -A3 "panicked" "$work/serve.log" >&2
  status=1
fi
[ $status -eq 0 ] || tail -n 30 "$work/serve.log" >&2
exit $status
