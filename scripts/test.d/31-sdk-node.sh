#!/usr/bin/env bash
# The TypeScript SDK (sdks/node): installs exactly the locked dependencies
# (npm ci, which also builds dist/ through the prepare script) and runs
# npm test (tsc, then node --test), as its README says. The end-to-end test
# runs when TESSERA_BIN is set and is skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/../../sdks/node"
npm ci --no-audit --no-fund
npm test
