"""Fixtures of the webhook end-to-end tests: a real HTTP receiver on loopback
that records every delivery and answers as the test scripts it, and the
verifiers each delivery must pass (the official `standardwebhooks` libraries
for Python and npm, and our Python SDK)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook
from tessera_sdk import verify_webhook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from faults.harness import Postgres, free_port  # noqa: E402  (the fault tests' own cluster)

NODE_CHECKER = Path(__file__).resolve().parent / "node" / "check.mjs"


@dataclass
class Delivery:
    """One request the receiver got."""

    headers: dict[str, str]
    body: str
    status: int

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """An HTTP server on 127.0.0.1 recording POSTs to /hook. Answers the
    statuses queued with `answer`, then `default`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.got: list[Delivery] = []
        self.script: deque[int] = deque()
        self.default = 200
        self.delay = 0.0
        self.cv = threading.Condition()
        self.server: ThreadingHTTPServer | None = None

    def answer(self, *statuses: int) -> None:
        with self.cv:
            self.script.extend(statuses)

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server hook name)
                body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.cv:
                    status = receiver.script.popleft() if receiver.script else receiver.default
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.got.append(Delivery(headers, body, status))
                    receiver.cv.notify_all()
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def wait(self, until, timeout: float = 30.0, what: str = "deliveries") -> list[Delivery]:
        """Wait until `until(got)` holds; the deliveries so far."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while not until(self.got):
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(d.id, d.event.get("type"), d.status) for d in self.got]
                    raise AssertionError(f"no {what} within {timeout}s; got {seen}")
                self.cv.wait(left)
            return list(self.got)


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def verify_everywhere(deliveries: list[Delivery], secrets: list[str]) -> None:
    """Every delivery verifies under every secret with the official Python
    library, the official npm library and our Python SDK."""
    for d in deliveries:
        for secret in secrets:
            Webhook(secret).verify(d.body, d.headers)
            assert verify_webhook(secret, d.headers, d.body) == d.event
    payload = json.dumps({
        "secrets": secrets,
        "deliveries": [{"headers": d.headers, "body": d.body} for d in deliveries],
    })
    out = subprocess.run(["node", str(NODE_CHECKER)], input=payload, capture_output=True,
                         text=True, timeout=60, check=True)
    results = json.loads(out.stdout)
    assert results == [[True] * len(secrets)] * len(deliveries), results


def refused_by_every_library(delivery: Delivery, secret: str) -> None:
    """A secret that did not sign `delivery` fails everywhere (the checks
    above are not vacuous)."""
    with pytest.raises(Exception):
        Webhook(secret).verify(delivery.body, delivery.headers)
    with pytest.raises(Exception):
        verify_webhook(secret, delivery.headers, delivery.body)
    payload = json.dumps({"secrets": [secret],
                          "deliveries": [{"headers": delivery.headers, "body": delivery.body}]})
    out = subprocess.run(["node", str(NODE_CHECKER)], input=payload, capture_output=True,
                         text=True, timeout=60, check=True)
    assert json.loads(out.stdout) == [[False]]


@pytest.fixture(scope="session")
def postgres():
    """A Postgres cluster of our own (as in e2e/faults)."""
    pg = Postgres()
    pg.start()
    yield pg
    pg.close()
