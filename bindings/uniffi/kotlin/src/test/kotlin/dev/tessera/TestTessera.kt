package dev.tessera

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.io.TempDir
import kotlin.test.assertTrue

/**
 * The one way the tests open a Tessera: a fresh store, fast test-only
 * password hashing. `store` is "memory" (in-process) or "sqlite" (the file
 * `tessera.db` in `dir`, checked to exist so the test is not silently on
 * memory); `issuer` is the public base URL when a test needs a known one.
 */
suspend fun openTestTessera(store: String = "memory", dir: Path? = null, issuer: String? = null): Tessera {
    val url = when (store) {
        "memory" -> "memory://"
        "sqlite" -> "sqlite://" + requireNotNull(dir) { "a SQLite store needs a directory" }.resolve("tessera.db").toAbsolutePath()
        else -> error("unknown store $store")
    }
    val t = Tessera.open(
        url,
        generateKeyEncryptionKey(),
        OpenOptions(insecureFastPasswordHashingForTests = true, issuer = issuer),
    )
    if (store == "sqlite") {
        assertTrue(Files.exists(dir!!.resolve("tessera.db")), "a SQLite file, not an in-memory store")
    }
    return t
}

/** Run `block` on a fresh Tessera ([openTestTessera]) and close it after. */
fun withTestTessera(
    store: String = "memory",
    dir: Path? = null,
    issuer: String? = null,
    block: suspend (Tessera) -> Unit,
) = runBlocking {
    openTestTessera(store, dir, issuer).use { block(it) }
}

/**
 * Base of the suites that run on both stores: the temporary directory of the
 * SQLite file, the test password, and `withTessera(store) { … }`.
 */
abstract class StoreSuite {
    @TempDir
    lateinit var dir: Path

    /** A password strong enough for the default rules. */
    protected val password = "correct horse battery staple"

    /** Run `block` on a fresh Tessera on `store` ("memory" or "sqlite"). */
    protected fun withTessera(store: String, block: suspend (Tessera) -> Unit) =
        withTestTessera(store, dir, block = block)
}
