"""A small local OAuth2 provider shaped like GitHub, for the OAuth2 sign-in path.

Endpoints on one loopback origin, as GitHub lays them out:

- ``GET /login/oauth/authorize`` approves at once for the chosen user
  (``GithubLike.next_user``, or ``&login_as=`` added to the URL) and redirects to
  the registered ``redirect_uri`` with ``code`` and ``state``;
- ``POST /login/oauth/access_token`` exchanges a code once (client secret by HTTP
  Basic or in the form, PKCE S256 checked when the authorization carried a
  challenge); JSON when asked for, form-encoded otherwise (GitHub's default);
- ``GET /user``: ``{"id": <number>, "login", "name", "email": <public email or null>}``;
- ``GET /user/emails``: ``[{"email", "primary", "verified", "visibility"}]``;
- ``GET /api/profile``: the same person in a nested shape
  (``{"data": {"id": "...", "profile": {"mail", "mail_confirmed", "display"}}}``)
  for testing dotted claim mappings.

Every request is recorded in ``requests`` (route, status; no secrets) so a test can
check how often the token endpoint was called.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit, urlunsplit

CLIENT_ID = "gh-client-id"
CLIENT_SECRET = "gh-client-secret-0123456789"


@dataclass
class GhUser:
    id: int
    login: str
    name: str
    public_email: str | None
    emails: list[dict] = field(default_factory=list)


def default_users() -> dict[str, GhUser]:
    return {
        "octo": GhUser(
            583231,
            "octo",
            "Octo Cat",
            None,  # GitHub's /user shows no email unless the user made one public
            [
                {"email": "octo@example.com", "primary": True, "verified": True, "visibility": "private"},
                {"email": "octo-old@example.com", "primary": False, "verified": True, "visibility": None},
            ],
        ),
        "hubot": GhUser(
            2,
            "hubot",
            "Hubot",
            "hubot@example.com",
            [
                {"email": "hubot@example.com", "primary": True, "verified": False, "visibility": "public"},
                {"email": "hubot-2@example.com", "primary": False, "verified": True, "visibility": None},
            ],
        ),
    }


@dataclass
class _Grant:
    user: str
    client_id: str
    redirect_uri: str
    challenge: str | None
    expires: float


class GithubLike:
    """The server; ``start()`` binds 127.0.0.1 on a free port, ``stop()`` closes it."""

    def __init__(self, redirect_uris: list[str] | None = None) -> None:
        self.redirect_uris: list[str] = list(redirect_uris or [])
        self.users = default_users()
        self.next_user = "octo"
        self.codes: dict[str, _Grant] = {}
        self.tokens: dict[str, str] = {}
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.httpd: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.base = ""

    def start(self) -> "GithubLike":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server hook name)
                owner._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                owner._handle(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    # Endpoints for the provider configuration.
    @property
    def authorization_endpoint(self) -> str:
        return f"{self.base}/login/oauth/authorize"

    @property
    def token_endpoint(self) -> str:
        return f"{self.base}/login/oauth/access_token"

    @property
    def userinfo_endpoint(self) -> str:
        return f"{self.base}/user"

    def token_calls(self) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["route"] == "token"]

    # Request handling.
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        try:
            if method == "GET" and url.path == "/login/oauth/authorize":
                status = self._authorize(h, query)
            elif method == "POST" and url.path == "/login/oauth/access_token":
                status = self._token(h)
            elif method == "GET" and url.path in ("/user", "/user/emails", "/api/profile"):
                status = self._api(h, url.path)
            else:
                status = _send_json(h, 404, {"message": "Not Found"})
        except Exception as e:  # a broken fixture must show up as a failed request, not a hang
            status = _send_json(h, 500, {"message": f"fixture error: {e!r}"})
        with self.lock:
            self.requests.append({"route": _route_name(url.path), "method": method, "status": status})

    def _authorize(self, h: BaseHTTPRequestHandler, q: dict) -> int:
        if q.get("client_id") != CLIENT_ID:
            return _send_json(h, 400, {"error": "unknown client_id"})
        redirect_uri = q.get("redirect_uri", "")
        if redirect_uri not in self.redirect_uris:
            return _send_json(h, 400, {"error": "redirect_uri_mismatch"})
        if q.get("response_type", "code") != "code":
            return _send_json(h, 400, {"error": "unsupported_response_type"})
        challenge = q.get("code_challenge")
        if challenge is not None and q.get("code_challenge_method", "plain") != "S256":
            return _send_json(h, 400, {"error": "only S256 here"})
        user = q.get("login_as", self.next_user)
        if user not in self.users:
            return _redirect(h, redirect_uri, {"error": "access_denied", "state": q.get("state", "")})
        code = secrets.token_hex(10)  # GitHub codes are 20 hex characters
        with self.lock:
            self.codes[code] = _Grant(user, CLIENT_ID, redirect_uri, challenge, time.monotonic() + 600)
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        return _redirect(h, redirect_uri, params)

    def _token(self, h: BaseHTTPRequestHandler) -> int:
        length = int(h.headers.get("content-length") or 0)
        form = {k: v[0] for k, v in parse_qs(h.rfile.read(length).decode()).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = h.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                return _send_token_error(h, 401, "invalid_client")
            client_id, client_secret = unquote_plus(user), unquote_plus(pw)
        if client_id != CLIENT_ID or not hmac.compare_digest(
            (client_secret or "").encode(), CLIENT_SECRET.encode()
        ):
            return _send_token_error(h, 401, "invalid_client")
        if form.get("grant_type", "authorization_code") != "authorization_code":
            return _send_token_error(h, 400, "unsupported_grant_type")
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)  # single use, even when the rest fails
        if grant is None or grant.expires < time.monotonic():
            return _send_token_error(h, 400, "bad_verification_code")
        if "redirect_uri" in form and form["redirect_uri"] != grant.redirect_uri:
            return _send_token_error(h, 400, "redirect_uri_mismatch")
        if grant.challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not hmac.compare_digest(digest, grant.challenge):
                return _send_token_error(h, 400, "invalid_grant")
        token = "gho_" + secrets.token_urlsafe(27)
        with self.lock:
            self.tokens[token] = grant.user
        body = {"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}
        if "application/json" in h.headers.get("accept", ""):
            return _send_json(h, 200, body)
        return _send(h, 200, "application/x-www-form-urlencoded", urlencode(body).encode())

    def _api(self, h: BaseHTTPRequestHandler, path: str) -> int:
        auth = h.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        with self.lock:
            login = self.tokens.get(token) if scheme.lower() in ("bearer", "token") else None
        if login is None:
            return _send_json(h, 401, {"message": "Requires authentication"})
        if "user-agent" not in {k.lower() for k in h.headers.keys()}:
            # GitHub's API refuses requests without a User-Agent.
            return _send_json(h, 403, {"message": "Request forbidden by administrative rules"})
        u = self.users[login]
        if path == "/user":
            return _send_json(h, 200, {"id": u.id, "login": u.login, "name": u.name, "email": u.public_email})
        if path == "/user/emails":
            return _send_json(h, 200, u.emails)
        primary = next((e for e in u.emails if e["primary"]), None)
        return _send_json(
            h,
            200,
            {
                "data": {
                    "id": f"u-{u.id}",
                    "profile": {
                        "mail": primary and primary["email"],
                        "mail_confirmed": bool(primary and primary["verified"]),
                        "display": u.name,
                    },
                }
            },
        )


def _route_name(path: str) -> str:
    return {
        "/login/oauth/authorize": "authorize",
        "/login/oauth/access_token": "token",
        "/user": "user",
        "/user/emails": "emails",
        "/api/profile": "profile",
    }.get(path, path)


def _send(h: BaseHTTPRequestHandler, status: int, ctype: str, body: bytes) -> int:
    h.send_response(status)
    h.send_header("content-type", ctype)
    h.send_header("content-length", str(len(body)))
    h.send_header("cache-control", "no-store")
    h.end_headers()
    h.wfile.write(body)
    return status


def _send_json(h: BaseHTTPRequestHandler, status: int, body) -> int:
    return _send(h, status, "application/json; charset=utf-8", json.dumps(body).encode())


def _send_token_error(h: BaseHTTPRequestHandler, status: int, error: str) -> int:
    return _send_json(h, status, {"error": error, "error_description": error.replace("_", " ")})


def _redirect(h: BaseHTTPRequestHandler, uri: str, params: dict) -> int:
    parts = urlsplit(uri)
    query = parts.query + ("&" if parts.query else "") + urlencode(params)
    h.send_response(302)
    h.send_header("location", urlunsplit(parts._replace(query=query)))
    h.send_header("content-length", "0")
    h.end_headers()
    return 302
