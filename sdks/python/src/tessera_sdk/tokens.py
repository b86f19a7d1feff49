"""Finding the access token in a request.

The wire contract (docs/contract.md, sections 3 and 4): ``Authorization: Bearer …`` first, then the ``tessera_at``
cookie (set for server-rendered apps). Works with any header mapping: a plain
``dict`` (any key case), Starlette's ``Headers``, Werkzeug's ``Headers``, or a
list of ``(name, value)`` pairs.
"""

from __future__ import annotations

from typing import Iterable, List, Mapping, Optional, Tuple, Union

#: The cookie that carries the access JWT for server-rendered apps.
ACCESS_TOKEN_COOKIE = "tessera_at"

HeaderSource = Union[Mapping[str, str], Iterable[Tuple[str, str]]]


def _values(headers: HeaderSource, name: str) -> List[str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    found: List[str] = []
    for key, value in items:
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            found.append(value)
    return found


def bearer_token(authorization: Optional[str]) -> Optional[str]:
    """The token of an ``Authorization: Bearer <token>`` value, else ``None``."""
    if not authorization:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    token = rest.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def cookie_value(cookie_header: str, name: str) -> Optional[str]:
    """The value of cookie ``name`` in a ``Cookie`` header, else ``None``."""
    for part in cookie_header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip() == name:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value or None
    return None


def token_from_headers(headers: HeaderSource) -> Optional[str]:
    """The access token of a request: the bearer token, else the ``tessera_at`` cookie."""
    for value in _values(headers, "authorization"):
        token = bearer_token(value)
        if token:
            return token
    for value in _values(headers, "cookie"):
        token = cookie_value(value, ACCESS_TOKEN_COOKIE)
        if token:
            return token
    return None
