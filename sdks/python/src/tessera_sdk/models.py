"""Typed records of the server API (users and pages of users)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional

_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: str) -> datetime:
    """An RFC 3339 time (``Z`` or offset, any number of fraction digits) as an aware datetime."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # datetime.fromisoformat (before 3.11) takes at most 6 fraction digits.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    return datetime.fromisoformat(text.replace("t", "T").replace(" ", "T", 1))


@dataclass(frozen=True)
class User:
    """A user as the admin API returns it."""

    id: str
    pool_id: Optional[str]
    email: Optional[str]
    email_verified: bool
    name: Optional[str]
    metadata: Dict[str, Any]
    disabled: bool
    created_at: Optional[datetime]
    updated_at: Optional[datetime]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "User":
        created, updated = data.get("created_at"), data.get("updated_at")
        metadata = data.get("metadata")
        return cls(
            id=str(data["id"]),
            pool_id=data.get("pool_id"),
            email=data.get("email"),
            email_verified=bool(data.get("email_verified", False)),
            name=data.get("name"),
            metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
            disabled=bool(data.get("disabled", False)),
            created_at=parse_time(created) if isinstance(created, str) else None,
            updated_at=parse_time(updated) if isinstance(updated, str) else None,
            raw=dict(data),
        )


@dataclass(frozen=True)
class UserPage:
    """One page of ``GET /v1/admin/users``; ``next_cursor`` is ``None`` on the last page."""

    users: List[User]
    next_cursor: Optional[str]
