package dev.tessera

import org.junit.jupiter.api.Test
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** TOTP, recovery codes and the MFA step of sign-in, from Kotlin. */
class SecondFactorTest : StoreSuite() {
    @Test
    fun `the test's own TOTP matches RFC 6238`() {
        // RFC 6238 appendix B, SHA-1 seed "12345678901234567890", 8 digits.
        val seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        assertEquals("94287082", Rfc6238.code(seed, 59, digits = 8))
        assertEquals("07081804", Rfc6238.code(seed, 1111111109, digits = 8))
        assertEquals("65353130", Rfc6238.code(seed, 20000000000, digits = 8))
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = ["memory", "sqlite"])
    fun `enrol TOTP, sign in with a code, replay refused, recovery code once`(store: String) = withTessera(store) { t ->
        val user = t.signUp("ada@example.com", password)!!.user
        assertFalse(t.mfaStatus(user.id).totpEnabled)

        val enrollment = t.enrollTotp(user.id)
        assertTrue(enrollment.otpauthUri.startsWith("otpauth://totp/"))
        assertTrue(enrollment.otpauthUri.contains("secret=" + enrollment.secret))
        assertTrue(enrollment.qrSvg.contains("<svg"))
        assertFalse(enrollment.toString().contains(enrollment.secret), "toString() hides the secret")
        assertEquals(enrollment.secret, t.pendingTotpEnrollment(user.id)?.secret)
        assertTrue(t.mfaStatus(user.id).totpPending)
        // Not active yet: sign-in needs no second factor.
        t.signInPassword("ada@example.com", password)

        val wrong = if (Rfc6238.codeNow(enrollment.secret) == "000000") "111111" else "000000"
        assertFailsWith<TesseraException.InvalidCredentials> { t.confirmTotp(user.id, wrong) }
        val recovery = t.confirmTotp(user.id, Rfc6238.codeNow(enrollment.secret))
        assertEquals(10, recovery.size)
        assertEquals(10, recovery.toSet().size)
        val status = t.mfaStatus(user.id)
        assertTrue(status.totpEnabled)
        assertEquals(10, status.recoveryCodesLeft)
        assertNull(t.pendingTotpEnrollment(user.id))
        assertFailsWith<TesseraException.Conflict> { t.enrollTotp(user.id) }

        // Sign-in now stops for the second factor.
        val first = assertFailsWith<TesseraException.MfaRequired> { t.signInPassword("ada@example.com", password) }
        assertEquals(listOf("totp", "recovery_code"), first.methods)
        // The confirmation spent the current step's code; the next step's is in the window.
        val code = Rfc6238.codeNow(enrollment.secret, offset = 1)
        assertFailsWith<TesseraException.InvalidCredentials> { t.completeMfaWithTotp(first.mfaToken, wrong) }
        val session = t.completeMfaWithTotp(first.mfaToken, code)
        assertEquals(user.id, session.user.id)
        assertEquals(listOf("pwd", "otp", "mfa"), session.session.amr)
        t.validateSession(session.sessionToken!!)
        // The challenge is spent.
        assertFailsWith<TesseraException.InvalidToken> { t.completeMfaWithTotp(first.mfaToken, code) }

        // The same code on a fresh challenge is a replay.
        val second = assertFailsWith<TesseraException.MfaRequired> { t.signInPassword("ada@example.com", password) }
        assertFailsWith<TesseraException.InvalidCredentials> { t.completeMfaWithTotp(second.mfaToken, code) }
        assertFailsWith<TesseraException.InvalidToken> { t.completeMfaWithTotp("tsf_not-a-real-token", code) }

        // A recovery code works once.
        val viaRecovery = t.completeMfaWithRecoveryCode(second.mfaToken, recovery[0].uppercase())
        assertEquals(listOf("pwd", "mfa"), viaRecovery.session.amr)
        assertEquals(9, t.mfaStatus(user.id).recoveryCodesLeft)
        val third = assertFailsWith<TesseraException.MfaRequired> { t.signInPassword("ada@example.com", password) }
        assertFailsWith<TesseraException.InvalidCredentials> { t.completeMfaWithRecoveryCode(third.mfaToken, recovery[0]) }
        t.completeMfaWithRecoveryCode(third.mfaToken, recovery[1])

        // New recovery codes replace the old ones; re-authentication first.
        assertFailsWith<TesseraException.ReauthenticationRequired> { t.regenerateRecoveryCodes(user.id) }
        assertFailsWith<TesseraException.InvalidCredentials> { t.regenerateRecoveryCodes(user.id, password = "not the password") }
        val fresh = t.regenerateRecoveryCodes(user.id, password = password)
        assertEquals(10, fresh.size)
        val fourth = assertFailsWith<TesseraException.MfaRequired> { t.signInPassword("ada@example.com", password) }
        assertFailsWith<TesseraException.InvalidCredentials> { t.completeMfaWithRecoveryCode(fourth.mfaToken, recovery[2]) }
        t.completeMfaWithRecoveryCode(fourth.mfaToken, fresh[0])

        // Disabling needs the password too; then sign-in is one step again.
        assertFailsWith<TesseraException.ReauthenticationRequired> { t.disableTotp(user.id) }
        t.disableTotp(user.id, password = password)
        assertFalse(t.mfaStatus(user.id).totpEnabled)
        assertEquals(0, t.mfaStatus(user.id).recoveryCodesLeft)
        assertEquals(listOf("pwd"), t.signInPassword("ada@example.com", password).session.amr)
        assertFailsWith<TesseraException.NotFound> { t.disableTotp(user.id, password = password) }
        val events = t.listAuditEvents(AuditQuery(userId = user.id)).map { it.eventType }
        assertTrue(events.contains("mfa.failed"), "wrong codes are audited: $events")
    }

    @Test
    fun `an app that requires MFA enrols at sign-in`() = withTessera("memory") { t ->
        t.createApp("strict", "Strict", settings = defaultAppSettings().copy(mfa = MfaPolicy.REQUIRED))
        t.signUp("grace@example.com", password, app = "strict")
        val e = assertFailsWith<TesseraException.MfaRequired> { t.signInPassword("grace@example.com", password, app = "strict") }
        assertEquals(listOf("totp_enroll"), e.methods)
        // The token is bound to its app.
        assertFailsWith<TesseraException.InvalidToken> { t.enrollTotpForMfa(e.mfaToken) }
        assertEquals("method", assertFailsWith<TesseraException.InvalidInput> {
            t.completeMfaWithTotp(e.mfaToken, "123456", app = "strict")
        }.field)
        val enrollment = t.enrollTotpForMfa(e.mfaToken, app = "strict")
        val done = t.confirmTotpForMfa(e.mfaToken, Rfc6238.codeNow(enrollment.secret), app = "strict")
        assertEquals(10, done.recoveryCodes.size)
        assertTrue(done.session.session.amr.containsAll(listOf("pwd", "otp", "mfa")))
        val shown = done.toString()
        assertFalse(done.recoveryCodes.any { shown.contains(it) }, "toString() hides the recovery codes")
        assertFalse(shown.contains(done.session.accessToken))
        // Next time TOTP is asked for, as for anyone who enrolled.
        val next = assertFailsWith<TesseraException.MfaRequired> { t.signInPassword("grace@example.com", password, app = "strict") }
        assertEquals(listOf("totp", "recovery_code"), next.methods)
        assertNotNull(t.completeMfaWithTotp(next.mfaToken, Rfc6238.codeNow(enrollment.secret, 1), app = "strict"))
    }
}
