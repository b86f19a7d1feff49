"""Fixtures: a real SMTP server (aiosmtpd) on loopback and a real `tessera serve`."""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """Collects every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.cv = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.cv:
            self.messages.append((list(envelope.rcpt_tos), msg))
            self.cv.notify_all()
        return "250 OK"

    def wait_for(self, to: str, subject_contains: str = "", timeout: float = 20.0) -> email.message.EmailMessage:
        """The first unclaimed message to `to` whose subject contains the text."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for i, (rcpts, msg) in enumerate(self.messages):
                    if to in rcpts and subject_contains in str(msg["subject"]):
                        del self.messages[i]
                        return msg
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no mail to {to} ({subject_contains!r}) within {timeout}s")
                self.cv.wait(left)

    def to(self, addr: str) -> list[email.message.EmailMessage]:
        with self.cv:
            return [m for r, m in self.messages if addr in r]


def text_of(msg: email.message.EmailMessage) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def token_in(msg: email.message.EmailMessage) -> str:
    m = re.search(r"token=(ts[a-z]_[A-Za-z0-9_-]{43})", text_of(msg))
    assert m, text_of(msg)
    return m.group(1)


def link_in(msg: email.message.EmailMessage) -> str:
    m = re.search(r"(https?://\S+token=ts[a-z]_[A-Za-z0-9_-]{43}\S*)", text_of(msg))
    assert m, text_of(msg)
    return m.group(1)


def code_in(msg: email.message.EmailMessage) -> str:
    m = re.search(r"\b(\d{6})\b", text_of(msg))
    assert m, text_of(msg)
    return m.group(1)


class Smtp:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    s = Smtp(free_port())
    s.start()
    yield s
    s.stop()


class Server:
    """A `tessera serve` process on a SQLite file, sending mail to `smtp_port`."""

    def __init__(self, workdir: Path, smtp_port: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "TESSERA_DATABASE_URL": f"sqlite://{workdir / 'e2e.db'}",
            "TESSERA_LISTEN": f"127.0.0.1:{self.port}",
            "TESSERA_BASE_URL": self.base,
            "TESSERA_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?tls=none",
            "TESSERA_MAIL_FROM": "Tessera <auth@example.test>",
            "TESSERA_RATE_LIMITS": "off",
            "TESSERA_DEV": "1",
        }
        self.log = open(workdir / f"server-{self.port}.log", "w")
        self.proc: subprocess.Popen | None = None
        self.http = httpx.Client(base_url=self.base, timeout=10, follow_redirects=False)

    def start(self) -> "Server":
        binary = os.environ.get("TESSERA_BIN")
        if not binary:
            pytest.fail("TESSERA_BIN must point at the tessera binary (scripts/test-all.sh sets it)")
        self.proc = subprocess.Popen([binary, "serve"], env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.http.get("/healthz").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("tessera did not become healthy")

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=15)
            self.proc = None

    def sign_up(self, email_addr: str, password: str = "correct horse battery staple 42") -> dict:
        r = self.http.post("/v1/sign-up", json={"email": email_addr, "password": password})
        assert r.status_code == 201, r.text
        return r.json()


@pytest.fixture
def server(smtp, tmp_path):
    s = Server(tmp_path, smtp.port).start()
    yield s
    s.stop()
