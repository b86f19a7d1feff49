package dev.tessera

import java.io.ByteArrayOutputStream
import java.math.BigInteger
import java.nio.ByteBuffer
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.MessageDigest
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.util.Base64

/**
 * A small software passkey for tests: one ES256 (P-256) key, "none"
 * attestation, user present and verified, answering with the W3C JSON forms
 * a browser's `PublicKeyCredential.toJSON()` produces. Built on
 * java.security and a few lines of CBOR, independent of the Rust side.
 */
class SoftPasskey(val origin: String) {
    private val keys: KeyPair = KeyPairGenerator.getInstance("EC").apply {
        initialize(ECGenParameterSpec("secp256r1"))
    }.generateKeyPair()
    val credentialId: ByteArray = ByteArray(32).also { java.security.SecureRandom().nextBytes(it) }
    private var userHandle: ByteArray = ByteArray(0)
    private var rpId: String = ""
    private var counter = 0

    /** Answer `navigator.credentials.create()` for `optionsJson` (creation options). */
    fun create(optionsJson: String): String {
        rpId = field(optionsJson, """"rp"\s*:\s*\{[^}]*"id"\s*:\s*"([^"]+)"""")
        userHandle = b64d(field(optionsJson, """"user"\s*:\s*\{[^}]*"id"\s*:\s*"([^"]+)""""))
        val clientData = clientData("webauthn.create", field(optionsJson, """"challenge"\s*:\s*"([^"]+)""""))
        val authData = ByteArrayOutputStream().apply {
            write(sha256(rpId.toByteArray()))
            write(0x01 or 0x04 or 0x40) // user present, user verified, attested credential data
            write(ByteBuffer.allocate(4).putInt(counter).array())
            write(ByteArray(16)) // AAGUID: none
            write(ByteBuffer.allocate(2).putShort(credentialId.size.toShort()).array())
            write(credentialId)
            write(coseKey())
        }.toByteArray()
        val attestation = Cbor.map(
            Cbor.text("fmt") to Cbor.text("none"),
            Cbor.text("attStmt") to Cbor.map(),
            Cbor.text("authData") to Cbor.bytes(authData),
        )
        return """{"id":"${b64e(credentialId)}","rawId":"${b64e(credentialId)}","type":"public-key",""" +
            """"response":{"clientDataJSON":"${b64e(clientData)}","attestationObject":"${b64e(attestation)}",""" +
            """"transports":["internal"]},"clientExtensionResults":{"credProps":{"rk":true}}}"""
    }

    /** Answer `navigator.credentials.get()` for `optionsJson` (request options). */
    fun get(optionsJson: String, signWith: SoftPasskey = this): String {
        val clientData = clientData("webauthn.get", field(optionsJson, """"challenge"\s*:\s*"([^"]+)""""))
        counter += 1
        val authData = ByteArrayOutputStream().apply {
            write(sha256(rpId.toByteArray()))
            write(0x01 or 0x04)
            write(ByteBuffer.allocate(4).putInt(counter).array())
        }.toByteArray()
        val signature = Signature.getInstance("SHA256withECDSA").run {
            initSign(signWith.keys.private)
            update(authData + sha256(clientData))
            sign()
        }
        return """{"id":"${b64e(credentialId)}","rawId":"${b64e(credentialId)}","type":"public-key",""" +
            """"response":{"authenticatorData":"${b64e(authData)}","clientDataJSON":"${b64e(clientData)}",""" +
            """"signature":"${b64e(signature)}","userHandle":"${b64e(userHandle)}"},"clientExtensionResults":{}}"""
    }

    private fun clientData(type: String, challenge: String) =
        """{"type":"$type","challenge":"$challenge","origin":"$origin","crossOrigin":false}""".toByteArray()

    private fun coseKey(): ByteArray {
        val point = (keys.public as ECPublicKey).w
        return Cbor.map(
            Cbor.int(1) to Cbor.int(2), // kty: EC2
            Cbor.int(3) to Cbor.int(-7), // alg: ES256
            Cbor.int(-1) to Cbor.int(1), // crv: P-256
            Cbor.int(-2) to Cbor.bytes(fixed32(point.affineX)),
            Cbor.int(-3) to Cbor.bytes(fixed32(point.affineY)),
        )
    }

    companion object {
        fun b64e(b: ByteArray): String = Base64.getUrlEncoder().withoutPadding().encodeToString(b)
        fun b64d(s: String): ByteArray = Base64.getUrlDecoder().decode(s)
        fun sha256(b: ByteArray): ByteArray = MessageDigest.getInstance("SHA-256").digest(b)
        fun field(json: String, pattern: String): String =
            Regex(pattern).find(json)?.groupValues?.get(1) ?: error("no match for $pattern in $json")

        private fun fixed32(n: BigInteger): ByteArray {
            val raw = n.toByteArray().dropWhile { it == 0.toByte() }.toByteArray()
            return ByteArray(32 - raw.size) + raw
        }
    }
}

/** Just enough CBOR (RFC 8949) for attestation objects and COSE keys. */
object Cbor {
    private fun head(major: Int, n: Long): ByteArray = when {
        n < 24 -> byteArrayOf(((major shl 5) or n.toInt()).toByte())
        n < 0x100 -> byteArrayOf(((major shl 5) or 24).toByte(), n.toByte())
        n < 0x10000 -> byteArrayOf(((major shl 5) or 25).toByte(), (n shr 8).toByte(), n.toByte())
        else -> byteArrayOf(((major shl 5) or 26).toByte()) + ByteBuffer.allocate(4).putInt(n.toInt()).array()
    }

    fun int(v: Long): ByteArray = if (v >= 0) head(0, v) else head(1, -1 - v)
    fun int(v: Int): ByteArray = int(v.toLong())
    fun bytes(b: ByteArray): ByteArray = head(2, b.size.toLong()) + b
    fun text(s: String): ByteArray = s.toByteArray().let { head(3, it.size.toLong()) + it }
    fun map(vararg entries: Pair<ByteArray, ByteArray>): ByteArray =
        entries.fold(head(5, entries.size.toLong())) { acc, (k, v) -> acc + k + v }
}
