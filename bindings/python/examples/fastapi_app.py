"""Tessera embedded in a FastAPI app: sign-up, sign-in, refresh, sign-out and a
protected route that validates the bearer token.

Run with::

    pip install './bindings/python[example]' uvicorn
    export TESSERA_KEY_ENCRYPTION_KEY=$(python -c 'import tessera; print(tessera.generate_key())')
    uvicorn --app-dir bindings/python/examples fastapi_app:app

    curl -s localhost:8000/sign-up -H 'content-type: application/json' \\
         -d '{"email": "ada@example.com", "password": "correct horse battery staple"}'
    curl -s localhost:8000/me -H "authorization: Bearer $ACCESS_TOKEN"

The store is ``TESSERA_DATABASE_URL`` (default ``sqlite://tessera.db``). Errors
answer with the HTTP API's envelope ``{"error": {"code", "message"}}`` and the
status of their family (``TesseraError.http_status``).
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

import tessera


class SignUp(BaseModel):
    email: str
    password: str
    name: Optional[str] = None


class SignIn(BaseModel):
    email: str
    password: str


class Refresh(BaseModel):
    refresh_token: str


def create_app(
    database_url: Optional[str] = None,
    key_encryption_key: Optional[str] = None,
    *,
    password_hashing: str = "default",
) -> FastAPI:
    """The app; arguments default to the environment (tests pass their own)."""
    url = database_url or os.environ.get("TESSERA_DATABASE_URL", "sqlite://tessera.db")
    kek = key_encryption_key or os.environ["TESSERA_KEY_ENCRYPTION_KEY"]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.tessera = await tessera.AsyncTessera.open(
            url, key_encryption_key=kek, password_hashing=password_hashing
        )
        yield

    app = FastAPI(title="Tessera in FastAPI", lifespan=lifespan)
    bearer = HTTPBearer(auto_error=False)

    def auth(request: Request) -> tessera.AsyncTessera:
        return request.app.state.tessera

    def client(request: Request) -> dict:
        return {
            "ip": request.client.host if request.client else None,
            "user_agent": request.headers.get("user-agent"),
        }

    async def current_session(
        request: Request, creds: Optional[HTTPAuthorizationCredentials] = Depends(bearer)
    ) -> tessera.AccessTokenInfo:
        """The dependency that protects a route: a live session's token, or 401."""
        if creds is None:
            raise tessera.Unauthenticated("Authentication is required.")
        return await auth(request).validate_access_token(creds.credentials)

    @app.exception_handler(tessera.TesseraError)
    async def tessera_error(request: Request, e: tessera.TesseraError) -> JSONResponse:
        headers = {}
        if isinstance(e, tessera.RateLimited):
            headers["Retry-After"] = str(max(1, round(e.retry_after)))
        if e.http_status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(
            {"error": {"code": e.code, "message": e.message}},
            status_code=e.http_status,
            headers=headers,
        )

    @app.post("/sign-up", status_code=201)
    async def sign_up(body: SignUp, request: Request, response: Response) -> dict:
        signed_in = await auth(request).sign_up(body.email, body.password, body.name, **client(request))
        if signed_in is None:  # the app wants a verified email first
            response.status_code = 202
            return {"verification_required": True}
        return signed_in.to_dict()

    @app.post("/sign-in")
    async def sign_in(body: SignIn, request: Request) -> dict:
        signed_in = await auth(request).sign_in_password(body.email, body.password, **client(request))
        return signed_in.to_dict()

    @app.post("/refresh")
    async def refresh(body: Refresh, request: Request) -> dict:
        return (await auth(request).refresh(body.refresh_token, **client(request))).to_dict()

    @app.get("/me")
    async def me(info: tessera.AccessTokenInfo = Depends(current_session)) -> dict:
        return {"user": info.user.to_dict(), "session_id": info.session.id}

    @app.post("/sign-out", status_code=204)
    async def sign_out(
        request: Request, info: tessera.AccessTokenInfo = Depends(current_session)
    ) -> Response:
        await auth(request).revoke_session(info.user.id, info.session.id)
        return Response(status_code=204)

    return app


if "TESSERA_KEY_ENCRYPTION_KEY" in os.environ:
    app = create_app()
