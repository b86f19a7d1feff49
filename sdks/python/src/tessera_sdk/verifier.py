"""Access-token verification against an install's JWKS.

The checks follow docs/contract.md section 3: the algorithm comes from the key
(only EdDSA, ES256 and RS256; the header ``alg`` must equal the JWK's ``alg``),
``typ`` is ``at+jwt`` (RFC 9068), ``iss`` is the base URL, ``aud`` the app id,
``exp``/``nbf`` are checked with a clock-skew leeway. PyJWT does the signature
and the ``iss``/``aud`` checks; time checks are ours so the clock is injectable
(tests verify the shared vectors at their fixed ``now``).
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import httpx
import jwt

from .claims import Claims
from .errors import (
    Expired,
    InvalidAudience,
    InvalidIssuer,
    InvalidSignature,
    InvalidTokenType,
    MalformedToken,
    NotYetValid,
    TokenError,
    UnknownKey,
    UnsupportedAlgorithm,
)
from .jwks import ALLOWED_ALGORITHMS, JwksCache, VerificationKey

DEFAULT_LEEWAY = 30.0
DEFAULT_COOLDOWN = 30.0
_ACCEPTED_TYP = {"at+jwt", "application/at+jwt"}


def _number(payload: Mapping[str, Any], name: str, *, required: bool) -> Optional[float]:
    value = payload.get(name)
    if value is None:
        if required:
            raise MalformedToken(f"the token has no {name!r} claim")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MalformedToken(f"the {name!r} claim is not a number")
    return float(value)


_B64URL = re.compile(r"[A-Za-z0-9_-]+")


def _header(token: str) -> Dict[str, Any]:
    """The JOSE header, decoded without PyJWT (which would decode every segment)."""
    segment = token[: token.index(".")]
    try:
        if not _B64URL.fullmatch(segment):
            raise ValueError("not base64url")
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError as exc:  # binascii.Error, UnicodeDecodeError and JSONDecodeError too
        raise MalformedToken("the token header cannot be decoded") from exc
    if not isinstance(header, dict):
        raise MalformedToken("the token header is not a JSON object")
    return header


class Verifier:
    """Verifies Tessera access tokens for one app.

    ``base_url`` is the install's public URL (the token issuer), ``audience``
    the app id. One verifier should live as long as the process: it caches the
    JWKS. It is safe to share between threads and to use from asyncio.
    """

    def __init__(
        self,
        base_url: str,
        audience: str,
        *,
        leeway: float = DEFAULT_LEEWAY,
        issuer: Optional[str] = None,
        jwks_url: Optional[str] = None,
        refetch_cooldown: float = DEFAULT_COOLDOWN,
        jwks_max_age: float = 3600.0,
        timeout: float = 5.0,
        clock: Optional[Callable[[], float]] = None,
        http_client: Optional[httpx.Client] = None,
        async_http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        base = base_url.rstrip("/")
        if not base:
            raise ValueError("base_url is required")
        if not audience:
            raise ValueError("audience (the app id) is required")
        self.issuer = issuer if issuer is not None else base
        self.audience = audience
        self.leeway = leeway
        self._clock = clock or time.time
        self.jwks = JwksCache(
            jwks_url or f"{base}/.well-known/jwks.json",
            clock=self._clock,
            cooldown=refetch_cooldown,
            max_age=jwks_max_age,
            timeout=timeout,
            http_client=http_client,
            async_http_client=async_http_client,
        )

    def __repr__(self) -> str:
        return f"Verifier(issuer={self.issuer!r}, audience={self.audience!r})"

    # --- public API -------------------------------------------------------

    def verify(self, token: str) -> Claims:
        """The verified claims of ``token``; raises a :class:`TokenError` subclass.

        Raises :class:`JwksError` when the keys cannot be fetched at all.
        """
        alg, kid = self._inspect(token)
        return self._check(token, alg, self.jwks.get(kid))

    async def verify_async(self, token: str) -> Claims:
        """Like :meth:`verify`, fetching the JWKS without blocking the loop."""
        alg, kid = self._inspect(token)
        return self._check(token, alg, await self.jwks.get_async(kid))

    def verify_or_none(self, token: Optional[str]) -> Optional[Claims]:
        """The claims, or ``None`` when the caller is not authenticated.

        A missing or invalid token gives ``None``; a JWKS outage still raises
        :class:`JwksError` (it is not the caller's fault).
        """
        if not token:
            return None
        try:
            return self.verify(token)
        except TokenError:
            return None

    async def verify_or_none_async(self, token: Optional[str]) -> Optional[Claims]:
        """Async :meth:`verify_or_none`."""
        if not token:
            return None
        try:
            return await self.verify_async(token)
        except TokenError:
            return None

    # --- steps --------------------------------------------------------------

    def _inspect(self, token: str) -> Tuple[str, str]:
        """Header checks that need no key: shape, ``alg`` allowed, ``typ``, ``kid``."""
        if not isinstance(token, str) or token.count(".") != 2:
            raise MalformedToken("the token is not a JWT")
        header = _header(token)
        alg = header.get("alg")
        if not isinstance(alg, str):
            raise MalformedToken("the token header has no alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise UnsupportedAlgorithm(f"algorithm {alg!r} is not accepted")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYP:
            raise InvalidTokenType("the token is not an access token (typ is not at+jwt)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise UnknownKey("the token header has no kid")
        return alg, kid

    def _check(self, token: str, alg: str, key: VerificationKey) -> Claims:
        if key.alg != alg:
            raise UnsupportedAlgorithm(f"key {key.kid!r} is for {key.alg}, the token says {alg}")
        try:
            payload = jwt.decode(
                token,
                key.key,
                algorithms=[key.alg],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "verify_exp": False,  # checked below against our clock
                    "verify_nbf": False,
                    "verify_iat": False,
                    "require": ["iss", "aud", "sub", "exp"],
                },
            )
        except jwt.InvalidSignatureError as exc:
            raise InvalidSignature("the token signature is invalid") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidAudience("the token is for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidIssuer("the token is from another issuer") from exc
        except jwt.InvalidAlgorithmError as exc:
            raise UnsupportedAlgorithm("the token algorithm is not accepted") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise MalformedToken(str(exc)) from exc
        except jwt.DecodeError as exc:
            raise MalformedToken("the token cannot be decoded") from exc
        except jwt.PyJWTError as exc:
            raise TokenError(f"the token is invalid: {exc}") from exc
        now = self._clock()
        exp = _number(payload, "exp", required=True)
        nbf = _number(payload, "nbf", required=False)
        _number(payload, "iat", required=False)
        assert exp is not None
        if exp <= now - self.leeway:
            raise Expired("the token has expired")
        if nbf is not None and nbf > now + self.leeway:
            raise NotYetValid("the token is not valid yet")
        if not isinstance(payload.get("sub"), str):
            raise MalformedToken("the sub claim is not a string")
        return Claims.from_payload(payload)
