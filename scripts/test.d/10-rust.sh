#!/usr/bin/env bash
# The Rust workspace: unit tests, the conformance suite on every backend, the
# test-vector check, doc tests and examples; a stable `cargo check` of the
# cargo-fuzz targets (fuzz/). PostgreSQL tests need a server:
# TESSERA_TEST_DATABASE_URL if set, else a throwaway one from pg_virtualenv.
set -euo pipefail
cd "$(dirname "$0")/../.."
run() {
  set -euo pipefail
  cargo test --workspace --locked --no-fail-fast
  cargo run --locked -q -p tessera-core --example embed_memory
  # The cargo-fuzz targets (fuzz/, their own workspace, nightly to run):
  # checked to compile on stable, not built. A target dir of their own. Their
  # lock file is the root's (copied, not kept in git, so it cannot drift);
  # cargo only adds the fuzzing crates to it.
  cp Cargo.lock fuzz/Cargo.lock
  cargo check --manifest-path fuzz/Cargo.toml --bins \
    --target-dir "${CARGO_TARGET_DIR:-target}/fuzz-check"
}
if [ -n "${TESSERA_TEST_DATABASE_URL:-}" ] || ! command -v pg_virtualenv >/dev/null; then
  run
else
  export -f run
  pg_virtualenv bash -c run
fi
