"""Shared fixtures: the shared vectors and a tiny local HTTP server.

The server is real (``http.server`` on 127.0.0.1, a free port) so the SDK's
HTTP code runs for real; tests register routes as callables and read back the
requests it received.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest

TESTDATA = Path(__file__).resolve().parents[2] / "testdata"


def load_vectors(name: str) -> Dict[str, Any]:
    return json.loads((TESTDATA / name).read_text(encoding="utf-8"))


@dataclass
class Recorded:
    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    body: bytes


Reply = Tuple[int, Any]  # (status, JSON-able body or None)
Route = Callable[[Recorded], Reply]


@dataclass
class LocalServer:
    url: str
    routes: Dict[Tuple[str, str], Route] = field(default_factory=dict)
    requests: List[Recorded] = field(default_factory=list)

    def route(self, method: str, path: str, handler: Route) -> None:
        self.routes[(method, path)] = handler

    def json(self, method: str, path: str, body: Any, status: int = 200) -> None:
        self.route(method, path, lambda _req: (status, body))

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.path == path)


def _handler(server: LocalServer) -> type:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            req = Recorded(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            server.requests.append(req)
            route = server.routes.get((self.command, parts.path))
            if route is None:
                status, body = 404, {"error": {"code": "not_found", "message": "no such route"}}
            else:
                status, body = route(req)
            data = b"" if body is None else json.dumps(body).encode()
            try:
                self.send_response(status)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_DELETE = do_PATCH = _serve

    return Handler


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(local))
    httpd.daemon_threads = True
    local.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield local
    finally:
        httpd.shutdown()
        httpd.server_close()


class FakeClock:
    """An injectable clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def token_vectors() -> Dict[str, Any]:
    return load_vectors("tokens.json")


def case(vectors: Dict[str, Any], name: str) -> Dict[str, Any]:
    for c in vectors["cases"]:
        if c["name"] == name:
            return c
    raise KeyError(name)




class SigningKey:
    """A fresh Ed25519 key, its public JWK, and a signer of access tokens."""

    def __init__(self, kid: str) -> None:
        import jwt
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self.kid = kid
        self.private = Ed25519PrivateKey.generate()
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.private.public_key()))
        self.jwk = {**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"}

    def sign(self, claims: Dict[str, Any], *, typ: str = "at+jwt") -> str:
        import jwt

        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": self.kid, "typ": typ})


def access_claims(issuer: str, audience: str, now: float, **extra: Any) -> Dict[str, Any]:
    claims: Dict[str, Any] = {
        "iss": issuer,
        "sub": "user-1",
        "aud": audience,
        "client_id": audience,
        "exp": int(now) + 900,
        "iat": int(now),
        "sid": "session-1",
        "amr": ["pwd"],
    }
    claims.update(extra)
    return claims
