"""A cached JWKS: fetched once, refetched on an unknown ``kid`` (with a cooldown).

Access tokens name their signing key by ``kid``. Keys rotate additively (a new
key appears in the JWKS before tokens carry it), so an unknown ``kid`` is a
reason to refetch once — but never more often than every ``cooldown`` seconds,
so a flood of garbage tokens cannot make us hammer the server. Keys are also
refreshed after ``max_age`` seconds so retired keys eventually disappear; a
failed refresh keeps the keys we have.

Only EdDSA, ES256 and RS256 keys are kept; every key's algorithm comes from the
JWK itself (its ``alg``, or its type and curve), never from a token.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional

import httpx
import jwt

from .errors import JwksError, UnknownKey

log = logging.getLogger("tessera_sdk")

#: Seconds to wait before retrying a first JWKS load that failed.
FAILURE_BACKOFF = 5.0

#: The algorithms Tessera signs with. Never ``none``, never HMAC.
ALLOWED_ALGORITHMS = frozenset({"EdDSA", "ES256", "RS256"})


@dataclass(frozen=True)
class VerificationKey:
    """One usable public key of the JWKS."""

    kid: str
    alg: str
    key: Any  # a `cryptography` public key, as PyJWT wants it


def _infer_alg(jwk: Mapping[str, Any]) -> Optional[str]:
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        return "EdDSA"
    if kty == "EC" and crv == "P-256":
        return "ES256"
    if kty == "RSA":
        return "RS256"
    return None


def parse_jwks(document: Any) -> Dict[str, VerificationKey]:
    """The usable keys of a JWKS document, by ``kid``; unusable ones are skipped."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise JwksError("the JWKS is not an object with a 'keys' array")
    keys: Dict[str, VerificationKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, Mapping):
            continue
        kid = jwk.get("kid")
        alg = jwk.get("alg") or _infer_alg(jwk)
        if not isinstance(kid, str) or alg not in ALLOWED_ALGORITHMS:
            continue
        if jwk.get("use") not in (None, "sig"):
            continue
        try:
            key = jwt.PyJWK(dict(jwk), algorithm=alg).key
        except Exception as exc:  # a key we cannot use must not break the others
            log.warning("tessera_sdk: skipping JWKS key %r: %s", kid, exc)
            continue
        keys[kid] = VerificationKey(kid=kid, alg=alg, key=key)
    return keys


class JwksCache:
    """Keys of one JWKS URL, shared by the sync and async verification paths."""

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float],
        cooldown: float = 30.0,
        max_age: float = 3600.0,
        timeout: float = 5.0,
        http_client: Optional[httpx.Client] = None,
        async_http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        self.url = url
        self._clock = clock
        self._cooldown = cooldown
        self._max_age = max_age
        self._timeout = timeout
        self._http = http_client
        self._ahttp = async_http_client
        self._keys: Dict[str, VerificationKey] = {}
        self._fetched_at: Optional[float] = None
        self._last_refetch: Optional[float] = None
        self._failed_at: Optional[float] = None
        self._lock = threading.Lock()
        self._alock: Optional[asyncio.Lock] = None
        self._alock_loop: Optional[asyncio.AbstractEventLoop] = None
        #: How many times the JWKS was fetched (successfully or not).
        self.fetch_count = 0

    # --- decisions, shared by both paths ----------------------------------

    def _needs_load(self) -> bool:
        """Whether to (re)load now; raises while a first load keeps failing."""
        now = self._clock()
        if self._fetched_at is None:
            if self._failed_at is not None and now - self._failed_at < FAILURE_BACKOFF:
                raise JwksError(f"the JWKS from {self.url} is unavailable (retrying shortly)")
            return True
        return now - self._fetched_at >= self._max_age

    def _may_refetch(self) -> bool:
        """Claim the right to refetch for an unknown kid (starts the cooldown)."""
        now = self._clock()
        if self._last_refetch is not None and now - self._last_refetch < self._cooldown:
            return False
        self._last_refetch = now
        return True

    def _store(self, document: Any) -> None:
        self._keys = parse_jwks(document)
        self._fetched_at = self._clock()

    def _failed(self, exc: Exception) -> None:
        log.warning("tessera_sdk: fetching the JWKS from %s failed: %s", self.url, exc)
        now = self._clock()
        if self._fetched_at is None:
            self._failed_at = now
            raise JwksError(f"could not fetch the JWKS from {self.url}: {exc}") from exc
        # Keep the keys we have and try again after the cooldown, not on every call.
        self._fetched_at = max(self._fetched_at, now - self._max_age + self._cooldown)

    @staticmethod
    def _document(response: httpx.Response) -> Any:
        if response.status_code != 200:
            raise JwksError(f"the JWKS endpoint answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise JwksError("the JWKS endpoint did not answer JSON") from exc

    def _unknown(self, kid: str) -> UnknownKey:
        return UnknownKey(f"no key with kid {kid!r} in the JWKS")

    # --- sync -------------------------------------------------------------

    def _fetch(self) -> None:
        self.fetch_count += 1
        try:
            if self._http is None:
                self._http = httpx.Client(timeout=self._timeout)
            response = self._http.get(self.url, timeout=self._timeout)
            self._store(self._document(response))
        except (httpx.HTTPError, JwksError) as exc:
            self._failed(exc)

    def _cached(self, kid: str) -> Optional[VerificationKey]:
        """The fast path: a fresh cache that has the key (no lock needed)."""
        if self._fetched_at is None or self._clock() - self._fetched_at >= self._max_age:
            return None
        return self._keys.get(kid)

    def get(self, kid: str) -> VerificationKey:
        """The key named ``kid``; raises :class:`UnknownKey` or :class:`JwksError`."""
        key = self._cached(kid)
        if key is not None:
            return key
        with self._lock:
            loaded = False
            if self._needs_load():
                self._fetch()
                loaded = True
            key = self._keys.get(kid)
            if key is None and not loaded and self._may_refetch():
                self._fetch()
                key = self._keys.get(kid)
        if key is None:
            raise self._unknown(kid)
        return key

    # --- async ------------------------------------------------------------

    async def _fetch_async(self) -> None:
        self.fetch_count += 1
        try:
            if self._ahttp is not None:
                response = await self._ahttp.get(self.url, timeout=self._timeout)
            else:
                async with httpx.AsyncClient(timeout=self._timeout) as client:
                    response = await client.get(self.url)
            self._store(self._document(response))
        except (httpx.HTTPError, JwksError) as exc:
            self._failed(exc)

    def _async_lock(self) -> asyncio.Lock:
        # An asyncio.Lock belongs to one event loop; make one per loop in use.
        loop = asyncio.get_running_loop()
        if self._alock is None or self._alock_loop is not loop:
            self._alock, self._alock_loop = asyncio.Lock(), loop
        return self._alock

    async def get_async(self, kid: str) -> VerificationKey:
        """Like :meth:`get` without blocking the event loop."""
        key = self._cached(kid)
        if key is not None:
            return key
        async with self._async_lock():
            loaded = False
            if self._needs_load():
                await self._fetch_async()
                loaded = True
            key = self._keys.get(kid)
            if key is None and not loaded and self._may_refetch():
                await self._fetch_async()
                key = self._keys.get(kid)
        if key is None:
            raise self._unknown(kid)
        return key
