#!/usr/bin/env bash
# The served OpenAPI document is one a front end can generate a client from: it passes
# openapi-spec-validator (every operationId unique, every reference resolvable), and a TypeScript client
# generated from it with openapi-typescript type-checks under `tsc --strict` (.ci/ts-client/client.ts
# uses it as a front end would). Versions are pinned (PyPI and npm).
# Usage: .ci/openapi-client.sh BINARY
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
port=${OPENAPI_CLIENT_PORT:-18150}
work=$(mktemp -d)
venv=${SPEC_VALIDATOR_VENV:-.venv/spec-validator}
FOI_CONFIG_DIR=/nonexistent FOI__DATABASE__URL="sqlite://$work/doc.db" FOI__SERVER__BIND="127.0.0.1:$port" \
  FOI__LOG__LEVEL=warn FOI__REMINDERS__SCHEDULER=false "$bin" serve >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$port/api/v1/openapi.json" -o "$here/ts-client/openapi.json"

if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "openapi-spec-validator==0.9.0"
fi
"$venv/bin/openapi-spec-validator" "$here/ts-client/openapi.json"

cd "$here/ts-client"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
npx --no-install openapi-typescript openapi.json --output schema.d.ts >/dev/null
npx --no-install tsc --project tsconfig.json
operations=$(python3 -c 'import json; d=json.load(open("openapi.json")); print(sum(len(v) for v in d["paths"].values()))')
echo "OpenAPI document valid; the TypeScript client for its $operations operations passes tsc --strict"
