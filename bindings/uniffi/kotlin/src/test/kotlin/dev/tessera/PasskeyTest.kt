package dev.tessera

import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/** Passkeys from Kotlin, with a software authenticator ([SoftPasskey]). */
class PasskeyTest {
    private val password = "correct horse battery staple"
    private val origin = "https://auth.example.test"

    private fun withTessera(block: suspend (Tessera) -> Unit) = withTestTessera(issuer = origin, block = block)

    @Test
    fun `registration options, and forged or malformed answers refused`() = withTessera { t ->
        val user = t.signUp("ada@example.com", password)!!.user
        val start = t.startPasskeyRegistration(user.id)
        assertTrue(start.ceremony.startsWith("tsw_"))
        assertFalse(start.toString().contains(start.ceremony), "toString() hides the ceremony id")
        val options = start.publicKeyJson
        assertEquals("auth.example.test", SoftPasskey.field(options, """"rp"\s*:\s*\{[^}]*"id"\s*:\s*"([^"]+)""""))
        assertTrue(Regex(""""residentKey"\s*:\s*"required"""").containsMatchIn(options))
        assertTrue(Regex(""""userVerification"\s*:\s*"required"""").containsMatchIn(options))
        assertTrue(Regex(""""alg"\s*:\s*-7""").containsMatchIn(options))
        assertTrue(SoftPasskey.field(options, """"challenge"\s*:\s*"([^"]+)"""").length >= 43)

        val malformed = assertFailsWith<TesseraException.InvalidInput> {
            t.finishPasskeyRegistration(user.id, start.ceremony, "{not json")
        }
        assertEquals("credential", malformed.field)
        // Not JSON is refused before the ceremony is looked at; JSON that is
        // not a credential spends it.
        assertEquals("credential", assertFailsWith<TesseraException.InvalidInput> {
            t.finishPasskeyRegistration(user.id, start.ceremony, """{"id":"x"}""")
        }.field)
        // A well-formed answer made for another site does not verify; the
        // ceremony is spent by the first try, whatever its outcome.
        val phished = SoftPasskey("https://evil.example").create(options)
        val forged = assertFailsWith<TesseraException.InvalidInput> {
            t.finishPasskeyRegistration(user.id, t.startPasskeyRegistration(user.id).ceremony, phished)
        }
        assertEquals("credential", forged.field)
        assertFailsWith<TesseraException.InvalidToken> {
            t.finishPasskeyRegistration(user.id, start.ceremony, SoftPasskey(origin).create(options))
        }
        assertFailsWith<TesseraException.InvalidToken> {
            t.finishPasskeyRegistration(user.id, "tsw_made_up", SoftPasskey(origin).create(options))
        }
        assertEquals(emptyList(), t.listPasskeys(user.id))

        // Sign-in: the same challenge shape for an unknown address; a forged assertion is refused.
        val signIn = t.startPasskeySignIn(email = "nobody@example.com")
        assertTrue(signIn.publicKeyJson.contains("allowCredentials"))
        assertFailsWith<TesseraException.InvalidInput> { t.finishPasskeySignIn(signIn.ceremony, """{"id":"x"}""") }
        assertFailsWith<TesseraException.InvalidToken> { t.finishPasskeySignIn(signIn.ceremony, """{"id":"x"}""") }
        val nobody = SoftPasskey(origin).apply { create(t.startPasskeyRegistration(user.id).publicKeyJson) }
        val discoverable = t.startPasskeySignIn()
        assertFailsWith<TesseraException.InvalidCredentials> {
            t.finishPasskeySignIn(discoverable.ceremony, nobody.get(discoverable.publicKeyJson))
        }

        // Management errors.
        val badId = assertFailsWith<TesseraException.InvalidInput> { t.renamePasskey(user.id, "not-a-uuid", "x") }
        assertEquals("passkey_id", badId.field)
        val unknown = "00000000-0000-7000-8000-000000000000"
        assertFailsWith<TesseraException.NotFound> { t.renamePasskey(user.id, unknown, "Phone") }
        assertFailsWith<TesseraException.NotFound> { t.deletePasskey(user.id, unknown) }
    }

    @Test
    fun `register, sign in, MFA, rename and delete`() = withTessera { t ->
        val user = t.signUp("grace@example.com", password)!!.user
        val key = SoftPasskey(origin)
        val start = t.startPasskeyRegistration(user.id)
        val info = t.finishPasskeyRegistration(user.id, start.ceremony, key.create(start.publicKeyJson), name = "Laptop")
        assertEquals("Laptop", info.name)
        assertEquals(SoftPasskey.b64e(key.credentialId), info.credentialId)
        assertEquals(listOf(info.id), t.listPasskeys(user.id).map { it.id })

        // Discoverable sign-in (no email), then with the email.
        val discoverable = t.startPasskeySignIn()
        val s = t.finishPasskeySignIn(discoverable.ceremony, key.get(discoverable.publicKeyJson))
        assertEquals(user.id, s.user.id)
        assertEquals(listOf("hwk", "mfa"), s.session.amr)
        val byEmail = t.startPasskeySignIn(email = "grace@example.com")
        assertTrue(byEmail.publicKeyJson.contains(info.credentialId))
        assertEquals(user.id, t.finishPasskeySignIn(byEmail.ceremony, key.get(byEmail.publicKeyJson)).user.id)
        // The right credential id signed by another key is refused.
        val impostor = SoftPasskey(origin).apply { create(start.publicKeyJson) }
        val again = t.startPasskeySignIn()
        assertFailsWith<TesseraException.InvalidCredentials> {
            t.finishPasskeySignIn(again.ceremony, key.get(again.publicKeyJson, signWith = impostor))
        }

        // A passkey is a second factor for password sign-ins.
        val mfa = assertFailsWith<TesseraException.MfaRequired> { t.signInPassword("grace@example.com", password) }
        assertEquals(listOf("passkey"), mfa.methods)
        val step = t.startPasskeyMfa(mfa.mfaToken)
        val done = t.finishPasskeyMfa(mfa.mfaToken, step.ceremony, key.get(step.publicKeyJson))
        assertEquals(listOf("pwd", "hwk", "mfa"), done.session.amr)

        assertEquals("Phone", t.renamePasskey(user.id, info.id, "Phone").name)
        assertEquals("invalid_input", assertFailsWith<TesseraException.InvalidInput> {
            t.renamePasskey(user.id, info.id, "x".repeat(65))
        }.code)
        val stranger = t.signUp("eve@example.com", password)!!.user
        assertFailsWith<TesseraException.NotFound> { t.deletePasskey(stranger.id, info.id) }
        t.deletePasskey(user.id, info.id)
        assertEquals(emptyList(), t.listPasskeys(user.id))
        val gone = t.startPasskeySignIn()
        assertFailsWith<TesseraException.InvalidCredentials> { t.finishPasskeySignIn(gone.ceremony, key.get(gone.publicKeyJson)) }
    }
}
