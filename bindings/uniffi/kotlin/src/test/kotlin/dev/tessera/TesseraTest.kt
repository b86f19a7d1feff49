package dev.tessera

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/**
 * The flows of the binding, from Kotlin, on each store the library supports:
 * an in-process `memory://` store and a SQLite file in a temporary directory.
 */
class TesseraTest {
    @TempDir
    lateinit var dir: Path

    private val password = "correct horse battery staple"

    /** A fresh Tessera on `store` ("memory" or "sqlite"), with fast test-only hashing. */
    private suspend fun open(store: String): Tessera {
        val url = when (store) {
            "memory" -> "memory://"
            "sqlite" -> "sqlite://" + dir.resolve("tessera.db").toAbsolutePath()
            else -> error("unknown store $store")
        }
        val t = Tessera.open(
            url,
            generateKeyEncryptionKey(),
            OpenOptions(insecureFastPasswordHashingForTests = true),
        )
        if (store == "sqlite") {
            assertTrue(Files.exists(dir.resolve("tessera.db")), "a SQLite file, not an in-memory store")
        }
        return t
    }

    private fun withTessera(store: String, block: suspend (Tessera) -> Unit) = runBlocking {
        open(store).use { block(it) }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = ["memory", "sqlite"])
    fun `sign up, sign in and validate`(store: String) = withTessera(store) { t ->
        val client = ClientInfo(ip = "127.0.0.1", userAgent = "kotlin-test")
        val signedUp = assertNotNull(t.signUp("Ada@Example.com", password, name = "Ada", client = client))
        assertEquals("ada@example.com", signedUp.user.email)
        assertEquals("Ada", signedUp.user.name)
        assertTrue(signedUp.refreshToken.startsWith("tsr_"))
        assertTrue(signedUp.sessionToken!!.startsWith("tss_"))
        assertTrue(signedUp.expiresIn > 0)

        val signedIn = t.signInPassword("ada@example.com", password)
        assertEquals(signedUp.user.id, signedIn.user.id)
        assertNotEquals(signedUp.session.id, signedIn.session.id)
        assertEquals(listOf("pwd"), signedIn.session.amr)

        val byCookie = t.validateSession(signedIn.sessionToken!!)
        assertEquals(signedIn.session.id, byCookie.session.id)
        assertEquals(signedUp.user.id, byCookie.user.id)

        val app = t.defaultApp()
        val byJwt = t.validateAccessToken(signedIn.accessToken, audience = app.id)
        assertEquals(signedUp.user.id, byJwt.claims.sub)
        assertEquals(signedIn.session.id, byJwt.claims.sid)
        assertEquals("ada@example.com", byJwt.claims.email)

        assertEquals(2, t.listSessions(signedUp.user.id).size)
        assertEquals(signedUp.user.id, t.findUserByEmail(" ADA@example.com ")?.id)
        assertNull(t.findUserByEmail("nobody@example.com"))
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = ["memory", "sqlite"])
    fun `refresh rotates, and reuse revokes the session`(store: String) = withTessera(store) { t ->
        val a = t.signUp("grace@example.com", password)!!
        val b = t.refresh(a.refreshToken)
        assertNotEquals(a.refreshToken, b.refreshToken)
        assertNull(b.sessionToken, "the session token is only issued at sign-in")
        assertEquals(a.session.id, b.session.id)
        val c = t.refresh(b.refreshToken)
        assertNotEquals(b.refreshToken, c.refreshToken)
        t.validateSession(a.sessionToken!!)

        // A was spent two rotations ago, and its successor B was used too:
        // presenting A again is reuse, whatever the grace window.
        val reused = assertFailsWith<TesseraException.RefreshTokenReused> { t.refresh(a.refreshToken) }
        assertEquals("refresh_token_reused", reused.code)
        val expired = assertFailsWith<TesseraException.SessionExpired> { t.validateSession(a.sessionToken!!) }
        assertEquals("session_expired", expired.code)
        assertFailsWith<TesseraException.SessionExpired> { t.refresh(c.refreshToken) }
        assertFailsWith<TesseraException.SessionExpired> { t.validateAccessToken(c.accessToken) }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = ["memory", "sqlite"])
    fun `sign out ends the session`(store: String) = withTessera(store) { t ->
        val s = t.signUp("linus@example.com", password)!!
        val other = t.signInPassword("linus@example.com", password)
        t.signOut(s.sessionToken!!)
        assertFailsWith<TesseraException.SessionExpired> { t.validateSession(s.sessionToken!!) }
        assertFailsWith<TesseraException.SessionExpired> { t.refresh(s.refreshToken) }
        // Signing out with an access token works too; other sessions are untouched until then.
        t.validateSession(other.sessionToken!!)
        t.signOut(other.accessToken)
        assertFailsWith<TesseraException.SessionExpired> { t.validateSession(other.sessionToken!!) }
        assertEquals(0, t.listSessions(s.user.id).size)
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = ["memory", "sqlite"])
    fun `errors carry their codes`(store: String) = withTessera(store) { t ->
        t.signUp("ada@example.com", password)
        val wrong = assertFailsWith<TesseraException> { t.signInPassword("ada@example.com", "not the password at all") }
        assertTrue(wrong is TesseraException.InvalidCredentials)
        assertEquals("invalid_credentials", wrong.code)
        assertTrue(wrong.detail.isNotEmpty())
        assertTrue(wrong.message!!.contains("invalid_credentials"))
        val unknown = assertFailsWith<TesseraException> { t.signInPassword("nobody@example.com", password) }
        assertEquals("invalid_credentials", unknown.code)

        assertEquals("email_taken", assertFailsWith<TesseraException.EmailTaken> { t.signUp("ADA@example.com", password) }.code)
        assertEquals("weak_password", assertFailsWith<TesseraException.WeakPassword> { t.signUp("bob@example.com", "123") }.code)
        assertEquals("invalid_email", assertFailsWith<TesseraException.InvalidEmail> { t.signUp("not-an-email", password) }.code)
        assertEquals("unauthenticated", assertFailsWith<TesseraException.Unauthenticated> { t.validateSession("tss_bogus") }.code)
        assertEquals("invalid_token", assertFailsWith<TesseraException.InvalidToken> { t.validateAccessToken("not.a.jwt") }.code)
        val badId = assertFailsWith<TesseraException.InvalidInput> { t.getUser("not-a-uuid") }
        assertEquals("invalid_input", badId.code)
        assertEquals("user_id", badId.field)
        assertEquals("not_found", assertFailsWith<TesseraException.NotFound> { t.getApp("no-such-app") }.code)
        val badUrl = assertFailsWith<TesseraException> {
            Tessera.open("mysql://localhost/db", generateKeyEncryptionKey())
        }
        assertEquals("config_error", badUrl.code)
    }

    @Test
    fun `a device token keeps its owner signing in while the account is throttled`() = withTessera("memory") { t ->
        t.signUp("ada@example.com", password)
        val first = t.signInPassword("ada@example.com", password)
        val device = first.deviceToken!!
        assertTrue(device.startsWith("tsd_"))
        assertFalse(first.toString().contains(device))
        // Five failures from devices without a token throttle the account...
        repeat(5) {
            assertFailsWith<TesseraException.InvalidCredentials> { t.signInPassword("ada@example.com", "not the password at all") }
        }
        val throttled = assertFailsWith<TesseraException.RateLimited> { t.signInPassword("ada@example.com", password) }
        assertEquals("rate_limited", throttled.code)
        // ...but not the device that signed in before: it gets in, with a fresh token.
        val owner = t.signInPassword("ada@example.com", password, deviceToken = device)
        assertEquals(first.user.id, owner.user.id)
        assertNotEquals(device, owner.deviceToken)
        assertTrue(owner.deviceToken!!.startsWith("tsd_"))
        // A refresh issues none.
        assertNull(t.refresh(owner.refreshToken).deviceToken)
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = ["memory", "sqlite"])
    fun `twenty concurrent sign-ins`(store: String) = withTessera(store) { t ->
        // Four accounts, five sign-ins each: at most five attempts per account may
        // be in flight at once (the sign-in backoff reserves each attempt before
        // the password is checked, so parallel guesses cannot skip it).
        val emails = (1..4).map { "many$it@example.com" }
        val users = emails.map { t.signUp(it, password)!!.user }
        val sessions = coroutineScope {
            emails.flatMap { e -> (1..5).map { async { t.signInPassword(e, password) } } }.awaitAll()
        }
        assertEquals(20, sessions.map { it.session.id }.toSet().size)
        for (s in sessions) {
            t.validateSession(s.sessionToken!!)
        }
        for (user in users) {
            assertEquals(5, sessions.count { it.user.id == user.id })
            assertEquals(6, t.listSessions(user.id).size)
        }
    }

    @Test
    fun `users, password change and sessions`() = withTessera("memory") { t ->
        val first = t.signUp("ada@example.com", password)!!
        val second = t.signInPassword("ada@example.com", password)
        val uid = first.user.id

        t.changePassword(uid, password, "a different long passphrase", keepSessionId = first.session.id)
        t.validateSession(first.sessionToken!!)
        assertFailsWith<TesseraException.SessionExpired> { t.validateSession(second.sessionToken!!) }
        assertFailsWith<TesseraException.InvalidCredentials> { t.signInPassword("ada@example.com", password) }
        val third = t.signInPassword("ada@example.com", "a different long passphrase")

        t.revokeSession(uid, third.session.id)
        assertFailsWith<TesseraException.SessionExpired> { t.validateSession(third.sessionToken!!) }
        assertEquals(1L, t.revokeAllSessions(uid))
        assertEquals(0, t.listSessions(uid).size)

        val updated = t.updateUser(uid, UserPatch(name = "Ada L.", metadataJson = """{"plan":"pro"}""", emailVerified = true))
        assertEquals("Ada L.", updated.name)
        assertEquals("""{"plan":"pro"}""", updated.metadataJson)
        assertTrue(updated.emailVerified)
        assertNull(t.updateUser(uid, UserPatch(clearName = true)).name)
        assertEquals("metadata_json", assertFailsWith<TesseraException.InvalidInput> {
            t.updateUser(uid, UserPatch(metadataJson = "{not json"))
        }.field)

        for (i in 1..4) t.signUp("user$i@example.com", password)
        val page1 = t.listUsers(limit = 3)
        assertEquals(3, page1.users.size)
        val page2 = t.listUsers(after = page1.nextAfter, limit = 3)
        assertEquals(2, page2.users.size)
        assertNull(page2.nextAfter)
        assertEquals(1, t.listUsers(emailContains = "user3").users.size)

        t.updateUser(uid, UserPatch(disabled = true))
        assertFailsWith<TesseraException.UserDisabled> { t.signInPassword("ada@example.com", "a different long passphrase") }
        t.deleteUser(uid)
        assertFailsWith<TesseraException.NotFound> { t.getUser(uid) }
        assertNotNull(t.signUp("ada@example.com", password), "the email is free again")
    }

    @Test
    fun `apps, api keys, audit and keys`() = withTessera("memory") { t ->
        val default = t.defaultApp()
        assertEquals("default", default.slug)
        assertEquals(default, t.getApp(default.id))

        val shop = t.createApp("shop", "Shop", settings = defaultAppSettings().copy(accessTokenTtlSecs = 300))
        assertEquals(300L, shop.settings.accessTokenTtlSecs)
        assertEquals(default.poolId, shop.poolId)
        assertEquals(listOf("default", "shop"), t.listApps().map { it.slug })
        assertEquals("conflict", assertFailsWith<TesseraException.Conflict> { t.createApp("shop", "Again") }.code)

        // Apps of one pool share users; the session belongs to the app signed in to.
        t.signUp("ada@example.com", password, app = "shop")
        val s = t.signInPassword("ada@example.com", password, app = default.id)
        assertEquals(default.id, s.session.appId)
        assertEquals(300L, t.signInPassword("ada@example.com", password, app = "shop").expiresIn)

        val key = t.createApiKey("ci", listOf("users:read"))
        assertTrue(key.secret.startsWith("tsk_"))
        assertEquals(key.key.id, t.authenticateApiKey(key.secret, "users:read").id)
        assertEquals("forbidden", assertFailsWith<TesseraException.Forbidden> { t.authenticateApiKey(key.secret, "apps:write") }.code)
        assertEquals(listOf(key.key.id), t.listApiKeys().map { it.id })
        t.revokeApiKey(key.key.id)
        assertFailsWith<TesseraException.Unauthenticated> { t.authenticateApiKey(key.secret, "users:read") }

        assertFailsWith<TesseraException.InvalidCredentials> { t.signInPassword("ada@example.com", "wrong password here") }
        val failed = t.listAuditEvents(AuditQuery(eventType = "sign_in.failed"))
        assertEquals(1, failed.size)
        assertTrue(failed[0].dataJson.contains("invalid_password"))
        assertEquals(s.user.id, failed[0].userId)
        val page = t.listAuditEvents(AuditQuery(userId = s.user.id, limit = 2))
        assertEquals(2, page.size)
        assertTrue(page[0].id > page[1].id, "newest first")
        assertTrue(t.listAuditEvents().size > 5)

        val kid1 = Regex("\"kid\":\"([^\"]+)\"").find(t.jwks())!!.groupValues[1]
        val kid2 = t.rotateSigningKey("ES256")
        assertNotEquals(kid1, kid2)
        val jwks = t.jwks()
        assertTrue(jwks.contains(kid1) && jwks.contains(kid2), "the old key stays published")
        // Tokens signed before the rotation still validate.
        t.validateAccessToken(s.accessToken)
        assertEquals("invalid_input", assertFailsWith<TesseraException.InvalidInput> { t.rotateSigningKey("HS256") }.code)
        assertEquals(0L, t.sweep(0).keys)
    }

    @Test
    fun `rate limiting reports when to retry`() = withTessera("memory") { t ->
        t.signUp("eve@example.com", password)
        repeat(5) {
            assertFailsWith<TesseraException.InvalidCredentials> { t.signInPassword("eve@example.com", "wrong password $it") }
        }
        val limited = assertFailsWith<TesseraException.RateLimited> { t.signInPassword("eve@example.com", password) }
        assertEquals("rate_limited", limited.code)
        assertTrue(limited.retryAfterSecs in 1L..300L)
    }

    @Test
    fun `printing results never shows their secrets`() = withTessera("memory") { t ->
        val s = t.signUp("ada@example.com", password)!!
        val shown = s.toString() + " " + listOf(s) + " " + "$s"
        for (secret in listOf(s.accessToken, s.refreshToken, s.sessionToken!!)) {
            assertFalse(shown.contains(secret), "AuthSession.toString() leaks a token: $shown")
        }
        assertTrue(shown.contains(s.user.id), "it still says whose session it is")
        val key = t.createApiKey("ci", listOf("users:read"))
        assertFalse(key.toString().contains(key.secret))
        assertTrue(key.toString().contains(key.key.id))
        // Data-class copies and equality still work.
        assertEquals(s, s.copy())
    }

    @Test
    fun `app settings carry MFA, linking and WebAuthn, and an update keeps the rest`() = withTessera("memory") { t ->
        val defaults = defaultAppSettings()
        assertEquals(MfaPolicy.OPTIONAL, defaults.mfa)
        assertTrue(defaults.linkAccountsByEmail)
        assertNull(defaults.webauthnRpId)
        val settings = defaults.copy(
            mfa = MfaPolicy.REQUIRED,
            linkAccountsByEmail = false,
            webauthnRpId = "example.com",
            webauthnOrigins = listOf("https://app.example.com"),
        )
        val app = t.createApp("secure", "Secure", settings = settings)
        assertEquals(settings, app.settings)
        assertEquals(settings, t.getApp("secure").settings)
        val renamed = t.updateApp("secure", name = "Secure Shop")
        assertEquals("Secure Shop", renamed.name)
        assertEquals(settings, renamed.settings, "a rename leaves the settings alone")
        val relaxed = t.updateApp(app.id, settings = renamed.settings.copy(mfa = MfaPolicy.OPTIONAL))
        assertEquals(MfaPolicy.OPTIONAL, relaxed.settings.mfa)
        assertEquals("example.com", relaxed.settings.webauthnRpId)
        assertEquals("invalid_input", assertFailsWith<TesseraException.InvalidInput> {
            t.updateApp(app.id, settings = relaxed.settings.copy(signInMethods = listOf("carrier_pigeon")))
        }.code)
        assertFailsWith<TesseraException.NotFound> { t.updateApp("no-such-app", name = "x") }
    }

    @Test
    fun `MfaRequired carries the challenge, never in its message`() = withTessera("memory") { t ->
        t.createApp("strict", "Strict", settings = defaultAppSettings().copy(mfa = MfaPolicy.REQUIRED))
        t.signUp("ada@example.com", password, app = "strict").let { assertTrue(it == null || it.user.email == "ada@example.com") }
        val e = assertFailsWith<TesseraException.MfaRequired> { t.signInPassword("ada@example.com", password, app = "strict") }
        assertEquals("mfa_required", e.code)
        assertTrue(e.mfaToken.startsWith("tsf_"))
        assertEquals(listOf("totp_enroll"), e.methods)
        assertFalse(e.message!!.contains(e.mfaToken), "the token stays out of the message")
        assertFalse(e.toString().contains(e.mfaToken))
        assertFalse(e.challenge.toString().contains(e.mfaToken))
        // A catch on the base class still reads the code.
        val base: TesseraException = e
        assertEquals("mfa_required", base.code)
    }
}
