#!/usr/bin/env bash
# Installs the Debian packages keyledger needs to build, test and run locally.
# Safe to run again: when every package is present it prints one line and changes nothing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  librdkafka-dev librocksdb-dev capnproto libcapnp-dev libssl-dev
  libboost1.81-dev libboost-json1.81-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  kcat wrk curl openssl python3 python3-venv
  openjdk-17-jre-headless maven
  clang libclang-rt-14-dev
  nginx-light
  prometheus   # promtool: the metrics tests check /metrics with `promtool check metrics`
  chromium     # the console's browser tests (Playwright drives Debian's Chromium)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
