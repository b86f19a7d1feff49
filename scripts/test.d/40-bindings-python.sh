#!/usr/bin/env bash
# The Python binding (bindings/python): builds and installs the package into a
# venv (created on first use, reused after) exactly as its README says,
# `pip install ./bindings/python` (with the test and example extras), then runs
# pytest on every backend: memory, a SQLite file and PostgreSQL. PostgreSQL is
# TESSERA_TEST_DATABASE_URL if set, else a throwaway server from pg_virtualenv;
# with neither the Postgres tests fail, unless TESSERA_SKIP_POSTGRES=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=bindings/python/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
# A release build of the extension (maturin, abi3); ~2 min cold on 2 cores.
"$venv/bin/python" -m pip install -q './bindings/python[test,example]'
# tests/test_oauth.py signs in through the end-to-end suite's real OpenID
# Connect provider (e2e/oidc, oidc-provider from npm): installed when missing
# or older than its lockfile, as scripts/test.d/20-e2e.sh does.
if [ ! -f e2e/oidc/node_modules/.package-lock.json ] \
  || [ e2e/oidc/package-lock.json -nt e2e/oidc/node_modules/.package-lock.json ]; then
  (cd e2e/oidc && npm ci --no-audit --no-fund --loglevel=error)
fi
run() {
  cd bindings/python
  .venv/bin/python -m pytest -q
}
if [ -n "${TESSERA_TEST_DATABASE_URL:-}" ] || ! command -v pg_virtualenv >/dev/null; then
  run
else
  export -f run
  pg_virtualenv bash -c run
fi
