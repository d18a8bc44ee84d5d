#!/usr/bin/env bash
# The ledger-import benchmark: N synthetic rows (bench/import-ledger.py) imported into a fresh PostgreSQL
# database with the release binary: a dry run, the import, the same file again (all skipped), then
# the audit of every imported case.
# Usage: bench/import.sh [N]   (PostgreSQL as .ci/run sets it up, or FOI_BENCH_POSTGRES_URL)
set -euo pipefail
n=${1:-100000}
db=${FOI_BENCH_POSTGRES_URL:-postgres://foi_ci:foi_ci@127.0.0.1:5432/foi_bench_import}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --locked --quiet
bin=target/release/foi-tracker
python3 bench/import-ledger.py "$n" "$work/ledger.csv"
su postgres -c "psql -qc 'DROP DATABASE IF EXISTS foi_bench_import' -c 'CREATE DATABASE foi_bench_import OWNER foi_ci'" 2>/dev/null || true
export FOI__DATABASE__URL=$db FOI_CONFIG_DIR=/nonexistent FOI__LOG__LEVEL=warn
"$bin" agency add BJ 基准测试局 >/dev/null
for run in "--dry-run" "" ""; do
  /usr/bin/time -f "  %e s wall, %M KB peak RSS" "$bin" import cases "$work/ledger.csv" --agency BJ $run 2>&1 | tail -2
done
/usr/bin/time -f "  %e s wall" "$bin" audit verify 2>&1 | tail -2
