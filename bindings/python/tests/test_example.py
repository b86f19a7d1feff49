"""The FastAPI example works end to end (needs the `example` extra)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from conftest import KEK, PASSWORD, email  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fastapi_app.py"


def load_example():
    spec = importlib.util.spec_from_file_location("fastapi_app", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fastapi_app"] = module  # pydantic resolves the models' names here
    spec.loader.exec_module(module)
    return module


def test_fastapi_example(tmp_path):
    app = load_example().create_app(
        f"sqlite://{tmp_path / 'example.db'}", KEK, password_hashing="fast"
    )
    e = email()
    with TestClient(app) as client:
        r = client.post("/sign-up", json={"email": e, "password": PASSWORD, "name": "Ada"})
        assert r.status_code == 201, r.text
        assert r.json()["user"]["email"] == e

        r = client.post("/sign-up", json={"email": e, "password": PASSWORD})
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "email_taken"

        r = client.post("/sign-in", json={"email": e, "password": "wrong password here"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"

        tokens = client.post("/sign-in", json={"email": e, "password": PASSWORD}).json()
        assert client.get("/me").status_code == 401
        auth = {"authorization": f"Bearer {tokens['access_token']}"}
        me = client.get("/me", headers=auth)
        assert me.status_code == 200 and me.json()["user"]["email"] == e

        renewed = client.post("/refresh", json={"refresh_token": tokens["refresh_token"]}).json()
        assert renewed["refresh_token"] != tokens["refresh_token"]

        assert client.post("/sign-out", headers=auth).status_code == 204
        gone = client.get("/me", headers=auth)
        assert gone.status_code == 401 and gone.json()["error"]["code"] == "session_expired"
