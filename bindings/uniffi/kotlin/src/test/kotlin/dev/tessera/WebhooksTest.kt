package dev.tessera

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/**
 * Webhook endpoints from Kotlin: the SSRF refusal, create (the secret once),
 * list, get, update, rotate, the test event and its delivery log, retry,
 * delete; loopback allowed by `webhookAllowHosts`. Nothing listens on the
 * endpoint's port, so deliveries stay pending.
 */
class WebhooksTest {
    private suspend fun open(allowLoopback: Boolean) = Tessera.open(
        "memory://",
        generateKeyEncryptionKey(),
        OpenOptions(
            insecureFastPasswordHashingForTests = true,
            webhookAllowHosts = if (allowLoopback) listOf("127.0.0.1") else null,
        ),
    )

    @Test
    fun `loopback URLs are refused unless allowed`(): Unit = runBlocking {
        open(allowLoopback = false).use { t ->
            val e = assertFailsWith<TesseraException.InvalidInput> { t.createWebhook("http://127.0.0.1:9/hook", listOf()) }
            assertEquals("invalid_webhook_url", e.code)
            assertEquals("url", e.field)
            assertEquals(listOf(), t.listWebhooks())
        }
    }

    @Test
    fun `endpoints, test events and the delivery log`(): Unit = runBlocking {
        open(allowLoopback = true).use { t ->
            val created = t.createWebhook("http://127.0.0.1:9/hook", listOf("user.*"), description = "profiles")
            assertTrue(created.secret.startsWith("whsec_"))
            assertFalse(created.toString().contains(created.secret), "toString() hides the secret")
            val hook = created.endpoint
            assertEquals(listOf("user.*"), hook.events)
            assertTrue(hook.enabled)
            assertNull(hook.appId)
            assertEquals(hook, t.getWebhook(hook.id))
            assertEquals(listOf(hook.id), t.listWebhooks().map { it.id })

            val test = t.sendWebhookTest(hook.id)
            assertEquals("webhook.test", test.eventType)
            assertEquals("pending", test.status)
            val log = t.listWebhookDeliveries(hook.id)
            assertEquals(listOf(test.eventId), log.map { it.eventId })
            assertEquals(listOf(), t.listWebhookDeliveries(hook.id, status = "succeeded"))
            assertEquals("invalid_input", assertFailsWith<TesseraException.InvalidInput> {
                t.listWebhookDeliveries(hook.id, status = "lost")
            }.code)
            assertEquals("pending", t.retryWebhookDelivery(hook.id, test.id).status)

            val rotated = t.rotateWebhookSecret(hook.id, keepOldSecs = 60)
            assertTrue(rotated.secret.startsWith("whsec_"))
            assertNotEquals(created.secret, rotated.secret)
            assertNotNull(rotated.endpoint.oldSecretExpiresAt)

            val changed = t.updateWebhook(hook.id, events = listOf("session.*"), description = "", enabled = false)
            assertEquals(listOf("session.*"), changed.events)
            assertNull(changed.description)
            assertFalse(changed.enabled)

            t.deleteWebhook(hook.id)
            assertFailsWith<TesseraException.NotFound> { t.getWebhook(hook.id) }
        }
    }
}
