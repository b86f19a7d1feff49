"""Clients of Tessera's server (admin) API, authenticated with an API key.

``Client`` is synchronous, ``AsyncClient`` its asyncio twin; both use httpx,
accept an injected ``httpx.Client``/``httpx.AsyncClient`` (for proxies,
transports, tests), apply a timeout and turn error answers
(``{"error": {"code", "message"}}``) into :class:`ApiError` with the HTTP status
and the error code. The API key is sent as ``Authorization: Bearer tsk_…`` and
never appears in reprs, messages or logs.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Dict, Iterator, Optional
from urllib.parse import quote

import httpx

from .errors import ApiConnectionError, ApiError, ApiTimeoutError
from .models import User, UserPage

DEFAULT_TIMEOUT = 10.0
_USER_AGENT = "tessera-sdk-python/0.1.0"


def _path_id(value: str) -> str:
    if not value:
        raise ValueError("an id is required")
    return quote(value, safe="")


class _Base:
    def __init__(self, base_url: str, api_key: str, timeout: float) -> None:
        if not base_url:
            raise ValueError("base_url is required")
        if not api_key:
            raise ValueError("api_key is required")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def _url(self, path: str) -> str:
        return self.base_url + path

    @staticmethod
    def _list_params(
        email: Optional[str], cursor: Optional[str], limit: Optional[int]
    ) -> Dict[str, str]:
        params: Dict[str, str] = {}
        if email is not None:
            params["email"] = email
        if cursor is not None:
            params["cursor"] = cursor
        if limit is not None:
            params["limit"] = str(limit)
        return params

    @staticmethod
    def _result(response: httpx.Response) -> Any:
        if 200 <= response.status_code < 300:
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise ApiError(
                    "the server answered something other than JSON", status=response.status_code
                ) from exc
        code, message = "http_error", f"HTTP {response.status_code}"
        try:
            envelope = response.json()
            error = envelope.get("error") if isinstance(envelope, dict) else None
            if isinstance(error, dict):
                code = str(error.get("code") or code)
                message = str(error.get("message") or message)
        except ValueError:
            pass
        raise ApiError(message, status=response.status_code, code=code)

    @staticmethod
    def _page(data: Any) -> UserPage:
        if not isinstance(data, dict) or not isinstance(data.get("users"), list):
            raise ApiError("unexpected answer to a user listing", status=200, code="bad_response")
        cursor = data.get("next_cursor")
        return UserPage(
            users=[User.from_json(u) for u in data["users"]],
            next_cursor=cursor if isinstance(cursor, str) and cursor else None,
        )

    @staticmethod
    def _exact(page: UserPage, email: str) -> Optional[User]:
        wanted = email.casefold()
        for user in page.users:
            if user.email is not None and user.email.casefold() == wanted:
                return user
        return None

    @staticmethod
    def _transport_error(exc: httpx.HTTPError, method: str, path: str) -> ApiError:
        if isinstance(exc, httpx.TimeoutException):
            return ApiTimeoutError(f"{method} {path} timed out")
        return ApiConnectionError(f"{method} {path} failed: {type(exc).__name__}")


class Client(_Base):
    """Synchronous server-API client: ``Client(base_url, api_key)``."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        http_client: Optional[httpx.Client] = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout)
        self._owned = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, params: Optional[Dict[str, str]] = None,
                json: Any = None) -> Any:
        """Call any route; returns the decoded JSON (``None`` for no content)."""
        try:
            response = self._http.request(
                method, self._url(path), params=params, json=json,
                headers=self._headers, timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, method, path) from exc
        return self._result(response)

    def get_user(self, user_id: str) -> User:
        """``GET /v1/admin/users/{id}``; raises :class:`ApiError` (404 ``not_found``) if absent."""
        return User.from_json(self.request("GET", f"/v1/admin/users/{_path_id(user_id)}"))

    def list_users(self, *, cursor: Optional[str] = None, limit: Optional[int] = None,
                   email: Optional[str] = None) -> UserPage:
        """One page of users (``email`` searches by substring on the server)."""
        return self._page(self.request("GET", "/v1/admin/users",
                                       params=self._list_params(email, cursor, limit)))

    def iter_users(self, *, limit: Optional[int] = None, email: Optional[str] = None) -> Iterator[User]:
        """Every user, fetching pages as needed."""
        cursor: Optional[str] = None
        while True:
            page = self.list_users(cursor=cursor, limit=limit, email=email)
            yield from page.users
            if page.next_cursor is None or not page.users:
                return
            cursor = page.next_cursor

    def get_user_by_email(self, email: str) -> Optional[User]:
        """The user whose email is exactly ``email`` (case-insensitive), else ``None``."""
        if not email:
            raise ValueError("an email is required")
        cursor: Optional[str] = None
        while True:
            page = self.list_users(email=email, cursor=cursor)
            found = self._exact(page, email)
            if found is not None or page.next_cursor is None or not page.users:
                return found
            cursor = page.next_cursor

    def revoke_sessions(self, user_id: str) -> int:
        """``DELETE /v1/admin/users/{id}/sessions``: sign the user out everywhere; the count revoked."""
        data = self.request("DELETE", f"/v1/admin/users/{_path_id(user_id)}/sessions")
        return int(data.get("revoked", 0)) if isinstance(data, dict) else 0


class AsyncClient(_Base):
    """Asyncio server-API client with the same methods as :class:`Client`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout)
        self._owned = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        if self._owned:
            await self._http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def request(self, method: str, path: str, *, params: Optional[Dict[str, str]] = None,
                      json: Any = None) -> Any:
        try:
            response = await self._http.request(
                method, self._url(path), params=params, json=json,
                headers=self._headers, timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, method, path) from exc
        return self._result(response)

    async def get_user(self, user_id: str) -> User:
        return User.from_json(await self.request("GET", f"/v1/admin/users/{_path_id(user_id)}"))

    async def list_users(self, *, cursor: Optional[str] = None, limit: Optional[int] = None,
                         email: Optional[str] = None) -> UserPage:
        return self._page(await self.request("GET", "/v1/admin/users",
                                             params=self._list_params(email, cursor, limit)))

    async def iter_users(self, *, limit: Optional[int] = None,
                         email: Optional[str] = None) -> AsyncIterator[User]:
        cursor: Optional[str] = None
        while True:
            page = await self.list_users(cursor=cursor, limit=limit, email=email)
            for user in page.users:
                yield user
            if page.next_cursor is None or not page.users:
                return
            cursor = page.next_cursor

    async def get_user_by_email(self, email: str) -> Optional[User]:
        if not email:
            raise ValueError("an email is required")
        cursor: Optional[str] = None
        while True:
            page = await self.list_users(email=email, cursor=cursor)
            found = self._exact(page, email)
            if found is not None or page.next_cursor is None or not page.users:
                return found
            cursor = page.next_cursor

    async def revoke_sessions(self, user_id: str) -> int:
        data = await self.request("DELETE", f"/v1/admin/users/{_path_id(user_id)}/sessions")
        return int(data.get("revoked", 0)) if isinstance(data, dict) else 0
