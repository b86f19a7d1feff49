"""Webhooks end to end (issue 16): the real `tessera serve` delivering
Standard Webhooks to a real receiver, each delivery verified with the
official `standardwebhooks` libraries (PyPI and npm) and our Python SDK.
Development mode is off: the receiver's loopback address is reachable only
because it is in `TESSERA_WEBHOOK_ALLOW_HOSTS`."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from faults.harness import ADMIN_KEY, Tessera, auth, wait_until

from tessera_sdk import sign_webhook, verify_webhook
from tessera_sdk.errors import WebhookError

from .conftest import Delivery, Receiver, refused_by_every_library, sdk_checkers, verify_everywhere


def server(workdir: Path, database_url: str, name: str = "tessera") -> Tessera:
    """A `tessera serve` outside development mode whose webhooks may reach
    127.0.0.1 (the allow-list), not started."""
    t = Tessera(workdir, database_url, name=name)
    t.base = f"http://localhost:{t.port}"
    t.env.update({
        "TESSERA_DEV": "false",
        "TESSERA_BASE_URL": t.base,
        "TESSERA_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
    })
    return t


def sqlite(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'hooks.db'}"


def admin(t: Tessera, method: str, path: str, body: dict | None = None) -> httpx.Response:
    return t.http.request(method, path, json=body, headers=auth(ADMIN_KEY), timeout=10)


def create_endpoint(t: Tessera, url: str, **extra) -> dict:
    r = admin(t, "POST", "/v1/admin/webhooks", {"url": url, **extra})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["secret"].startswith("whsec_")
    return created


def sign_up(t: Tessera, email: str) -> dict:
    r = t.sign_up(email)
    assert r.status_code == 201, r.text
    return r.json()


def deliveries_log(t: Tessera, endpoint_id: str) -> list[dict]:
    r = admin(t, "GET", f"/v1/admin/webhooks/{endpoint_id}/deliveries?limit=1000")
    assert r.status_code == 200, r.text
    return r.json()["deliveries"]


def test_sign_up_delivers_user_created_and_session_created(tmp_path, receiver):
    t = server(tmp_path, sqlite(tmp_path)).start()
    try:
        # Outside the allow-list, loopback is refused at creation.
        r = admin(t, "POST", "/v1/admin/webhooks", {"url": f"http://127.0.0.2:{receiver.port}/hook"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_webhook_url", r.text

        hook = create_endpoint(t, receiver.url)
        user = sign_up(t, "ada@example.com")
        got = receiver.wait(lambda g: {d.event["type"] for d in g} >= {"user.created", "session.created"})
        by_type = {d.event["type"]: d for d in got}
        assert by_type["user.created"].event["data"]["id"] == user["user"]["id"]
        assert by_type["user.created"].event["data"]["email"] == "ada@example.com"
        assert by_type["session.created"].event["data"]["user_id"] == user["user"]["id"]
        assert len({d.id for d in got}) == len(got), "one webhook-id per event"
        # Never a token, a secret or a hash in a payload.
        for d in got:
            for needle in (user["refresh_token"], user["access_token"], "hash", "secret"):
                assert needle not in d.body, d.body
        verify_everywhere(got, [hook["secret"]])
        refused_by_every_library(got[0], create_endpoint(t, receiver.url)["secret"])
        log = wait_until("the log shows both successes",
                         lambda: (log := deliveries_log(t, hook["id"]))
                         and all(d["status"] == "succeeded" for d in log) and log, timeout=10)
        assert {d["event_type"] for d in log} == {"user.created", "session.created"}, log
        assert all(d["response_code"] == 200 and d["attempt"] == 1 for d in log), log
    finally:
        t.stop()


def test_a_500_is_retried_with_the_same_webhook_id(tmp_path, receiver):
    t = server(tmp_path, sqlite(tmp_path)).start()
    try:
        hook = create_endpoint(t, receiver.url, events=["webhook.test"])
        receiver.answer(500)
        r = admin(t, "POST", f"/v1/admin/webhooks/{hook['id']}/test")
        assert r.status_code == 202, r.text
        event_id = r.json()["event_id"]
        # The retry comes after the schedule's first step (5 s).
        got = receiver.wait(lambda g: len(g) >= 2, timeout=40)
        assert [d.status for d in got] == [500, 200]
        assert [d.id for d in got] == [event_id, event_id]
        assert got[0].body == got[1].body
        verify_everywhere(got, [hook["secret"]])
        log = wait_until("the log shows the success",
                         lambda: [d for d in deliveries_log(t, hook["id"]) if d["status"] == "succeeded"],
                         timeout=10)
        assert log[0]["attempt"] == 2 and log[0]["event_id"] == event_id, log
    finally:
        t.stop()


def test_a_410_disables_the_endpoint(tmp_path, receiver):
    t = server(tmp_path, sqlite(tmp_path)).start()
    try:
        hook = create_endpoint(t, receiver.url)
        receiver.default = 410
        r = admin(t, "POST", f"/v1/admin/webhooks/{hook['id']}/test")
        assert r.status_code == 202, r.text
        receiver.wait(lambda g: len(g) >= 1)
        endpoint = wait_until("the endpoint is disabled",
                              lambda: (e := admin(t, "GET", f"/v1/admin/webhooks/{hook['id']}").json())
                              and not e["enabled"] and e, timeout=10)
        assert endpoint["disabled_reason"] == "gone", endpoint
        failed = deliveries_log(t, hook["id"])[0]
        assert failed["status"] == "failed" and failed["response_code"] == 410, failed
        # Disabled: a sign-up queues nothing for it.
        sign_up(t, "gone@example.com")
        time.sleep(2)
        assert len(receiver.got) == 1
        # PATCH {enabled: true} turns it back on.
        r = admin(t, "PATCH", f"/v1/admin/webhooks/{hook['id']}", {"enabled": True})
        assert r.status_code == 200 and r.json()["enabled"] is True, r.text
        assert r.json()["disabled_reason"] is None
        receiver.default = 200
        sign_up(t, "back@example.com")
        got = receiver.wait(lambda g: any(d.status == 200 for d in g))
        verify_everywhere(got, [hook["secret"]])
    finally:
        t.stop()


def test_rotation_signs_with_both_secrets(tmp_path, receiver):
    t = server(tmp_path, sqlite(tmp_path)).start()
    try:
        hook = create_endpoint(t, receiver.url)
        old = hook["secret"]
        r = admin(t, "POST", f"/v1/admin/webhooks/{hook['id']}/rotate-secret", {"keep_old_secs": 3600})
        assert r.status_code == 200, r.text
        new = r.json()["secret"]
        assert new.startswith("whsec_") and new != old
        admin(t, "POST", f"/v1/admin/webhooks/{hook['id']}/test")
        got = receiver.wait(lambda g: len(g) >= 1)
        assert len(got[0].headers["webhook-signature"].split(" ")) == 2
        verify_everywhere(got, [old, new])
        refuse_tampered_and_stale(got[0], [old, new])
        # With the old secret dropped at once, only the new one signs.
        r = admin(t, "POST", f"/v1/admin/webhooks/{hook['id']}/rotate-secret", {"keep_old_secs": 0})
        newest = r.json()["secret"]
        admin(t, "POST", f"/v1/admin/webhooks/{hook['id']}/test")
        got = receiver.wait(lambda g: len(g) >= 2)
        assert len(got[1].headers["webhook-signature"].split(" ")) == 1
        verify_everywhere(got[1:], [newest])
        refused_by_every_library(got[1], new)
    finally:
        t.stop()


def test_kill9_with_undelivered_events_loses_none(tmp_path):
    # The receiver is down while the events happen; the server is killed
    # with every delivery still pending; after a restart each event arrives.
    down = Receiver()
    t = server(tmp_path, sqlite(tmp_path)).start()
    hook = create_endpoint(t, down.url)
    for i in range(2):
        sign_up(t, f"k{i}@example.com")
    pending = deliveries_log(t, hook["id"])
    t.kill9()
    expected = {d["event_id"] for d in pending}
    assert len(expected) == 4, pending  # two user.created, two session.created
    assert all(d["status"] == "pending" for d in pending), pending

    receiver = down.start()
    t2 = server(tmp_path, sqlite(tmp_path)).start()
    try:
        got = receiver.wait(lambda g: {d.id for d in g} >= expected, timeout=60,
                            what="every event after the restart")
        verify_everywhere(got, [hook["secret"]])
        log = wait_until("every delivery succeeded",
                         lambda: all(d["status"] == "succeeded" for d in deliveries_log(t2, hook["id"])),
                         timeout=20)
        assert log
    finally:
        t2.stop()
        receiver.stop()


def test_two_instances_on_one_postgres_deliver_each_attempt_once(tmp_path, postgres, receiver):
    url = postgres.url("webhooks_two")
    a = server(tmp_path, url, name="a").start()
    b = server(tmp_path, url, name="b").start()
    try:
        hook = create_endpoint(a, receiver.url)
        receiver.delay = 0.05  # deliveries overlap the other instance's claims
        for i in range(6):
            sign_up(a if i % 2 else b, f"pg{i}@example.com")
        for i in range(6):
            r = admin(b if i % 2 else a, "POST", f"/v1/admin/webhooks/{hook['id']}/test")
            assert r.status_code == 202, r.text
        expected = {d["event_id"] for d in deliveries_log(b, hook["id"])}
        assert len(expected) == 18, expected  # 6 × (user.created + session.created) + 6 tests
        got = receiver.wait(lambda g: {d.id for d in g} >= expected, timeout=60)
        time.sleep(3)  # anything delivered twice would have arrived by now
        got = list(receiver.got)
        ids = [d.id for d in got]
        assert sorted(ids) == sorted(expected), "each event delivered exactly once"
        log = deliveries_log(a, hook["id"])
        assert all(d["status"] == "succeeded" and d["attempt"] == 1 for d in log), log
        verify_everywhere(got, [hook["secret"]])
    finally:
        a.stop()
        b.stop()


def refuse_tampered_and_stale(real: Delivery, secrets: list[str]) -> None:
    """Each of our SDKs refuses `real` with one byte of its body changed, and
    `real` correctly signed by every secret but six minutes old (outside the
    five-minute tolerance)."""
    tampered = Delivery(real.headers, real.body.replace("{", "{ ", 1), real.status)
    old_ts = int(time.time()) - 360
    stale = Delivery({**real.headers, "webhook-timestamp": str(old_ts),
                      "webhook-signature": " ".join(sign_webhook(s, real.id, old_ts, real.body)
                                                    for s in secrets)},
                     real.body, real.status)
    for d, code in ((tampered, "invalid_signature"), (stale, "timestamp_out_of_tolerance")):
        for secret in secrets:
            with pytest.raises(WebhookError) as refused:
                verify_webhook(secret, d.headers, d.body)
            assert refused.value.code == code, refused.value
    verdicts = sdk_checkers().verdicts([tampered, stale], secrets)
    expected = [["invalid_signature"] * len(secrets), ["timestamp_out_of_tolerance"] * len(secrets)]
    assert verdicts == {"node": expected, "go": expected, "rust": expected}, verdicts
