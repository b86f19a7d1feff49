"""The server-API client against a small local HTTP server (no mock objects)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

import httpx
import pytest

from tessera_sdk import ApiConnectionError, ApiError, ApiTimeoutError, AsyncClient, Client

API_KEY = "tsk_" + "A" * 43


def user(i: int, email: str) -> dict:
    return {
        "id": f"u{i}",
        "pool_id": "pool-1",
        "email": email,
        "email_verified": True,
        "name": f"User {i}",
        "metadata": {"plan": "pro"},
        "disabled": False,
        "created_at": "2026-11-22T06:00:00.123456789Z",
        "updated_at": "2026-11-22T07:00:00+00:00",
    }


USERS = [user(i, e) for i, e in enumerate(
    ["ada@example.test", "bob@example.test", "ADA.LOVELACE@example.test", "carol@example.test", "dan@example.test"]
)]


def list_route(req):
    """GET /v1/admin/users: email substring search, cursor = last id, limit."""
    email = (req.query.get("email") or [None])[0]
    cursor = (req.query.get("cursor") or [None])[0]
    limit = int((req.query.get("limit") or ["2"])[0])
    rows = [u for u in USERS if email is None or email.lower() in u["email"].lower()]
    if cursor is not None:
        rows = rows[[u["id"] for u in rows].index(cursor) + 1:]
    page = rows[:limit]
    more = len(rows) > limit
    return 200, {"users": page, "next_cursor": page[-1]["id"] if more else None}


@pytest.fixture
def api(server):
    server.route("GET", "/v1/admin/users", list_route)
    for u in USERS:
        server.json("GET", f"/v1/admin/users/{u['id']}", u)
    server.json("DELETE", "/v1/admin/users/u1/sessions", {"revoked": 3})
    server.json("GET", "/v1/admin/users/missing", {"error": {"code": "not_found", "message": "no such user"}}, 404)
    return server


def test_get_user_sends_the_api_key_and_parses_the_user(api) -> None:
    with Client(api.url + "/", API_KEY) as client:
        u = client.get_user("u1")
    assert u.id == "u1" and u.email == "bob@example.test" and u.pool_id == "pool-1"
    assert u.email_verified is True and u.disabled is False and u.metadata == {"plan": "pro"}
    assert u.created_at == datetime(2026, 11, 22, 6, 0, 0, 123456, tzinfo=timezone.utc)
    assert u.updated_at == datetime(2026, 11, 22, 7, 0, 0, tzinfo=timezone.utc)
    req = api.requests[-1]
    assert req.path == "/v1/admin/users/u1"
    assert req.headers["authorization"] == f"Bearer {API_KEY}"


def test_get_user_by_email_picks_the_exact_case_insensitive_match(api) -> None:
    client = Client(api.url, API_KEY)
    # The server's search is a substring search: "ada@" would also match other rows.
    u = client.get_user_by_email("Ada@Example.test")
    assert u is not None and u.id == "u0"
    assert api.requests[0].query["email"] == ["Ada@Example.test"]
    assert client.get_user_by_email("ada.lovelace@example.test").id == "u2"  # type: ignore[union-attr]
    assert client.get_user_by_email("nobody@example.test") is None


def test_get_user_by_email_follows_pages(api) -> None:
    client = Client(api.url, API_KEY)
    # "example.test" matches every user; the exact match is on page 3 (limit 2).
    saved = list(USERS)
    USERS.append(user(9, "example.test"))
    try:
        assert client.get_user_by_email("EXAMPLE.test").id == "u9"  # type: ignore[union-attr]
    finally:
        USERS[:] = saved


def test_pagination(api) -> None:
    client = Client(api.url, API_KEY)
    page = client.list_users(limit=2)
    assert [u.id for u in page.users] == ["u0", "u1"] and page.next_cursor == "u1"
    page2 = client.list_users(limit=2, cursor=page.next_cursor)
    assert [u.id for u in page2.users] == ["u2", "u3"]
    assert api.requests[-1].query == {"cursor": ["u1"], "limit": ["2"]}
    assert [u.id for u in client.iter_users(limit=2)] == [u["id"] for u in USERS]


def test_revoke_sessions(api) -> None:
    assert Client(api.url, API_KEY).revoke_sessions("u1") == 3
    assert api.requests[-1].method == "DELETE"
    assert api.requests[-1].path == "/v1/admin/users/u1/sessions"


def test_error_envelope_becomes_a_typed_error(api) -> None:
    with pytest.raises(ApiError) as info:
        Client(api.url, API_KEY).get_user("missing")
    assert info.value.status == 404
    assert info.value.code == "not_found"
    assert info.value.message == "no such user"
    assert API_KEY not in repr(info.value)


def test_error_without_envelope(server) -> None:
    server.route("GET", "/v1/admin/users/x", lambda _r: (502, None))
    with pytest.raises(ApiError) as info:
        Client(server.url, API_KEY).get_user("x")
    assert info.value.status == 502 and info.value.code == "http_error"


def test_ids_are_escaped_in_paths(api) -> None:
    with pytest.raises(ApiError):
        Client(api.url, API_KEY).get_user("../users?email=x")
    assert api.requests[-1].path == "/v1/admin/users/..%2Fusers%3Femail%3Dx"


def test_timeout(server) -> None:
    def slow(_req):
        time.sleep(1.0)
        return 200, user(1, "slow@example.test")

    server.route("GET", "/v1/admin/users/slow", slow)
    started = time.monotonic()
    with pytest.raises(ApiTimeoutError) as info:
        Client(server.url, API_KEY, timeout=0.2).get_user("slow")
    assert time.monotonic() - started < 0.9
    assert info.value.code == "timeout" and info.value.status is None


def test_connection_error() -> None:
    with pytest.raises(ApiConnectionError):
        Client("http://127.0.0.1:9", API_KEY, timeout=2).get_user("u1")


def test_injected_http_client_is_used(api) -> None:
    seen = []
    http = httpx.Client(event_hooks={"request": [lambda r: seen.append(r.url.path)]})
    Client(api.url, API_KEY, http_client=http).get_user("u0")
    assert seen == ["/v1/admin/users/u0"]


def test_repr_hides_the_api_key(api) -> None:
    assert API_KEY not in repr(Client(api.url, API_KEY))


def test_async_client(api) -> None:
    async def run() -> None:
        async with AsyncClient(api.url, API_KEY) as client:
            assert (await client.get_user("u0")).email == "ada@example.test"
            assert (await client.get_user_by_email("BOB@example.test")).id == "u1"  # type: ignore[union-attr]
            assert [u.id async for u in client.iter_users(limit=2)] == [u["id"] for u in USERS]
            assert await client.revoke_sessions("u1") == 3
            with pytest.raises(ApiError) as info:
                await client.get_user("missing")
            assert (info.value.status, info.value.code) == (404, "not_found")
        assert all(r.headers["authorization"] == f"Bearer {API_KEY}" for r in api.requests)

    asyncio.run(run())


def test_async_timeout(server) -> None:
    def slow(_req):
        time.sleep(1.0)
        return 200, user(1, "slow@example.test")

    server.route("GET", "/v1/admin/users/slow", slow)

    async def run() -> None:
        async with AsyncClient(server.url, API_KEY, timeout=0.2) as client:
            with pytest.raises(ApiTimeoutError):
                await client.get_user("slow")

    asyncio.run(run())
