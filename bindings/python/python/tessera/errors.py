"""Tessera's errors as exceptions, one class per family of stable codes.

Every exception raised by a Tessera call is a :class:`TesseraError` with

* ``code``: the stable machine code, the same string as in the HTTP error
  envelope and in Kotlin (``invalid_credentials``, ``email_taken``, ...);
* ``message``: a human message, safe to show (never a secret).

Subclasses group codes the way the HTTP API groups them into statuses, so
``except tessera.Unauthenticated`` catches every "who are you?" failure while
``except tessera.RefreshTokenReused`` catches exactly one. Match on ``.code``
when you need the precise reason. ``http_status`` is the status the HTTP API
answers with, handy when a web framework turns the error into a response.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Type

__all__ = [
    "TesseraError",
    "BadRequest",
    "InvalidInput",
    "InvalidEmail",
    "WeakPassword",
    "InvalidWebhookUrl",
    "TooLarge",
    "Conflict",
    "EmailTaken",
    "IdentityTaken",
    "AccountLinkRequired",
    "LastSignInMethod",
    "NotFound",
    "Unauthenticated",
    "InvalidCredentials",
    "InvalidToken",
    "TokenExpired",
    "RefreshTokenReused",
    "SessionExpired",
    "MfaRequired",
    "ReauthenticationRequired",
    "Forbidden",
    "UserDisabled",
    "EmailNotVerified",
    "MethodDisabled",
    "RateLimited",
    "ServerError",
    "ProviderError",
    "StorageError",
    "ConfigError",
    "InternalError",
]


class TesseraError(Exception):
    """Base of every Tessera error; ``code`` says precisely what went wrong."""

    #: The code this class stands for (an instance's ``code`` may be more precise).
    default_code: str = "internal_error"
    #: The HTTP status the server answers this error with.
    http_status: int = 500

    def __init__(self, message: str, *, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.code: str = code or self.default_code
        self.message: str = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def __reduce__(self):  # keep code and message through pickling
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: Type[TesseraError], state: dict) -> TesseraError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class BadRequest(TesseraError):
    """The request is malformed."""

    default_code = "bad_request"
    http_status = 400


class InvalidInput(TesseraError):
    """Input failed validation; ``field`` names the offending field when known."""

    default_code = "invalid_input"
    http_status = 422

    def __init__(
        self, message: str, *, code: Optional[str] = None, field: Optional[str] = None
    ) -> None:
        super().__init__(message, code=code)
        self.field: Optional[str] = field


class InvalidEmail(InvalidInput):
    """The email address is not acceptable (``invalid_email``)."""

    default_code = "invalid_email"


class WeakPassword(InvalidInput):
    """The password breaks the policy: too short, too long or too guessable."""

    default_code = "weak_password"


class InvalidWebhookUrl(InvalidInput):
    """A webhook endpoint URL is refused: not ``https://``, or resolving to a
    loopback, private or link-local address outside the allow-list."""

    default_code = "invalid_webhook_url"


class TooLarge(TesseraError):
    """The value is larger than allowed."""

    default_code = "too_large"
    http_status = 413


class Conflict(TesseraError):
    """A unique value (slug, name) is already in use."""

    default_code = "conflict"
    http_status = 409


class EmailTaken(Conflict):
    """Another account in the pool already uses this email."""

    default_code = "email_taken"


class IdentityTaken(Conflict):
    """An external identity is already linked to an account."""

    default_code = "identity_taken"


class AccountLinkRequired(Conflict):
    """An external account's email matches an account it may not join on its
    own: sign in to that account first and link the provider there."""

    default_code = "account_link_required"


class LastSignInMethod(Conflict):
    """Removing this would leave the user no way to sign in."""

    default_code = "last_sign_in_method"


class NotFound(TesseraError):
    """The thing asked for does not exist (or the caller may not see it)."""

    default_code = "not_found"
    http_status = 404


class Unauthenticated(TesseraError):
    """No valid credentials: the family of every 401 answer."""

    default_code = "unauthenticated"
    http_status = 401


class InvalidCredentials(Unauthenticated):
    """Email or password wrong, or no such account (never says which)."""

    default_code = "invalid_credentials"


class InvalidToken(Unauthenticated):
    """A token is malformed, forged, or unknown."""

    default_code = "invalid_token"


class TokenExpired(Unauthenticated):
    """A token was valid once and has expired."""

    default_code = "token_expired"


class RefreshTokenReused(Unauthenticated):
    """A spent refresh token was presented again; its session is now revoked."""

    default_code = "refresh_token_reused"


class SessionExpired(Unauthenticated):
    """The session was revoked or has expired."""

    default_code = "session_expired"


class MfaRequired(Unauthenticated):
    """A second factor is needed to finish signing in.

    ``mfa_token`` is presented with the second factor; ``methods`` lists the
    factors the user can use (``totp``, ``recovery_code``, ``passkey``).
    ``device_token`` is the device token a password sign-in issued (the
    password was right): keep it for this device's next sign-in.
    """

    default_code = "mfa_required"

    def __init__(
        self,
        message: str,
        *,
        code: Optional[str] = None,
        mfa_token: str = "",
        methods: Optional[List[str]] = None,
        device_token: Optional[str] = None,
    ) -> None:
        super().__init__(message, code=code)
        self.mfa_token: str = mfa_token
        self.methods: List[str] = list(methods or [])
        self.device_token: Optional[str] = device_token

    def __repr__(self) -> str:  # never the token
        return f"MfaRequired(methods={self.methods!r})"


class ReauthenticationRequired(Unauthenticated):
    """The action needs fresh proof beyond a session: the password (``password=``)
    or, for accounts without one, a current TOTP code (``code=``)."""

    default_code = "reauthentication_required"


class Forbidden(TesseraError):
    """The caller is known but may not do this: the family of every 403."""

    default_code = "forbidden"
    http_status = 403


class UserDisabled(Forbidden):
    """The account is disabled."""

    default_code = "user_disabled"


class EmailNotVerified(Forbidden):
    """The account must verify its email address first."""

    default_code = "email_not_verified"


class MethodDisabled(Forbidden):
    """The sign-in method is not enabled for this app."""

    default_code = "method_disabled"


class RateLimited(TesseraError):
    """Too many attempts; ``retry_after`` is how many seconds to wait."""

    default_code = "rate_limited"
    http_status = 429

    def __init__(
        self, message: str, *, code: Optional[str] = None, retry_after: float = 0.0
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after: float = retry_after


class ServerError(TesseraError):
    """Tessera's (or its store's) fault, not the caller's."""

    default_code = "internal_error"
    http_status = 500


class ProviderError(ServerError):
    """An external sign-in provider failed or answered badly (502)."""

    default_code = "provider_error"
    http_status = 502


class StorageError(ServerError):
    """The store failed (connection lost, timeout)."""

    default_code = "storage_error"
    http_status = 503


class ConfigError(ServerError):
    """The configuration is unusable (missing or malformed key, bad URL)."""

    default_code = "config_error"


class InternalError(ServerError):
    """A bug or an unexpected failure inside Tessera."""

    default_code = "internal_error"


_BY_CODE: Dict[str, Type[TesseraError]] = {
    cls.default_code: cls
    for cls in (
        BadRequest,
        InvalidInput,
        InvalidEmail,
        WeakPassword,
        InvalidWebhookUrl,
        TooLarge,
        Conflict,
        EmailTaken,
        IdentityTaken,
        AccountLinkRequired,
        LastSignInMethod,
        NotFound,
        Unauthenticated,
        InvalidCredentials,
        InvalidToken,
        TokenExpired,
        RefreshTokenReused,
        SessionExpired,
        MfaRequired,
        ReauthenticationRequired,
        Forbidden,
        UserDisabled,
        EmailNotVerified,
        MethodDisabled,
        RateLimited,
        ProviderError,
        StorageError,
        ConfigError,
        InternalError,
    )
}


def error_class(code: str) -> Type[TesseraError]:
    """The exception class raised for ``code`` (``TesseraError`` if unknown)."""
    return _BY_CODE.get(code, TesseraError)


def _from_core(
    code: str,
    message: str,
    field: Optional[str] = None,
    retry_after: Optional[float] = None,
    **extra: object,
) -> TesseraError:
    """Build the exception for a core error (called by the native module)."""
    cls = error_class(code)
    if issubclass(cls, InvalidInput):
        return cls(message, code=code, field=field)
    if issubclass(cls, RateLimited):
        return cls(message, code=code, retry_after=retry_after or 0.0)
    if issubclass(cls, MfaRequired):
        return cls(message, code=code, **extra)  # type: ignore[arg-type]
    return cls(message, code=code)
