"""Typed failures of the SDK.

Every failure is a :class:`TesseraError` carrying a stable ``code`` string, so
callers can branch on the reason without parsing messages. Token codes are the
names used by the shared test vectors (``sdks/testdata/tokens.json``); webhook
codes those of ``sdks/testdata/webhooks.json``. Messages never contain tokens,
secrets or API keys.
"""

from __future__ import annotations

from enum import Enum
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


class ApiCode(str, Enum):
    """Every ``code`` the server API answers in its error envelope.

    :attr:`ApiError.code` is one of these (compare ``err.code ==
    ApiCode.EMAIL_TAKEN``; the members are strings). The list is checked
    against ``sdks/testdata/error-codes.json``, generated from the server.
    """

    INVALID_CREDENTIALS = "invalid_credentials"
    """Email or password wrong, or no such account (never says which)."""

    BAD_REQUEST = "bad_request"
    """The request is malformed (unparseable JSON, wrong content type)."""

    INVALID_INPUT = "invalid_input"
    """Input failed validation; ``field`` names the offending field."""

    INVALID_EMAIL = "invalid_email"
    """The email address is not acceptable."""

    WEAK_PASSWORD = "weak_password"
    """The password breaks the policy (too short, too long, too guessable)."""

    EMAIL_TAKEN = "email_taken"
    """Another account in the pool already uses this email."""

    IDENTITY_TAKEN = "identity_taken"
    """An external identity is already linked to an account."""

    CONFLICT = "conflict"
    """A unique value (slug, name) is already in use."""

    NOT_FOUND = "not_found"
    """The thing asked for does not exist (or the caller may not see it)."""

    USER_DISABLED = "user_disabled"
    """The account is disabled."""

    EMAIL_NOT_VERIFIED = "email_not_verified"
    """The account must verify its email address first."""

    INVALID_TOKEN = "invalid_token"
    """A token is malformed, forged, or unknown."""

    TOKEN_EXPIRED = "token_expired"
    """A token was valid once and has expired."""

    REFRESH_TOKEN_REUSED = "refresh_token_reused"
    """A spent refresh token was presented again; the session is revoked."""

    SESSION_EXPIRED = "session_expired"
    """The session was revoked or has expired."""

    UNAUTHENTICATED = "unauthenticated"
    """No credentials were presented, or they do not identify anyone."""

    FORBIDDEN = "forbidden"
    """The caller is known but may not do this."""

    RATE_LIMITED = "rate_limited"
    """Too many attempts; try again after the given delay."""

    MFA_REQUIRED = "mfa_required"
    """A second factor is required to finish signing in."""

    ACCOUNT_LINK_REQUIRED = "account_link_required"
    """An account with the external identity's email exists; sign in to it and link explicitly."""

    LAST_SIGN_IN_METHOD = "last_sign_in_method"
    """The credential or identity is the user's last way to sign in."""

    REAUTHENTICATION_REQUIRED = "reauthentication_required"
    """The action needs a recent sign-in or the current password again."""

    PROVIDER_ERROR = "provider_error"
    """An external provider failed or answered something unusable."""

    METHOD_DISABLED = "method_disabled"
    """The sign-in method is not enabled for this app."""

    INVALID_WEBHOOK_URL = "invalid_webhook_url"
    """A webhook endpoint URL is not https:// or reaches a non-public address."""

    TOO_LARGE = "too_large"
    """The value is larger than allowed."""

    STORAGE_ERROR = "storage_error"
    """The store failed (connection lost, timeout, unexpected database state)."""

    CONFIG_ERROR = "config_error"
    """The configuration is unusable (missing or malformed key, bad URL)."""

    INTERNAL_ERROR = "internal_error"
    """A bug or an unexpected failure inside Tessera."""

    METHOD_NOT_ALLOWED = "method_not_allowed"
    """A known route called with a method it does not serve (HTTP only)."""

    TIMEOUT = "timeout"
    """The request took longer than the server allows (HTTP only)."""
