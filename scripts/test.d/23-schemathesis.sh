#!/usr/bin/env bash
# API fuzzing (issue 15): schemathesis (pinned in e2e/schemathesis/
# requirements.txt, in a virtualenv under e2e/schemathesis/.venv) against the
# real binary's /v1/openapi.json, as a user and as an admin: no 5xx, only
# documented statuses and content types, bodies that match the document.
# Bounded examples per operation (SCHEMATHESIS_MAX_EXAMPLES, default 25; see
# e2e/schemathesis/run.py and docs/security.md, "API fuzzing").
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${TESSERA_BIN:-}" ]; then
  cargo build --locked -q --bin tessera
  export TESSERA_BIN="$PWD/target/debug/tessera"
fi
if [ ! -x e2e/schemathesis/.venv/bin/python ]; then
  python3 -m venv e2e/schemathesis/.venv
fi
e2e/schemathesis/.venv/bin/pip install -q -r e2e/schemathesis/requirements.txt
e2e/schemathesis/.venv/bin/python e2e/schemathesis/run.py
