"""Interop with the official Standard Webhooks library (PyPI ``standardwebhooks``)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tessera_sdk import generate_secret, verify_webhook, webhook_headers

BODY = '{"type":"user.created","timestamp":"2030-01-01T00:00:00Z","data":{"name":"Ada — ✓"}}'


def test_we_accept_what_the_official_library_signs() -> None:
    secret = generate_secret()
    now = int(time.time())
    signature = Webhook(secret).sign("msg_interop_1", datetime.fromtimestamp(now, tz=timezone.utc), BODY)
    headers = {"webhook-id": "msg_interop_1", "webhook-timestamp": str(now), "webhook-signature": signature}
    assert verify_webhook(secret, headers, BODY.encode())["data"]["name"] == "Ada — ✓"


def test_the_official_library_accepts_what_we_sign() -> None:
    secret = generate_secret()
    headers = webhook_headers(secret, BODY)
    assert Webhook(secret).verify(BODY.encode(), headers)["type"] == "user.created"


def test_the_official_library_accepts_our_rotation_headers() -> None:
    old, new = generate_secret(), generate_secret()
    headers = webhook_headers([old, new], BODY)
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_both_reject_a_tampered_body() -> None:
    secret = generate_secret()
    headers = webhook_headers(secret, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace("Ada", "Eve"), headers)
    with pytest.raises(Exception):
        verify_webhook(secret, headers, BODY.replace("Ada", "Eve"))
