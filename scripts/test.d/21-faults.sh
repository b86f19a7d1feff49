#!/usr/bin/env bash
# Fault tests of the real `tessera` binary (e2e/faults, issue 14): kill -9
# during writes on SQLite and on Postgres, kill -9 with queued mail, a full and
# a read-only disk under SQLite, Postgres stopped and restarted under load, two
# instances on one Postgres. Postgres is a throwaway cluster of the tests' own
# (initdb in a temporary directory; run as the `postgres` user when root). As
# root the disk faults are real (a filled tmpfs, chattr +i); without root a
# file-size limit plays them, and the tests say so.
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
e2e/.venv/bin/pytest -q -rw e2e/faults
