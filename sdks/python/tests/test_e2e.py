"""End to end against a real Tessera server (runs only when TESSERA_BIN is set).

Starts ``$TESSERA_BIN serve`` on a free loopback port with a throwaway SQLite
database, signs a user up, verifies the access token with the SDK, rotates the
signing key with ``$TESSERA_BIN keys rotate``, signs in again and verifies the
new token (a JWKS refetch on the new ``kid``), then uses the server API with the
bootstrap API key. Routes are the fixed contract of docs/contract.md section 5.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterator

import httpx
import jwt
import pytest

from tessera_sdk import ApiError, AsyncClient, Client, Verifier

TESSERA_BIN = os.environ.get("TESSERA_BIN")
pytestmark = pytest.mark.skipif(
    not TESSERA_BIN, reason="set TESSERA_BIN to the tessera binary to run the end-to-end test"
)
PASSWORD = "correct horse battery staple 42"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, base_url: str, api_key: str, db_url: str, workdir: Path, log: Path) -> None:
        self.base_url, self.api_key, self.db_url, self.workdir, self.log = base_url, api_key, db_url, workdir, log

    def admin_headers(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@pytest.fixture
def tessera(tmp_path: Path) -> Iterator[Server]:
    assert TESSERA_BIN
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    api_key = "tsk_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    assert len(api_key) == 4 + 43
    db_url = f"sqlite://{tmp_path}/t.db"
    env = dict(os.environ)
    env.update({
        "TESSERA_DATABASE_URL": db_url,
        "TESSERA_LISTEN": f"127.0.0.1:{port}",
        "TESSERA_BASE_URL": base_url,
        "TESSERA_ADMIN_API_KEY": api_key,
        "TESSERA_DEV": "1",
        "TESSERA_RATE_LIMITS": "off",
    })
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([TESSERA_BIN, "serve"], cwd=tmp_path, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    server = Server(base_url, api_key, db_url, tmp_path, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"tessera serve exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"tessera serve did not answer /healthz within 60 s:\n{server.log_tail()}")
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def test_end_to_end(tessera: Server) -> None:
    http = httpx.Client(base_url=tessera.base_url, timeout=10)

    r = http.get("/v1/admin/apps/default", headers=tessera.admin_headers())
    assert r.status_code == 200, r.text
    app_id = r.json()["id"]

    email = f"ada+{secrets.token_hex(4)}@example.test"
    r = http.post("/v1/sign-up", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    signed_up = r.json()
    user_id = signed_up["user"]["id"]

    verifier = Verifier(tessera.base_url, app_id)
    claims = verifier.verify(signed_up["access_token"])
    assert claims.sub == user_id
    assert claims.aud == app_id or app_id in claims.aud
    assert claims.iss == tessera.base_url
    assert claims.sid and claims.exp > time.time()
    assert verifier.jwks.fetch_count == 1
    first_kid = kid_of(signed_up["access_token"])

    rotate = subprocess.run(
        [str(TESSERA_BIN), "keys", "rotate"], cwd=tessera.workdir,
        env={**os.environ, "TESSERA_DATABASE_URL": tessera.db_url},
        capture_output=True, text=True, timeout=60,
    )
    assert rotate.returncode == 0, rotate.stdout + rotate.stderr

    r = http.post("/v1/sign-in/password", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    access = r.json()["access_token"]
    assert kid_of(access) != first_kid, "keys rotate did not change the signing key"
    assert verifier.verify(access).sub == user_id
    assert verifier.jwks.fetch_count == 2  # one refetch, for the new kid
    # The old token still verifies: rotation is additive.
    assert verifier.verify(signed_up["access_token"]).sub == user_id
    assert asyncio.run(verifier.verify_async(access)).sub == user_id

    client = Client(tessera.base_url, tessera.api_key)
    user = client.get_user(user_id)
    assert user.id == user_id and user.email == email
    assert client.get_user_by_email(email.upper()) == user
    assert any(u.id == user_id for u in client.iter_users())

    async def async_lookup() -> str:
        async with AsyncClient(tessera.base_url, tessera.api_key) as ac:
            found = await ac.get_user_by_email(email)
            assert found is not None
            return found.id

    assert asyncio.run(async_lookup()) == user_id

    assert http.get("/v1/session", headers={"Authorization": f"Bearer {access}"}).status_code == 200
    assert client.revoke_sessions(user_id) >= 2  # the sign-up and the sign-in session
    assert http.get("/v1/session", headers={"Authorization": f"Bearer {access}"}).status_code == 401

    with pytest.raises(ApiError) as info:
        Client(tessera.base_url, "tsk_" + "A" * 43).get_user(user_id)
    assert info.value.status == 401
