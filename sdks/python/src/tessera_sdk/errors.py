"""Typed failures of the SDK.

Every failure is a :class:`TesseraError` carrying a stable ``code`` string, so
callers can branch on the reason without parsing messages. Token codes are the
names used by the shared test vectors (``sdks/testdata/tokens.json``); webhook
codes those of ``sdks/testdata/webhooks.json``. Messages never contain tokens,
secrets or API keys.
"""

from __future__ import annotations

from typing import Optional


class TesseraError(Exception):
    """Base class of every error raised by this SDK."""

    code: str = "error"

    def __init__(self, message: str, *, code: Optional[str] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


# --- access tokens -----------------------------------------------------------


class TokenError(TesseraError):
    """The access token was rejected: the caller is not authenticated."""

    code = "invalid_token"


class MalformedToken(TokenError):
    """The token is not a well-formed JWT (or lacks a required claim)."""

    code = "malformed"


class UnsupportedAlgorithm(TokenError):
    """The header ``alg`` is not allowed (``none``, HMAC, or not the key's)."""

    code = "unsupported_algorithm"


class UnknownKey(TokenError):
    """No key of the JWKS (even after a refetch) has the token's ``kid``."""

    code = "unknown_key"


class InvalidSignature(TokenError):
    """The signature does not match the key."""

    code = "invalid_signature"


class InvalidTokenType(TokenError):
    """The header ``typ`` is not ``at+jwt`` (RFC 9068), e.g. an ID token."""

    code = "invalid_token_type"


class Expired(TokenError):
    """``exp`` is in the past (beyond the leeway)."""

    code = "expired"


class NotYetValid(TokenError):
    """``nbf`` (or ``iat``) is in the future (beyond the leeway)."""

    code = "not_yet_valid"


class InvalidAudience(TokenError):
    """``aud`` does not name this app."""

    code = "invalid_audience"


class InvalidIssuer(TokenError):
    """``iss`` is not this install's base URL."""

    code = "invalid_issuer"


class JwksError(TesseraError):
    """The JWKS could not be fetched or parsed (an outage, not a bad token)."""

    code = "jwks_unavailable"


# --- webhooks ------------------------------------------------------------------


class WebhookError(TesseraError):
    """A webhook delivery failed verification.

    ``code`` is one of ``invalid_signature``, ``timestamp_out_of_tolerance``,
    ``malformed`` (missing or unparsable headers, body not JSON) or
    ``invalid_secret``.
    """

    code = "invalid_signature"


# --- server API ----------------------------------------------------------------


class ApiError(TesseraError):
    """The server API answered with an error.

    ``status`` is the HTTP status (``None`` when no answer came) and ``code``
    the ``error.code`` of the envelope ``{"error": {"code", "message"}}``.
    """

    code = "api_error"

    def __init__(self, message: str, *, status: Optional[int], code: Optional[str] = None) -> None:
        super().__init__(message, code=code)
        self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"


class ApiTimeoutError(ApiError):
    """The request did not complete within the client's timeout."""

    code = "timeout"

    def __init__(self, message: str) -> None:
        super().__init__(message, status=None)


class ApiConnectionError(ApiError):
    """The server could not be reached."""

    code = "connection_error"

    def __init__(self, message: str) -> None:
        super().__init__(message, status=None)
