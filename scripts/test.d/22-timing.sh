#!/usr/bin/env bash
# Timing suite (issue 15): known vs unknown addresses on the enumeration-
# sensitive routes, against the real binary on SQLite. Prints a table; fails
# only on a large, significant difference on a quiet machine (see
# e2e/timing/timing.py and docs/security.md, "Timing"). Standard library
# Python only; about 2-3 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${TESSERA_BIN:-}" ]; then
  cargo build --locked -q --bin tessera
  export TESSERA_BIN="$PWD/target/debug/tessera"
fi
python3 e2e/timing/timing.py
