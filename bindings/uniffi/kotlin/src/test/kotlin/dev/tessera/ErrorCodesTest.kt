package dev.tessera

import java.nio.file.Files
import java.nio.file.Path
import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue

/**
 * Every core error code reaches Kotlin as its own `TesseraException`
 * subclass with that `code`. The codes are read from
 * `sdks/testdata/error-codes.json` (generated from the core by
 * `http/tests/error_codes.rs`), so a code the core adds fails here until the
 * binding maps it.
 */
class ErrorCodesTest {
    /** The `code`s of the table's `codes` list (not the HTTP-only ones). */
    private fun coreCodes(): List<String> {
        var dir: Path? = Path.of("").toAbsolutePath()
        while (dir != null && !Files.exists(dir.resolve("sdks/testdata/error-codes.json"))) {
            dir = dir.parent
        }
        val text = Files.readString(requireNotNull(dir) { "sdks/testdata not found" }.resolve("sdks/testdata/error-codes.json"))
        val core = text.substringAfter("\"codes\"").substringBefore("\"http_only\"")
        return Regex("\"code\": \"([a-z_]+)\"").findAll(core).map { it.groupValues[1] }.toList()
    }

    /** The codes without a subclass of their own (see `TesseraError::Other`). */
    private val other = setOf("bad_request", "identity_taken", "too_large", "storage_error", "config_error", "internal_error")

    @Test
    fun `every core code maps to an exception with that code`() {
        val codes = coreCodes()
        assertTrue(codes.size >= 28, "read ${codes.size} codes")
        for (code in codes) {
            val e = errorForCode(code)
            assertEquals(code, e.code)
            assertTrue(e.detail.isNotEmpty(), code)
            if (code in other) {
                assertTrue(e is TesseraException.Other, "$code: ${e::class.simpleName}")
            } else {
                assertTrue(e !is TesseraException.Other, "$code has no subclass of its own")
            }
        }
        assertEquals(codes.size, codes.toSet().size, "a code is listed twice")
    }

    @Test
    fun `an unknown code is Other and keeps its code`() {
        val e = errorForCode("from_the_future")
        assertTrue(e is TesseraException.Other)
        assertEquals("from_the_future", e.code)
    }
}
