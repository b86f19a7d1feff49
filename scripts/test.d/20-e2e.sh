#!/usr/bin/env bash
# End-to-end tests of the real `tessera` binary against real peers (an SMTP
# server, aiosmtpd), in a virtualenv under e2e/.venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${TESSERA_BIN:-}" ]; then
  cargo build --locked -q --bin tessera
  export TESSERA_BIN="$PWD/target/debug/tessera"
fi
if [ ! -x e2e/.venv/bin/python ]; then
  python3 -m venv e2e/.venv
fi
e2e/.venv/bin/pip install -q -r e2e/requirements.txt
e2e/.venv/bin/pytest -q e2e
