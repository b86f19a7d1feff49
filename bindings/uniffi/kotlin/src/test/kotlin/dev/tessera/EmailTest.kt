package dev.tessera

import com.icegreen.greenmail.util.GreenMail
import com.icegreen.greenmail.util.ServerSetup
import jakarta.mail.internet.MimeMessage
import jakarta.mail.internet.MimeMultipart
import java.net.ServerSocket
import java.nio.file.Path
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/** The email flows from Kotlin, with mail delivered to a real SMTP server (GreenMail). */
class EmailTest {
    @TempDir
    lateinit var dir: Path

    private lateinit var smtp: GreenMail
    private var port = 0
    private val password = "correct horse battery staple"

    @BeforeEach
    fun startSmtp() {
        port = ServerSocket(0).use { it.localPort }
        smtp = GreenMail(ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP))
        smtp.start()
    }

    @AfterEach
    fun stopSmtp() = smtp.stop()

    /** The plain-text body of the next message to `to` whose subject contains `subject`. */
    private fun mailTo(to: String, subject: String): String {
        val deadline = System.currentTimeMillis() + 20_000
        while (System.currentTimeMillis() < deadline) {
            val found = smtp.receivedMessages.firstOrNull { m: MimeMessage ->
                m.allRecipients.any { it.toString() == to } && m.subject.contains(subject) && m.getHeader("X-Seen") == null
            }
            if (found != null) {
                found.setHeader("X-Seen", "1")
                val content = found.content
                return if (content is MimeMultipart) content.getBodyPart(0).content as String else content.toString()
            }
            Thread.sleep(100)
        }
        error("no mail to $to ($subject)")
    }

    private fun token(text: String) = Regex("token=(ts[a-z]_[A-Za-z0-9_-]{43})").find(text)!!.groupValues[1]

    @Test
    fun `email flows through SMTP`() = runBlocking {
        val t = Tessera.open(
            "sqlite://" + dir.resolve("mail.db").toAbsolutePath(),
            generateKeyEncryptionKey(),
            OpenOptions(
                insecureFastPasswordHashingForTests = true,
                smtpUrl = "smtp://127.0.0.1:$port?tls=none",
                mailFrom = "Tessera <auth@example.test>",
            ),
        )
        val s = t.signUp("kt@example.com", password)!!
        val verified = t.verifyEmail(token(mailTo("kt@example.com", "Verify")))
        assertTrue(verified.emailVerified)

        t.sendSignInCode("kt@example.com")
        val code = Regex("\\b(\\d{6})\\b").find(mailTo("kt@example.com", "sign-in code"))!!.groupValues[1]
        assertEquals(s.user.id, t.signInWithCode("kt@example.com", code).user.id)
        val reuse = assertFailsWith<TesseraException> { t.signInWithCode("kt@example.com", code) }
        assertEquals("invalid_credentials", reuse.code)

        t.sendPasswordReset("kt@example.com")
        t.sendPasswordReset("nobody@example.com")
        val reset = token(mailTo("kt@example.com", "Reset"))
        val weak = assertFailsWith<TesseraException> { t.resetPassword(reset, "password") }
        assertEquals("weak_password", weak.code)
        t.resetPassword(reset, "a new kotlin passphrase")
        val gone = assertFailsWith<TesseraException> { t.validateSession(s.sessionToken!!) }
        assertEquals("session_expired", gone.code)

        t.sendMagicLink("kt@example.com")
        assertTrue(t.signInWithMagicLink(token(mailTo("kt@example.com", "Sign in"))).accessToken.isNotEmpty())

        t.requestEmailChange(s.user.id, "kt2@example.com")
        val changed = t.confirmEmailChange(token(mailTo("kt2@example.com", "Confirm")))
        assertEquals("kt2@example.com", changed.email)
        assertTrue(smtp.receivedMessages.none { m -> m.allRecipients.any { it.toString() == "nobody@example.com" } })
    }
}
