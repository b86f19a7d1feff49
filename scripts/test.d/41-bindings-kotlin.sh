#!/usr/bin/env bash
# The Kotlin binding (bindings/uniffi): its Maven build builds libtessera_uniffi,
# generates the Kotlin sources from it (uniffi library mode; not committed),
# compiles them with the hand-written Kotlin and runs the JUnit 5 suite,
# loading the freshly built library through JNA. The benchmark (tag "bench")
# is excluded; run it with `mvn -f bindings/uniffi/kotlin/pom.xml test -Pbench`.
set -euo pipefail
cd "$(dirname "$0")/../.."
target_dir="$(realpath "${CARGO_TARGET_DIR:-target}")"
mvn -q -B -f bindings/uniffi/kotlin/pom.xml test -Dtessera.lib.dir="$target_dir/debug"
