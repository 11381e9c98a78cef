#!/usr/bin/env bash
# The console's checks: clean install, lint, unit tests, build and, when a real stack can be
# started (KEYLEDGER_BINARY and KEYLEDGER_BOOTSTRAP set), the Playwright end-to-end suite.
# Fails on any failure; a skipped test is never counted as passed (it fails the run).
# KEYLEDGER_SANITIZED=1 (ctest sets it in the ASan and TSan builds): lint and the unit tests, which
# run no C++ code and are checked by the dev stage, are left out; the build and the end-to-end
# suite against the sanitized serve run as always.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm ci --no-audit --no-fund

mkdir -p test-results
rm -f test-results/unit-results.json test-results/e2e-results.json
if [[ ${KEYLEDGER_SANITIZED:-} == 1 ]]; then
  echo "console lint and unit tests: left to the dev stage (KEYLEDGER_SANITIZED=1)"
else
  npm run lint
  npm test -- --reporter=default --reporter=json --outputFile.json=test-results/unit-results.json
  node -e '
    const r = require("./test-results/unit-results.json");
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`console unit: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
    if (r.numTotalTests === 0 || r.numFailedTests > 0 || skipped > 0 || r.numPassedTests !== r.numTotalTests) {
      console.error("console unit tests: not all tests ran and passed");
      process.exit(1);
    }
  '
fi

npm run build

if [[ -n ${KEYLEDGER_BINARY:-} && -n ${KEYLEDGER_BOOTSTRAP:-} ]]; then
  chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
  if [[ ! -x $chromium ]]; then
    echo "the end-to-end suite needs Chromium at $chromium (apt-get install -y chromium, or set CHROMIUM_PATH)" >&2
    exit 1
  fi
  npm run e2e
  node -e '
    const s = require("./test-results/e2e-results.json").stats;
    console.log(`console e2e: ${s.expected} passed, ${s.unexpected + s.flaky} failed, ${s.skipped} skipped`);
    if (s.expected === 0 || s.unexpected > 0 || s.flaky > 0 || s.skipped > 0) {
      console.error("console e2e: not all tests ran and passed");
      process.exit(1);
    }
  '
else
  echo "console e2e: not run (set KEYLEDGER_BINARY and KEYLEDGER_BOOTSTRAP to run it against a real stack)"
fi
