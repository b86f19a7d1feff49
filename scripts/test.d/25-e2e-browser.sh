#!/usr/bin/env bash
# The hosted pages in a real browser: headless Chromium (Debian's `chromium`
# package, /usr/bin/chromium) driven by playwright-core (pinned by
# e2e/browser/package-lock.json), with the browser's virtual WebAuthn
# authenticator: register a passkey, sign out, sign in with it.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${TESSERA_BIN:-}" ]; then
  cargo build --locked -q --bin tessera
  export TESSERA_BIN="$PWD/target/debug/tessera"
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "e2e-browser: /usr/bin/chromium is missing (apt-get install chromium; .ci/run does it)" >&2
  exit 1
fi
cd e2e/browser
npm ci --no-audit --no-fund --loglevel=error
node --test --test-concurrency=1
