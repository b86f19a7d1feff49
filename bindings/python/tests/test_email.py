"""Email flows from Python, with mail delivered through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller

import tessera

from conftest import KEK, PASSWORD


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.cv = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.cv:
            self.messages.append(msg)
            self.cv.notify_all()
        return "250 OK"

    def wait_for(self, to: str, subject: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for i, m in enumerate(self.messages):
                    if m["to"] == to and subject in str(m["subject"]):
                        del self.messages[i]
                        return m.get_body(preferencelist=("plain",)).get_content()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no mail to {to} ({subject!r})")
                self.cv.wait(left)


@pytest.fixture
def mail():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{port}?tls=none"
    controller.stop()


def token_in(text: str) -> str:
    return re.search(r"token=(ts[a-z]_[A-Za-z0-9_-]{43})", text).group(1)


def test_email_flows_through_smtp(mail, tmp_path):
    inbox, smtp_url = mail
    t = tessera.Tessera.open(
        f"sqlite://{tmp_path / 'mail.db'}", KEK, password_hashing="fast",
        smtp_url=smtp_url, mail_from="Tessera <auth@example.test>",
    )
    s = t.sign_up("py@example.com", PASSWORD)
    user = t.verify_email(token_in(inbox.wait_for("py@example.com", "Verify")))
    assert user.email_verified

    t.send_sign_in_code("py@example.com")
    code = re.search(r"\b(\d{6})\b", inbox.wait_for("py@example.com", "sign-in code")).group(1)
    signed_in = t.sign_in_with_code("py@example.com", code)
    assert signed_in.user.id == s.user.id
    with pytest.raises(tessera.InvalidCredentials) as e:
        t.sign_in_with_code("py@example.com", code)
    assert e.value.code == "invalid_credentials"

    t.send_password_reset("py@example.com")
    t.send_password_reset("nobody@example.com")  # same answer, no mail
    token = token_in(inbox.wait_for("py@example.com", "Reset"))
    with pytest.raises(tessera.WeakPassword):
        t.reset_password(token, "password")
    t.reset_password(token, "a new python passphrase")
    with pytest.raises(tessera.TesseraError) as e:
        t.validate_session(s.session_token)
    assert e.value.code == "session_expired"
    inbox.wait_for("py@example.com", "changed")

    t.send_magic_link("py@example.com")
    link_session = t.sign_in_with_magic_link(token_in(inbox.wait_for("py@example.com", "Sign in")))
    assert link_session.access_token

    t.request_email_change(s.user.id, "py2@example.com")
    inbox.wait_for("py@example.com", "being changed")
    changed = t.confirm_email_change(token_in(inbox.wait_for("py2@example.com", "Confirm")))
    assert changed.email == "py2@example.com"
    assert all(m["to"] != "nobody@example.com" for m in inbox.messages)


def test_email_flows_from_asyncio(mail, tmp_path):
    inbox, smtp_url = mail

    async def main() -> None:
        t = await tessera.AsyncTessera.open("memory://", KEK, password_hashing="fast", smtp_url=smtp_url)
        await t.sign_up("async@example.com", PASSWORD)
        inbox.wait_for("async@example.com", "Verify")
        await t.send_sign_in_code("async@example.com")
        code = re.search(r"\b(\d{6})\b", await asyncio.to_thread(inbox.wait_for, "async@example.com", "sign-in code")).group(1)
        s = await t.sign_in_with_code("async@example.com", code)
        assert s.user.email == "async@example.com"

    asyncio.run(main())
