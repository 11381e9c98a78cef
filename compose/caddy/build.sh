#!/usr/bin/env bash
# Builds Caddy (the second shipped gateway, compose/deploy/caddy/Caddyfile) from the Go module
# proxy into the cache, once; prints the binary's path. Nothing goes into the repository: the
# module cache, build cache and binary live under $KEYLEDGER_CACHE (default ~/.cache/keyledger),
# like the broker jars. About 2 minutes and 1 GB of module cache the first time; instant after.
#   compose/caddy/build.sh
set -euo pipefail
CADDY_VERSION=v2.11.9
cache_root=${KEYLEDGER_CACHE:-$HOME/.cache/keyledger}
dir=$cache_root/caddy-$CADDY_VERSION
bin=$dir/bin/caddy
# `caddy version` says "unknown" for a `go install` build; build-info names the module version.
if [[ -x $bin ]] && "$bin" build-info 2>/dev/null | grep -q "^mod	github.com/caddyserver/caddy/v2	${CADDY_VERSION}	"; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "caddy: Go is not installed (compose/install-deps.sh)" >&2; exit 1; }
mkdir -p "$dir/bin"
echo "caddy: building Caddy $CADDY_VERSION from the Go module proxy into $dir (once)" >&2
export GOPATH=$cache_root/go GOMODCACHE=$cache_root/go/pkg/mod GOCACHE=$cache_root/go/build-cache
export GOBIN=$dir/bin GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
if ! go install "github.com/caddyserver/caddy/v2/cmd/caddy@$CADDY_VERSION" >"$dir/build.log" 2>&1; then
  tail -n 30 "$dir/build.log" >&2
  echo "caddy: the build failed (log: $dir/build.log)" >&2
  exit 1
fi
"$bin" build-info | sed -n 3p >&2
echo "$bin"
