"""FastAPI dependency: ``Depends(TesseraAuth(verifier))`` yields verified :class:`Claims`.

Reads the token as docs/contract.md prescribes (bearer header, then the ``tessera_at``
cookie), verifies it without blocking the event loop, and answers 401 (with
``WWW-Authenticate: Bearer``) when the caller is not authenticated, 403 when a
required role is missing, 503 when the JWKS cannot be fetched.

    from fastapi import Depends, FastAPI
    from tessera_sdk import Claims, Verifier
    from tessera_sdk.fastapi import TesseraAuth

    verifier = Verifier("https://auth.example.com", "<app id>")
    auth = TesseraAuth(verifier)

    @app.get("/me")
    async def me(claims: Claims = Depends(auth)):
        return {"user": claims.sub}
"""

from typing import Iterable, Optional

from fastapi import HTTPException, Request

from .claims import Claims
from .errors import JwksError, TokenError
from .tokens import token_from_headers
from .verifier import Verifier

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


class TesseraAuth:
    """A dependency that authenticates the request (use ``optional=True`` for ``Claims | None``)."""

    def __init__(self, verifier: Verifier, *, roles: Iterable[str] = (), optional: bool = False) -> None:
        self.verifier = verifier
        self.roles = tuple(roles)
        self.optional = optional

    async def __call__(self, request: Request) -> Optional[Claims]:
        token = token_from_headers(request.headers)
        if token is None:
            if self.optional:
                return None
            raise HTTPException(401, "authentication required", headers=_CHALLENGE)
        try:
            claims = await self.verifier.verify_async(token)
        except TokenError as exc:
            if self.optional:
                return None
            raise HTTPException(
                401, f"invalid access token ({exc.code})",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None
        except JwksError:
            raise HTTPException(503, "authentication is temporarily unavailable") from None
        missing = [r for r in self.roles if r not in claims.roles]
        if missing:
            raise HTTPException(403, "missing role: " + ", ".join(missing))
        request.state.tessera_claims = claims
        return claims


def require_auth(verifier: Verifier, *, roles: Iterable[str] = ()) -> TesseraAuth:
    """A dependency that requires an authenticated caller (and ``roles``, if given)."""
    return TesseraAuth(verifier, roles=roles)


def optional_auth(verifier: Verifier) -> TesseraAuth:
    """A dependency that yields the claims, or ``None`` for anonymous callers."""
    return TesseraAuth(verifier, optional=True)
