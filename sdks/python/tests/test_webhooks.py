"""Webhooks: every case of sdks/testdata/webhooks.json, plus signing round trips."""

from __future__ import annotations

import pytest

from tessera_sdk import WebhookError, generate_secret, sign_webhook, verify_webhook, webhook_headers
from tessera_sdk.webhooks import verify_webhook_signature

from conftest import load_vectors

VECTORS = load_vectors("webhooks.json")
CASES = VECTORS["cases"]


def test_tolerance_matches_the_vectors() -> None:
    from tessera_sdk.webhooks import TOLERANCE_SECONDS

    assert VECTORS["tolerance"] == TOLERANCE_SECONDS


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_webhook_vector(case) -> None:
    body = case["body"].encode("utf-8")
    if case["valid"]:
        payload = verify_webhook(case["secret"], case["headers"], body, now=case["now"])
        assert payload["type"] == "user.created"
        # str bodies are UTF-8 encoded the same way
        verify_webhook(case["secret"], case["headers"], case["body"], now=case["now"])
    else:
        with pytest.raises(WebhookError) as info:
            verify_webhook(case["secret"], case["headers"], body, now=case["now"])
        assert info.value.code == case["error"]


def test_header_names_are_case_insensitive() -> None:
    case = CASES[0]
    headers = {k.title(): v for k, v in case["headers"].items()}
    verify_webhook(case["secret"], headers, case["body"], now=case["now"])
    verify_webhook(case["secret"], list(headers.items()), case["body"], now=case["now"])


def test_sign_reproduces_the_vector_signature() -> None:
    case = CASES[0]
    sig = sign_webhook(case["secret"], case["headers"]["webhook-id"],
                       int(case["headers"]["webhook-timestamp"]), case["body"])
    assert sig == case["headers"]["webhook-signature"]


def test_missing_header_is_malformed() -> None:
    case = CASES[0]
    headers = dict(case["headers"])
    del headers["webhook-signature"]
    with pytest.raises(WebhookError) as info:
        verify_webhook(case["secret"], headers, case["body"], now=case["now"])
    assert info.value.code == "malformed"


def test_rotation_round_trip_and_wrong_secret() -> None:
    old, new, other = generate_secret(), generate_secret(), generate_secret()
    assert old.startswith("whsec_")
    body = b'{"type":"user.updated","timestamp":"2030-01-01T00:00:00Z","data":{}}'
    headers = webhook_headers([old, new], body, msg_id="msg_1", timestamp=1_900_000_000)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        verify_webhook(secret, headers, body, now=1_900_000_100)
    with pytest.raises(WebhookError):
        verify_webhook_signature(other, headers, body, now=1_900_000_100)


def test_bad_secret_is_reported() -> None:
    with pytest.raises(WebhookError) as info:
        sign_webhook("whsec_not base64!", "msg", 1, b"{}")
    assert info.value.code == "invalid_secret"


def test_non_json_body_with_a_good_signature_is_malformed() -> None:
    secret = generate_secret()
    headers = webhook_headers(secret, b"not json", timestamp=1_900_000_000)
    verify_webhook_signature(secret, headers, b"not json", now=1_900_000_000)
    with pytest.raises(WebhookError) as info:
        verify_webhook(secret, headers, b"not json", now=1_900_000_000)
    assert info.value.code == "malformed"
