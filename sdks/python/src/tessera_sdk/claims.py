"""The verified claims of a Tessera access token.

A small typed view over the JWT payload (RFC 9068 access token, see docs/contract.md
section 3) so handlers read ``claims.sub`` rather than dictionary keys; the
full payload stays available as ``claims.raw``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union


def _str_list(value: Any) -> List[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def _opt_str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Claims:
    """Verified access-token claims.

    ``sub`` is the user id, ``sid`` the session id, ``aud``/``client_id`` the
    app id, ``amr`` the authentication methods (RFC 8176) and ``roles`` the
    user's roles in the app (empty when absent).
    """

    sub: str
    iss: str
    aud: Union[str, List[str]]
    exp: int
    sid: Optional[str] = None
    client_id: Optional[str] = None
    iat: Optional[int] = None
    jti: Optional[str] = None
    pool: Optional[str] = None
    amr: List[str] = field(default_factory=list)
    roles: List[str] = field(default_factory=list)
    email: Optional[str] = None
    email_verified: Optional[bool] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def user_id(self) -> str:
        """Alias of ``sub``."""
        return self.sub

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> "Claims":
        aud = payload.get("aud")
        iat = payload.get("iat")
        ev = payload.get("email_verified")
        return cls(
            sub=str(payload["sub"]),
            iss=str(payload["iss"]),
            aud=aud if isinstance(aud, str) else _str_list(aud),
            exp=int(payload["exp"]),
            sid=_opt_str(payload.get("sid")),
            client_id=_opt_str(payload.get("client_id")),
            iat=int(iat) if isinstance(iat, (int, float)) and not isinstance(iat, bool) else None,
            jti=_opt_str(payload.get("jti")),
            pool=_opt_str(payload.get("pool")),
            amr=_str_list(payload.get("amr")),
            roles=_str_list(payload.get("roles")),
            email=_opt_str(payload.get("email")),
            email_verified=ev if isinstance(ev, bool) else None,
            raw=dict(payload),
        )
