package dev.tessera

import org.junit.jupiter.api.Test
import java.net.URI
import java.net.URLDecoder
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

/**
 * External sign-in from Kotlin: provider configuration, the start of a
 * sign-in and a refused callback. No provider is contacted (an `oauth2`
 * provider needs no discovery); full flows run in the Python and e2e suites.
 */
class OAuthTest {
    private val issuer = "https://auth.example.test"
    private val appCallback = "https://app.example.test/oauth/done"

    private fun withTessera(block: suspend (Tessera) -> Unit) = withTestTessera(issuer = issuer, block = block)

    private fun query(url: String): Map<String, String> =
        URI(url).rawQuery.split("&").associate {
            val (k, v) = it.split("=", limit = 2)
            URLDecoder.decode(k, "UTF-8") to URLDecoder.decode(v, "UTF-8")
        }

    private val corp = OAuthProviderConfig(
        kind = "oauth2",
        clientId = "corp-client",
        clientSecret = "corp-secret-value",
        authorizationEndpoint = "https://corp.example/authorize",
        tokenEndpoint = "https://corp.example/token",
        userinfoEndpoint = "https://corp.example/me",
        scopes = listOf("read:user", "user:email"),
        claims = OAuthClaimMapping(id = "id", email = "email", emailVerified = "verified"),
        displayName = "Corp",
    )

    @Test
    fun `provider configuration never shows the secret`() = withTessera { t ->
        assertFalse(corp.toString().contains("corp-secret-value"))
        val view = t.putOauthProvider("corp", corp)
        assertEquals("oauth2", view.kind)
        assertTrue(view.clientSecretSet)
        assertTrue(view.enabled)
        assertEquals("Corp", view.displayName)
        assertEquals("$issuer/v1/sign-in/oauth/corp/callback", view.callbackUrl)
        assertEquals(view.callbackUrl, t.oauthCallbackUrl("corp"))
        assertEquals("email", view.claims?.email)
        assertFalse(view.toString().contains("corp-secret-value"))
        // Without a secret, an update keeps the stored one.
        assertTrue(t.putOauthProvider("corp", corp.copy(clientSecret = null, displayName = "Corp SSO")).clientSecretSet)
        assertEquals("Corp SSO", t.getOauthProvider("corp").displayName)
        assertEquals(listOf("corp"), t.listOauthProviders().map { it.provider })

        assertEquals("invalid_input", assertFailsWith<TesseraException.InvalidInput> {
            t.putOauthProvider("bad", corp.copy(kind = "myspace"))
        }.code)
        assertTrue(assertFailsWith<TesseraException.InvalidInput> {
            t.putOauthProvider("plain", corp.copy(tokenEndpoint = "http://corp.example/token"))
        }.field.endsWith("endpoint"))
        assertFailsWith<TesseraException.InvalidInput> { t.putOauthProvider("x", corp.copy(tokenEndpointAuth = "telepathy")) }
        t.deleteOauthProvider("corp")
        assertFailsWith<TesseraException.NotFound> { t.getOauthProvider("corp") }
        assertFailsWith<TesseraException.NotFound> { t.deleteOauthProvider("corp") }
    }

    @Test
    fun `start gives the provider's URL with state and PKCE, and a bad state is refused`() = withTessera { t ->
        t.updateApp("default", settings = t.defaultApp().settings.copy(redirectUris = listOf(appCallback)))
        t.putOauthProvider("corp", corp)
        val challenge = SoftPasskey.b64e(SoftPasskey.sha256("a verifier the app keeps, 43 characters at least".toByteArray()))
        val start = t.startOauth("corp", appCallback, codeChallenge = challenge)
        kotlin.test.assertNull(start.browserState, "an API flow is bound by PKCE instead")
        val url = start.authorizationUrl
        assertTrue(url.startsWith("https://corp.example/authorize?"))
        val q = query(url)
        assertEquals("code", q["response_type"])
        assertEquals("corp-client", q["client_id"])
        assertEquals("$issuer/v1/sign-in/oauth/corp/callback", q["redirect_uri"])
        assertEquals("read:user user:email", q["scope"])
        assertTrue(q.getValue("state").length >= 43)
        assertEquals("S256", q["code_challenge_method"])
        assertNotEquals(challenge, q["code_challenge"], "Tessera's own PKCE towards the provider")
        assertNotEquals(q["state"], query(t.startOauth("corp", appCallback).authorizationUrl)["state"])

        assertEquals("redirect_uri", assertFailsWith<TesseraException.InvalidInput> {
            t.startOauth("corp", "https://evil.example/steal")
        }.field)
        assertFailsWith<TesseraException.NotFound> { t.startOauth("nope", appCallback) }
        assertFailsWith<TesseraException.InvalidInput> { t.startOauth("corp", appCallback, codeChallenge = "plain") }

        // Unknown or malformed state: refused, with nowhere to go back to.
        assertFailsWith<TesseraException.InvalidToken> { t.oauthCallback("corp", "A".repeat(43), code = "c") }
        assertFailsWith<TesseraException.InvalidToken> { t.oauthCallback("corp", "short", code = "c") }
        // A real state with the provider's refusal ends at the app with an error code, once.
        val state = query(t.startOauth("corp", appCallback).authorizationUrl).getValue("state")
        val denied = t.oauthCallback("corp", state, error = "access_denied")
        assertEquals("provider_error", denied.errorCode)
        assertEquals("$appCallback?error=provider_error", denied.redirectTo)
        assertFailsWith<TesseraException.InvalidToken> { t.oauthCallback("corp", state, error = "access_denied") }

        assertFailsWith<TesseraException.InvalidToken> { t.exchangeOauthCode("tso_made_up") }
        val user = t.signUp("ada@example.com", "correct horse battery staple")!!.user
        assertEquals(emptyList(), t.listIdentities(user.id))
        assertFailsWith<TesseraException.NotFound> { t.unlinkIdentity(user.id, "00000000-0000-7000-8000-000000000000") }
        // Link mode is bound to the browser that started it.
        val link = t.startOauth("corp", appCallback, linkUserId = user.id)
        assertEquals(query(link.authorizationUrl)["state"], assertNotNull(link.browserState))
        val other = t.oauthCallback("corp", query(link.authorizationUrl).getValue("state"), error = "access_denied", browserState = "B".repeat(43))
        assertEquals("invalid_token", other.errorCode)
        // The app can turn OAuth off.
        t.updateApp("default", settings = t.defaultApp().settings.copy(signInMethods = listOf("password")))
        assertFailsWith<TesseraException.MethodDisabled> { t.startOauth("corp", appCallback) }
    }
}
