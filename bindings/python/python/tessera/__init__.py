"""Tessera: self-hostable user authentication, embedded in Python.

The core is Rust (``tessera._tessera``); this package adds the exception
classes and type stubs. Two clients over one core, as httpx has ``Client``
and ``AsyncClient``::

    import tessera

    t = tessera.Tessera.open("sqlite://app.db", key_encryption_key=KEK)
    signed_in = t.sign_in_password("ada@example.com", "correct horse battery staple")
    info = t.validate_session(signed_in.session_token)

    at = await tessera.AsyncTessera.open("sqlite://app.db", key_encryption_key=KEK)
    signed_in = await at.sign_in_password("ada@example.com", "correct horse battery staple")

Both release the GIL while Rust works. Errors are :class:`TesseraError`
subclasses carrying the stable ``.code``.
"""

from tessera._tessera import (
    AccessClaims,
    AccessTokenInfo,
    ApiKey,
    App,
    AsyncTessera,
    AuditEvent,
    AuthSession,
    CreatedApiKey,
    EnrolledSignIn,
    Identity,
    MfaStatus,
    OAuthCallback,
    OAuthProvider,
    OAuthStart,
    PasskeyChallenge,
    PasskeyInfo,
    Pool,
    Session,
    SessionInfo,
    Tessera,
    TotpEnrollment,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSecret,
    __version__,
    generate_key,
)
from tessera import errors as _errors
from tessera.errors import *  # noqa: F403 (every class in errors.__all__)
from tessera.errors import error_class

__all__ = [
    "__version__",
    "Tessera",
    "AsyncTessera",
    "generate_key",
    "User",
    "Session",
    "AuthSession",
    "SessionInfo",
    "AccessTokenInfo",
    "AccessClaims",
    "App",
    "Pool",
    "ApiKey",
    "CreatedApiKey",
    "AuditEvent",
    "TotpEnrollment",
    "MfaStatus",
    "EnrolledSignIn",
    "PasskeyChallenge",
    "PasskeyInfo",
    "OAuthProvider",
    "OAuthStart",
    "OAuthCallback",
    "Identity",
    "WebhookEndpoint",
    "WebhookSecret",
    "WebhookDelivery",
]
# The exception classes, as `tessera.errors` lists them.
__all__ += _errors.__all__
__all__ += ["error_class"]
