#!/usr/bin/env bash
# The Kotlin binding (bindings/uniffi): builds libtessera_uniffi, generates the
# Kotlin sources from it (uniffi library mode; not committed), then compiles
# them with the hand-written Kotlin and runs the JUnit 5 suite through Maven,
# loading the freshly built library through JNA. The benchmark (tag "bench")
# is excluded; run it with `mvn -f bindings/uniffi/kotlin/pom.xml test -Pbench`.
set -euo pipefail
cd "$(dirname "$0")/../.."
target_dir="$(realpath "${CARGO_TARGET_DIR:-target}")"
cargo build --locked -p tessera-uniffi
out=bindings/uniffi/kotlin/target/generated-sources/uniffi
rm -rf "$out"
cargo run --locked -q -p tessera-uniffi --bin uniffi-bindgen -- generate \
  --library "$target_dir/debug/libtessera_uniffi.so" --language kotlin \
  --out-dir "$out" --no-format
mvn -q -B -f bindings/uniffi/kotlin/pom.xml test -Dtessera.lib.dir="$target_dir/debug"
