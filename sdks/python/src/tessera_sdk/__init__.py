"""Tessera SDK for Python: verify access tokens and webhooks, call the server API.

    from tessera_sdk import Verifier, token_from_headers

    verifier = Verifier("https://auth.example.com", audience="<app id>")
    claims = verifier.verify_or_none(token_from_headers(request.headers))

Framework adapters live in :mod:`tessera_sdk.fastapi` and :mod:`tessera_sdk.flask`.
"""

from .claims import Claims
from .client import AsyncClient, Client
from .errors import (
    ApiCode,
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    Expired,
    InvalidAudience,
    InvalidIssuer,
    InvalidSignature,
    InvalidTokenType,
    JwksError,
    MalformedToken,
    NotYetValid,
    TesseraError,
    TokenError,
    UnknownKey,
    UnsupportedAlgorithm,
    WebhookError,
)
from .models import User, UserPage
from .tokens import ACCESS_TOKEN_COOKIE, bearer_token, token_from_headers
from .verifier import Verifier
from .webhooks import generate_secret, sign_webhook, verify_webhook, webhook_headers

__version__ = "0.1.0"

__all__ = [
    "ACCESS_TOKEN_COOKIE",
    "ApiCode",
    "ApiConnectionError",
    "ApiError",
    "ApiTimeoutError",
    "AsyncClient",
    "Claims",
    "Client",
    "Expired",
    "InvalidAudience",
    "InvalidIssuer",
    "InvalidSignature",
    "InvalidTokenType",
    "JwksError",
    "MalformedToken",
    "NotYetValid",
    "TesseraError",
    "TokenError",
    "UnknownKey",
    "UnsupportedAlgorithm",
    "User",
    "UserPage",
    "Verifier",
    "WebhookError",
    "bearer_token",
    "generate_secret",
    "sign_webhook",
    "token_from_headers",
    "verify_webhook",
    "webhook_headers",
]
