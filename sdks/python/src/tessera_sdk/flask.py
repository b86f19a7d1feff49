"""Flask decorator: ``@require_auth(verifier)`` puts verified :class:`Claims` in ``flask.g``.

Reads the token as docs/contract.md prescribes (bearer header, then the ``tessera_at``
cookie) and answers with the Tessera error envelope — 401 (with
``WWW-Authenticate: Bearer``) when not authenticated, 403 when a required role is
missing, 503 when the JWKS cannot be fetched.

    from tessera_sdk.flask import current_claims, require_auth

    @app.get("/me")
    @require_auth(verifier)
    def me():
        return {"user": current_claims().sub}
"""

import functools
from typing import Any, Callable, Dict, Iterable, Optional, Tuple, TypeVar, cast

from flask import g, jsonify, request

from .claims import Claims
from .errors import JwksError, TokenError
from .tokens import token_from_headers
from .verifier import Verifier

F = TypeVar("F", bound=Callable[..., Any])


def _error(status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None) -> Tuple[Any, int, Dict[str, str]]:
    return jsonify(error={"code": code, "message": message}), status, headers or {}


def current_claims() -> Claims:
    """The claims of the current request (inside a view wrapped by :func:`require_auth`)."""
    claims = g.get("tessera_claims")
    if claims is None:
        raise RuntimeError("no authenticated caller: wrap the view with @require_auth(verifier)")
    return cast(Claims, claims)


def optional_claims() -> Optional[Claims]:
    """The claims of the current request, or ``None`` for an anonymous caller."""
    return cast(Optional[Claims], g.get("tessera_claims"))


def require_auth(verifier: Verifier, *, roles: Iterable[str] = (), optional: bool = False) -> Callable[[F], F]:
    """Decorate a view so it runs only for an authenticated caller (with ``roles``).

    With ``optional=True`` anonymous callers get through with ``g.tessera_claims = None``.
    """
    required = tuple(roles)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.tessera_claims = None
            token = token_from_headers(request.headers)
            if token is None:
                if not optional:
                    return _error(401, "unauthenticated", "authentication required",
                                  {"WWW-Authenticate": "Bearer"})
            else:
                try:
                    g.tessera_claims = verifier.verify(token)
                except TokenError as exc:
                    if not optional:
                        return _error(401, "unauthenticated", f"invalid access token ({exc.code})",
                                      {"WWW-Authenticate": 'Bearer error="invalid_token"'})
                except JwksError:
                    return _error(503, "unavailable", "authentication is temporarily unavailable")
            claims: Optional[Claims] = g.tessera_claims
            if claims is not None:
                missing = [r for r in required if r not in claims.roles]
                if missing:
                    return _error(403, "forbidden", "missing role: " + ", ".join(missing))
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator
