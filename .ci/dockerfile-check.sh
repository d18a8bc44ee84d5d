#!/usr/bin/env bash
# Checks the Dockerfile's build stage without a Docker engine: replays its COPY lines into an empty
# directory (only what the image would see), then type-checks there what its two `cargo build` steps
# build: the dependency layer (with the stub src/ the Dockerfile writes) and the service. A file the
# build needs but the Dockerfile does not copy (a crate, an include_str!, an embedded migration, a
# bench named in Cargo.toml) fails this check. Also checks that compose.yaml parses and names the
# services the README describes.
# Usage: .ci/dockerfile-check.sh   (from the repository root; reuses ./target for dependencies)
set -euo pipefail
root=$(pwd)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
# The same target directory: registry dependencies are reused; the copied workspace builds apart.
export CARGO_TARGET_DIR="$root/target"

# The build stage: from the first FROM to the second.
stage=$(awk '/^FROM /{n++} n==1' Dockerfile)
copy_into() { # COPY arguments: sources... destination (relative to WORKDIR /src)
  local args=("$@") dest=${args[-1]}
  unset 'args[-1]'
  for src in "${args[@]}"; do
    [ -e "$root/$src" ] || { echo "Dockerfile copies $src, which does not exist" >&2; exit 1; }
    mkdir -p "$ctx/$(dirname "$dest")"
    if [ "$dest" = "./" ] || [ "$dest" = "." ]; then cp -r "$root/$src" "$ctx/"; else cp -r "$root/$src" "$ctx/$dest"; fi
  done
}
phase=deps
while IFS= read -r line; do
  case "$line" in
    COPY\ --from*) ;;
    COPY\ *)
      read -r -a words <<<"${line#COPY }"
      if [ "$phase" = deps ] && [[ " ${words[*]} " == *" src "* ]]; then
        # The Dockerfile's stub step ran before this COPY: check the dependency layer first.
        (cd "$ctx" && mkdir -p src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
          && cargo check --locked --quiet) || { echo "the dependency layer does not build" >&2; exit 1; }
        rm -rf "$ctx/src"
        phase=service
      fi
      copy_into "${words[@]}"
      ;;
  esac
done <<<"$stage"
[ "$phase" = service ] || { echo "the Dockerfile never copies src" >&2; exit 1; }
(cd "$ctx" && cargo check --locked --quiet) || { echo "the service does not build from what the Dockerfile copies" >&2; exit 1; }
# The runtime stage copies the configuration from the context.
grep -q '^COPY config /app/config' Dockerfile
echo "Dockerfile: every path its build needs is copied ($(find "$ctx" -type f | wc -l) files)"

venv=${YAML_VENV:-.venv/yaml}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import yaml' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "PyYAML==6.0.2"
fi
"$venv/bin/python" - <<'PY'
import yaml
doc = yaml.safe_load(open("compose.yaml"))
services = doc["services"]
assert set(services) >= {"foi-tracker", "postgres", "mailpit"}, services.keys()
app = services["foi-tracker"]
env = app["environment"]
assert env["FOI__DATABASE__URL"].startswith("postgres://"), env
assert env["FOI__MAIL__SMTP_URL"].startswith("smtp://mailpit:"), env
assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
print("compose.yaml: services", ", ".join(sorted(services)))
PY
