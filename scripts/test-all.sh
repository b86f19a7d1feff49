#!/usr/bin/env bash
# Runs every test of the repository: the Rust workspace (memory, SQLite and a
# throwaway PostgreSQL), the SDKs and the bindings. Each part lives in
# scripts/test.d/NN-name.sh and installs what it needs (without root) first.
# Usage: scripts/test-all.sh [PART ...]   e.g. scripts/test-all.sh rust
set -euo pipefail
cd "$(dirname "$0")/.."
parts=("$@")
failed=()
# The SDK end-to-end tests run against a real `tessera serve`: build it once.
if [ -z "${TESSERA_BIN:-}" ]; then
  cargo build --locked -q --bin tessera
  export TESSERA_BIN="$PWD/target/debug/tessera"
fi
for script in scripts/test.d/*.sh; do
  name=$(basename "$script" .sh); name=${name#*-}
  if [ ${#parts[@]} -gt 0 ] && [[ ! " ${parts[*]} " =~ " $name " ]]; then continue; fi
  echo "=== $name ($(date -u +%H:%M:%S))"
  start=$SECONDS
  if bash "$script"; then
    echo "=== $name passed in $((SECONDS - start))s"
  else
    echo "=== $name FAILED after $((SECONDS - start))s"
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all tests passed"
