"""Webhook endpoints from Python: create (secret once), the SSRF refusal,
list/get/update/delete, rotation, the test event, and real deliveries by the
worker the opened Tessera runs, to a receiver on loopback (reachable because
it is in ``webhook_allow_hosts``)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import tessera

from conftest import KEK, PASSWORD, email


class Receiver:
    """Records each POST's headers and JSON body; answers 200."""

    def __init__(self) -> None:
        self.got: list[tuple[dict, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server hook name)
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n: int, timeout: float = 20.0) -> list[tuple[dict, dict]]:
        deadline = time.monotonic() + timeout
        while len(self.got) < n:
            assert time.monotonic() < deadline, f"{len(self.got)} of {n} deliveries: {self.got}"
            time.sleep(0.05)
        return list(self.got)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_loopback_urls_are_refused_outside_development(t):
    with pytest.raises(tessera.InvalidWebhookUrl) as e:
        t.create_webhook("http://127.0.0.1:9/hook")
    assert e.value.code == "invalid_webhook_url" and e.value.http_status == 422
    with pytest.raises(tessera.InvalidWebhookUrl):
        t.create_webhook("https://10.0.0.1/hook")
    assert t.list_webhooks() == []


def test_endpoints_and_deliveries(url, receiver):
    t = tessera.Tessera.open(url, key_encryption_key=KEK, password_hashing="fast", webhook_allow_hosts=["127.0.0.1"])
    created = t.create_webhook(receiver.url, ["user.*"], description="profiles")
    assert created.secret.startswith("whsec_")
    assert created.secret not in repr(created)
    hook = created.endpoint
    assert (hook.url, hook.events, hook.enabled, hook.app_id) == (receiver.url, ["user.*"], True, None)
    assert t.get_webhook(hook.id) == hook
    assert [h.id for h in t.list_webhooks()] == [hook.id]
    assert "secret" not in hook.to_dict()

    # The worker delivers a sign-up's user.created (the filter drops session.created).
    user = t.sign_up(email(), PASSWORD).user
    (headers, body), = receiver.wait(1)
    assert body["type"] == "user.created" and body["data"]["id"] == user.id
    assert headers["webhook-signature"].startswith("v1,")

    test = t.send_webhook_test(hook.id)
    assert test.event_type == "webhook.test" and test.status == "pending"
    headers, body = receiver.wait(2)[1]
    assert headers["webhook-id"] == test.event_id and body["type"] == "webhook.test"

    deadline = time.monotonic() + 10
    log = t.list_webhook_deliveries(hook.id)
    while any(d.status != "succeeded" for d in log):
        assert time.monotonic() < deadline, log
        time.sleep(0.05)
        log = t.list_webhook_deliveries(hook.id)
    assert [d.event_type for d in log] == ["webhook.test", "user.created"]
    assert all(d.attempt == 1 and d.response_code == 200 for d in log)
    assert t.list_webhook_deliveries(hook.id, status="failed") == []
    with pytest.raises(tessera.InvalidInput):
        t.list_webhook_deliveries(hook.id, status="lost")

    retried = t.retry_webhook_delivery(hook.id, log[0].id)
    assert retried.status == "pending"
    headers, _ = receiver.wait(3)[2]
    assert headers["webhook-id"] == test.event_id

    rotated = t.rotate_webhook_secret(hook.id, keep_old_secs=60)
    assert rotated.secret.startswith("whsec_") and rotated.secret != created.secret
    assert rotated.endpoint.old_secret_expires_at is not None
    t.send_webhook_test(hook.id)
    headers, _ = receiver.wait(4)[3]
    assert len(headers["webhook-signature"].split(" ")) == 2

    changed = t.update_webhook(hook.id, events=["session.*"], description="", enabled=False)
    assert (changed.events, changed.description, changed.enabled) == (["session.*"], None, False)
    t.delete_webhook(hook.id)
    with pytest.raises(tessera.NotFound):
        t.get_webhook(hook.id)
