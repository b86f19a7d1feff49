"""Standard Webhooks verification (and signing, for tests and tools).

Tessera signs each delivery as ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``
in the ``webhook-signature`` header (several, space-separated, while secrets
rotate), with ``webhook-id`` and ``webhook-timestamp`` (Unix seconds). Secrets
are ``whsec_<base64>``. Receivers reject timestamps more than five minutes off.
Same rules as ``core/src/webhooks.rs``; the vectors in
``sdks/testdata/webhooks.json`` keep them in step.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Any, Dict, Iterable, Optional, Tuple, Union

from .errors import WebhookError
from .tokens import HeaderSource, _values

SECRET_PREFIX = "whsec_"
#: How far ``webhook-timestamp`` may be from now, in seconds.
TOLERANCE_SECONDS = 300

_TIMESTAMP = re.compile(r"[+-]?[0-9]+")

Body = Union[bytes, bytearray, memoryview, str]


def _key(secret: str) -> bytes:
    b64 = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        # Padding is optional, as in the reference libraries.
        return base64.b64decode(b64 + "=" * (-len(b64) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookError(
            "a webhook secret is whsec_ followed by base64", code="invalid_secret"
        ) from exc


def _bytes(body: Body) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def generate_secret() -> str:
    """A new random secret, ``whsec_…``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def sign_webhook(secret: str, msg_id: str, timestamp: int, body: Body) -> str:
    """The ``webhook-signature`` value (``v1,<base64>``) of one message."""
    content = f"{msg_id}.{int(timestamp)}.".encode("utf-8") + _bytes(body)
    mac = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def webhook_headers(
    secret: Union[str, Iterable[str]],
    body: Body,
    *,
    msg_id: Optional[str] = None,
    timestamp: Optional[int] = None,
) -> Dict[str, str]:
    """Headers of a signed delivery, as Tessera would send it (several secrets → several signatures)."""
    secrets_ = [secret] if isinstance(secret, str) else list(secret)
    msg_id = msg_id or "msg_" + secrets.token_urlsafe(16)
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": " ".join(sign_webhook(s, msg_id, ts, body) for s in secrets_),
    }


def _header(headers: HeaderSource, name: str) -> str:
    values = _values(headers, name)
    if not values or not values[0].strip():
        raise WebhookError(f"the {name} header is missing", code="malformed")
    return values[0].strip()


def _parts(headers: HeaderSource) -> Tuple[str, str, str]:
    return (
        _header(headers, "webhook-id"),
        _header(headers, "webhook-timestamp"),
        _header(headers, "webhook-signature"),
    )


def verify_webhook_signature(
    secret: str,
    headers: HeaderSource,
    body: Body,
    *,
    now: Optional[float] = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Check a delivery's signature and timestamp; raise :class:`WebhookError` if wrong."""
    msg_id, timestamp, signatures = _parts(headers)
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookError("webhook-timestamp is not a number", code="malformed")
    ts = int(timestamp)
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        raise WebhookError(
            "webhook-timestamp is more than five minutes off", code="timestamp_out_of_tolerance"
        )
    expected = sign_webhook(secret, msg_id, ts, body).encode("ascii")
    matched = False
    for candidate in signatures.split(" "):
        if candidate.startswith("v1,"):
            # Compare every candidate (no early exit), each in constant time.
            matched |= hmac.compare_digest(candidate.encode("utf-8"), expected)
    if not matched:
        raise WebhookError("no webhook signature matches", code="invalid_signature")


def verify_webhook(
    secret: str,
    headers: HeaderSource,
    body: Body,
    *,
    now: Optional[float] = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> Any:
    """Verify a delivery and return its JSON payload (``{"type", "timestamp", "data"}``).

    ``headers`` is any header mapping (names in any case); ``body`` the raw
    request body, exactly as received. Raises :class:`WebhookError` with
    ``code`` ``invalid_signature``, ``timestamp_out_of_tolerance`` or
    ``malformed``.
    """
    verify_webhook_signature(secret, headers, body, now=now, tolerance=tolerance)
    try:
        return json.loads(_bytes(body))
    except ValueError as exc:
        raise WebhookError("the webhook body is not JSON", code="malformed") from exc


__all__ = [
    "SECRET_PREFIX",
    "TOLERANCE_SECONDS",
    "generate_secret",
    "sign_webhook",
    "verify_webhook",
    "verify_webhook_signature",
    "webhook_headers",
]
