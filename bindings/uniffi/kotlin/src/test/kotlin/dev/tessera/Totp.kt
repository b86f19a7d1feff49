package dev.tessera

import java.io.ByteArrayOutputStream
import java.nio.ByteBuffer
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec

/**
 * RFC 6238 TOTP (HMAC-SHA1, 30-second steps), written from the RFC with the
 * JDK's HMAC, independent of the Rust implementation under test.
 */
object Rfc6238 {
    private const val ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

    /** RFC 4648 base32, padding optional. */
    fun base32(s: String): ByteArray {
        val out = ByteArrayOutputStream()
        var buffer = 0
        var bits = 0
        for (c in s.uppercase().trimEnd('=')) {
            val v = ALPHABET.indexOf(c)
            require(v >= 0) { "not base32: $c" }
            buffer = ((buffer shl 5) or v) and 0xffff
            bits += 5
            if (bits >= 8) {
                out.write((buffer shr (bits - 8)) and 0xff)
                bits -= 8
            }
        }
        return out.toByteArray()
    }

    /** The code for `secret` (base32) at Unix time `atSeconds`. */
    fun code(secret: String, atSeconds: Long, digits: Int = 6, period: Long = 30): String {
        val mac = Mac.getInstance("HmacSHA1")
        mac.init(SecretKeySpec(base32(secret), "HmacSHA1"))
        val h = mac.doFinal(ByteBuffer.allocate(8).putLong(atSeconds / period).array())
        val o = h[h.size - 1].toInt() and 0x0f
        val bin = ((h[o].toInt() and 0x7f) shl 24) or
            ((h[o + 1].toInt() and 0xff) shl 16) or
            ((h[o + 2].toInt() and 0xff) shl 8) or
            (h[o + 3].toInt() and 0xff)
        var mod = 1
        repeat(digits) { mod *= 10 }
        return (bin % mod).toString().padStart(digits, '0')
    }

    /** The code for the step `offset` steps from now. */
    fun codeNow(secret: String, offset: Int = 0): String =
        code(secret, System.currentTimeMillis() / 1000 + offset * 30L)
}
