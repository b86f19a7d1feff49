package dev.tessera

import java.nio.file.Path
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Tag
import org.junit.jupiter.api.io.TempDir
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource

/**
 * Binding overhead: session validations per second from Kotlin (each a
 * `suspend` call through uniffi and JNA) against the same validations in a
 * Rust loop in the same process (`benchValidateSessionNative`). The difference
 * per call is what the binding costs.
 *
 * Not part of the default run; use a release library:
 *   cargo build --release -p tessera-uniffi
 *   mvn -B -f bindings/uniffi/kotlin/pom.xml test -Pbench -Dtessera.lib.dir=$PWD/target/release
 * Iterations: -Dbench.iterations=N (default 50000).
 */
@Tag("bench")
class BenchTest {
    @TempDir
    lateinit var dir: Path

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = ["memory", "sqlite"])
    fun `validate session, Kotlin vs Rust`(store: String) = runBlocking {
        val iterations = System.getProperty("bench.iterations")?.toLong() ?: 50_000L
        openTestTessera(store, dir).use { t ->
            val token = t.signUp("bench@example.com", "correct horse battery staple")!!.sessionToken!!
            val rounds = 5
            val kotlin = LongArray(rounds)
            val rust = LongArray(rounds)
            val sync = LongArray(rounds)
            // Warm up both paths (JIT, caches), then alternate so drift hits both alike.
            repeat(iterations.toInt() / 5) { t.validateSession(token) }
            t.benchValidateSessionNative(token, iterations / 5)
            for (r in 0 until rounds) {
                var start = System.nanoTime()
                for (i in 0 until iterations) t.validateSession(token)
                kotlin[r] = System.nanoTime() - start
                rust[r] = t.benchValidateSessionNative(token, iterations)
                start = System.nanoTime()
                for (i in 0 until iterations) t.issuer()
                sync[r] = System.nanoTime() - start
            }
            // Best round of each: the least disturbed by the other tenants of the machine.
            val kNs = kotlin.min().toDouble() / iterations
            val rNs = rust.min().toDouble() / iterations
            val sNs = sync.min().toDouble() / iterations
            val line = String.format(
                java.util.Locale.ROOT,
                "BENCH store=%s iterations=%d rounds=%d | kotlin validateSession: %.0f/s (%.2f us/call) | " +
                    "rust loop: %.0f/s (%.2f us/call) | binding overhead: %.2f us/call | sync issuer() call: %.2f us",
                store, iterations, rounds, 1e9 / kNs, kNs / 1000, 1e9 / rNs, rNs / 1000, (kNs - rNs) / 1000, sNs / 1000,
            )
            println(line)
        }
    }
}
