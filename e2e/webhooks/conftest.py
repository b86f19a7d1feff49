"""Fixtures of the webhook end-to-end tests: a real HTTP receiver on loopback
that records every delivery and answers as the test scripts it, and the
verifiers each delivery must pass (the official `standardwebhooks` libraries
for Python and npm, and each of our SDKs: Python in process; Node, Go and
Rust through a small checker each, run over the recorded deliveries)."""

from __future__ import annotations

import functools
import json
import os
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

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
NODE_CHECKER = HERE / "node" / "check.mjs"


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


class SdkCheckers:
    """Our Node, Go and Rust SDKs' verifiers as commands: each reads the
    deliveries file named by TESSERA_WEBHOOK_DELIVERIES and prints, per
    delivery and secret, "ok" or the SDK's error code. The Go and Rust
    checkers are built once per session (the e2e script builds the Rust one
    with the `tessera` binary; the Node SDK's dist/ comes from its npm ci)."""

    def __init__(self, workdir: Path) -> None:
        go_bin = workdir / "checkdeliveries"
        subprocess.run(["go", "build", "-o", str(go_bin), "./internal/checkdeliveries"],
                       cwd=REPO / "sdks" / "go", check=True, timeout=300)
        rust_bin = os.environ.get("TESSERA_SDK_CHECKER")
        if not rust_bin:
            subprocess.run(["cargo", "build", "--locked", "-q", "-p", "tessera-sdk",
                            "--example", "check_deliveries"], cwd=REPO, check=True, timeout=900)
            rust_bin = str(REPO / "target" / "debug" / "examples" / "check_deliveries")
        self.workdir = workdir
        self.commands = {
            "node": ["node", str(HERE / "sdk" / "check.mjs")],
            "go": [str(go_bin)],
            "rust": [rust_bin],
        }

    def verdicts(self, deliveries: list[Delivery], secrets: list[str]) -> dict[str, list[list[str]]]:
        """Each SDK's verdicts on `deliveries` under each of `secrets`."""
        path = self.workdir / "deliveries.json"
        path.write_text(json.dumps({
            "secrets": secrets,
            "deliveries": [{"headers": d.headers, "body": d.body} for d in deliveries],
        }))
        env = {**os.environ, "TESSERA_WEBHOOK_DELIVERIES": str(path)}
        out = {}
        for sdk, command in self.commands.items():
            run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
            assert run.returncode == 0, f"{sdk} checker: {run.stderr}"
            out[sdk] = json.loads(run.stdout)
        return out


@functools.cache
def sdk_checkers() -> SdkCheckers:
    """The checkers, built on first use (under target/, kept between runs)."""
    workdir = REPO / "target" / "e2e-webhooks"
    workdir.mkdir(parents=True, exist_ok=True)
    return SdkCheckers(workdir)


def verify_everywhere(deliveries: list[Delivery], secrets: list[str]) -> None:
    """Every delivery verifies under every secret with the official Python
    library, the official npm library and each of our SDKs."""
    all_ok = [["ok"] * len(secrets)] * len(deliveries)
    assert sdk_checkers().verdicts(deliveries, secrets) == {"node": all_ok, "go": all_ok, "rust": all_ok}
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
    refused = [["invalid_signature"]]
    assert sdk_checkers().verdicts([delivery], [secret]) == {"node": refused, "go": refused, "rust": refused}


@pytest.fixture(scope="session")
def postgres():
    """A Postgres cluster of our own (as in e2e/faults)."""
    pg = Postgres()
    pg.start()
    yield pg
    pg.close()
