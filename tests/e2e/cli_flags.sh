#!/usr/bin/env bash
# The keyledger binary's command line: unknown, missing and malformed flags are refused with exit
# status 2 and a line naming the flag (and the value); environment variables stand in for flags;
# `keyledger help` lists every subcommand. No broker needed: every case fails before connecting.
#   cli_flags.sh KEYLEDGER_BINARY
set -uo pipefail
bin=$1
failures=0
expect() {  # expect STATUS TEXT -- ARGS...: the binary exits STATUS and its stderr/stdout contain TEXT
  local want=$1 text=$2
  shift 3
  local out
  out=$("$bin" "$@" 2>&1)
  local got=$?
  if [[ $got -ne $want || $out != *"$text"* ]]; then
    echo "FAIL: keyledger $* -> exit $got (want $want), output: $out (want it to contain: $text)"
    failures=$((failures + 1))
  fi
}
expect 2 "--bogus" -- serve --db /tmp/kl-cli-test --bogus 1
expect 2 "--db is required" -- serve
expect 2 "--db is required" -- replay
expect 2 "--max-events-per-second: Value abc" -- replay --db /tmp/kl-cli-test --max-events-per-second abc
expect 2 "--max-events-per-second: Value -5" -- project --db /tmp/kl-cli-test --max-events-per-second=-5
expect 2 "--partitions: Value 0" -- serve --db /tmp/kl-cli-test --partitions 0
expect 2 "--listen" -- serve --db /tmp/kl-cli-test --listen nowhere
expect 2 "--role" -- token --jwt-secret 0123456789abcdef0123456789abcdef --role admin
expect 2 "--team is required" -- audit --db /tmp/kl-cli-test
expect 2 "give one of --key and --model" -- as-of --db /tmp/kl-cli-test --team t --offset 1
expect 2 "offset must be a non-negative integer" -- as-of --db /tmp/kl-cli-test --team t --key k --offset x
expect 2 "A subcommand is required" --
expect 2 "frobnicate" -- frobnicate
expect 2 "--when-stale" -- validator --when-stale maybe
expect 2 "--max-staleness" -- validator --max-staleness -5
expect 2 "--partition is required" -- skip --operator-token-file /dev/null --offset 1 --sha256 ab --note n
expect 2 "--operator-token-file is required" -- import-legacy /dev/null
# An environment variable stands in for its flag (KEYLEDGER_DB for --db): the parse goes on to
# the next problem instead of asking for --db.
out=$(KEYLEDGER_DB=/tmp/kl-cli-test "$bin" replay --max-events-per-second abc 2>&1)
if [[ $out == *"--db is required"* || $out != *"Value abc"* ]]; then
  echo "FAIL: KEYLEDGER_DB did not stand in for --db: $out"
  failures=$((failures + 1))
fi
help=$("$bin" help)
for command in serve validator project replay verify audit as-of import-legacy skip halts token catalog; do
  if ! grep -q "^$command\$" <<<"$help"; then
    echo "FAIL: keyledger help does not list $command"
    failures=$((failures + 1))
  fi
done
# A flag given twice takes its last value.
token=$("$bin" token --jwt-secret 0123456789abcdef0123456789abcdef --role owner --role member)
payload=$(cut -d. -f2 <<<"$token" | tr '_-' '/+')
while (( ${#payload} % 4 )); do payload+="="; done
if [[ $(base64 -d <<<"$payload") != *'"role":"member"'* ]]; then
  echo "FAIL: a repeated flag did not take its last value"
  failures=$((failures + 1))
fi
if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "cli flags: all cases as expected"
