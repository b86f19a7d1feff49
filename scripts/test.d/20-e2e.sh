#!/usr/bin/env bash
# End-to-end tests of the real `tessera` binary against real peers (an SMTP
# server, aiosmtpd; an OpenID Connect provider, oidc-provider on Node.js; a
# GitHub-like OAuth2 server), in a virtualenv under e2e/.venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${TESSERA_BIN:-}" ]; then
  cargo build --locked -q --bin tessera
  export TESSERA_BIN="$PWD/target/debug/tessera"
fi
# The Rust SDK's checker of real webhook deliveries (e2e/webhooks), a small
# example of sdks/rust.
if [ -z "${TESSERA_SDK_CHECKER:-}" ]; then
  cargo build --locked -q -p tessera-sdk --example check_deliveries
  export TESSERA_SDK_CHECKER="$PWD/target/debug/examples/check_deliveries"
fi
if [ ! -x e2e/.venv/bin/python ]; then
  python3 -m venv e2e/.venv
fi
e2e/.venv/bin/pip install -q -r e2e/requirements.txt
# Our Python SDK, whose verify_webhook checks real deliveries (e2e/webhooks).
e2e/.venv/bin/pip install -q -e sdks/python
# The OpenID Connect provider of the OAuth tests (oidc-provider, pinned by the
# lockfile): installed when missing or older than the lockfile.
if [ ! -f e2e/oidc/node_modules/.package-lock.json ] \
  || [ e2e/oidc/package-lock.json -nt e2e/oidc/node_modules/.package-lock.json ]; then
  (cd e2e/oidc && npm ci --no-audit --no-fund --loglevel=error)
fi
# The official standardwebhooks npm package of the webhook tests (pinned by
# the lockfile), installed the same way.
if [ ! -f e2e/webhooks/node/node_modules/.package-lock.json ] \
  || [ e2e/webhooks/node/package-lock.json -nt e2e/webhooks/node/node_modules/.package-lock.json ]; then
  (cd e2e/webhooks/node && npm ci --no-audit --no-fund --loglevel=error)
fi
# Our Node SDK's dist/, whose verifyWebhook checks real deliveries: npm ci
# (which builds dist/) when its packages are missing or older than the
# lockfile, else tsc when a source is newer than dist/.
if [ ! -f sdks/node/node_modules/.package-lock.json ] \
  || [ sdks/node/package-lock.json -nt sdks/node/node_modules/.package-lock.json ]; then
  (cd sdks/node && npm ci --no-audit --no-fund --loglevel=error)
elif [ ! -f sdks/node/dist/index.js ] || [ -n "$(find sdks/node/src -newer sdks/node/dist/index.js)" ]; then
  (cd sdks/node && npm run --silent build)
fi
# The Go SDK's module dependencies, for its checker of real deliveries
# (go build in e2e/webhooks; a no-op once in the module cache).
(cd sdks/go && go mod download)
e2e/.venv/bin/pytest -q e2e --ignore=e2e/faults
