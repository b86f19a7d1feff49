"""FastAPI dependency (TestClient) and Flask decorator (test client)."""

from __future__ import annotations

from typing import Optional

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from flask import Flask

from tessera_sdk import Claims, Verifier
from tessera_sdk.fastapi import TesseraAuth, optional_auth, require_auth
from tessera_sdk.flask import current_claims, optional_claims
from tessera_sdk.flask import require_auth as flask_require_auth

from conftest import FakeClock, SigningKey, access_claims

APP_ID = "app-1"
NOW = 1_900_000_000.0


@pytest.fixture
def env(server):
    key = SigningKey("k1")
    server.json("GET", "/.well-known/jwks.json", {"keys": [key.jwk]})
    verifier = Verifier(server.url, APP_ID, clock=FakeClock(NOW))
    good = key.sign(access_claims(server.url, APP_ID, NOW, roles=["admin"]))
    plain = key.sign(access_claims(server.url, APP_ID, NOW))
    other_app = key.sign(access_claims(server.url, "app-2", NOW))
    return verifier, good, plain, other_app


def fastapi_app(verifier: Verifier) -> FastAPI:
    app = FastAPI()
    auth = TesseraAuth(verifier)

    @app.get("/me")
    async def me(claims: Claims = Depends(auth)):
        return {"sub": claims.sub, "sid": claims.sid}

    @app.get("/admin")
    def admin(claims: Claims = Depends(require_auth(verifier, roles=["admin"]))):
        return {"sub": claims.sub}

    @app.get("/maybe")
    async def maybe(claims: Optional[Claims] = Depends(optional_auth(verifier))):
        return {"sub": claims.sub if claims else None}

    return app


def test_fastapi_dependency(env) -> None:
    verifier, good, plain, other_app = env
    client = TestClient(fastapi_app(verifier))
    assert client.get("/me", headers={"Authorization": f"Bearer {good}"}).json() == {"sub": "user-1", "sid": "session-1"}
    client.cookies.set("tessera_at", plain)
    assert client.get("/me").json()["sub"] == "user-1"
    client.cookies.clear()
    r = client.get("/me")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = client.get("/me", headers={"Authorization": f"Bearer {other_app}"})
    assert r.status_code == 401 and "invalid_audience" in r.json()["detail"]
    assert client.get("/admin", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    assert client.get("/admin", headers={"Authorization": f"Bearer {plain}"}).status_code == 403
    assert client.get("/maybe").json() == {"sub": None}
    assert client.get("/maybe", headers={"Authorization": "Bearer junk"}).json() == {"sub": None}
    assert client.get("/maybe", headers={"Authorization": f"Bearer {plain}"}).json() == {"sub": "user-1"}


def test_fastapi_jwks_outage_is_503(server) -> None:
    server.json("GET", "/.well-known/jwks.json", {"error": {"code": "x", "message": "x"}}, status=500)
    key = SigningKey("k1")
    verifier = Verifier(server.url, APP_ID, clock=FakeClock(NOW))
    client = TestClient(fastapi_app(verifier))
    token = key.sign(access_claims(server.url, APP_ID, NOW))
    assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 503


def flask_app(verifier: Verifier) -> Flask:
    app = Flask(__name__)

    @app.get("/me")
    @flask_require_auth(verifier)
    def me():
        return {"sub": current_claims().sub}

    @app.get("/admin")
    @flask_require_auth(verifier, roles=["admin"])
    def admin():
        return {"sub": current_claims().sub}

    @app.get("/maybe")
    @flask_require_auth(verifier, optional=True)
    def maybe():
        claims = optional_claims()
        return {"sub": claims.sub if claims else None}

    return app


def test_flask_decorator(env) -> None:
    verifier, good, plain, other_app = env
    client = flask_app(verifier).test_client()
    assert client.get("/me", headers={"Authorization": f"Bearer {good}"}).json == {"sub": "user-1"}
    client.set_cookie("tessera_at", plain)
    assert client.get("/me").json == {"sub": "user-1"}
    client.delete_cookie("tessera_at")
    r = client.get("/me")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json == {"error": {"code": "unauthenticated", "message": "authentication required"}}
    r = client.get("/me", headers={"Authorization": f"Bearer {other_app}"})
    assert r.status_code == 401 and "invalid_audience" in r.json["error"]["message"]
    assert client.get("/admin", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    r = client.get("/admin", headers={"Authorization": f"Bearer {plain}"})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert client.get("/maybe").json == {"sub": None}
    assert client.get("/maybe", headers={"Authorization": f"Bearer {plain}"}).json == {"sub": "user-1"}
