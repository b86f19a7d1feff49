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
    Pool,
    Session,
    SessionInfo,
    Tessera,
    User,
    __version__,
    generate_key,
)
from tessera.errors import (
    BadRequest,
    ConfigError,
    Conflict,
    EmailNotVerified,
    EmailTaken,
    Forbidden,
    IdentityTaken,
    InternalError,
    InvalidCredentials,
    InvalidEmail,
    InvalidInput,
    InvalidToken,
    MethodDisabled,
    MfaRequired,
    NotFound,
    RateLimited,
    RefreshTokenReused,
    ServerError,
    SessionExpired,
    StorageError,
    TesseraError,
    TokenExpired,
    TooLarge,
    Unauthenticated,
    UserDisabled,
    WeakPassword,
    error_class,
)

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
    "TesseraError",
    "BadRequest",
    "InvalidInput",
    "InvalidEmail",
    "WeakPassword",
    "TooLarge",
    "Conflict",
    "EmailTaken",
    "IdentityTaken",
    "NotFound",
    "Unauthenticated",
    "InvalidCredentials",
    "InvalidToken",
    "TokenExpired",
    "RefreshTokenReused",
    "SessionExpired",
    "MfaRequired",
    "Forbidden",
    "UserDisabled",
    "EmailNotVerified",
    "MethodDisabled",
    "RateLimited",
    "ServerError",
    "StorageError",
    "ConfigError",
    "InternalError",
    "error_class",
]
