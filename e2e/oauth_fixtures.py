"""Fixtures for the OAuth/OIDC end-to-end tests: a real OpenID Connect provider
(`oidc-provider` from npm, run by e2e/oidc/provider.mjs), a GitHub-like OAuth2
server (github_like.py), a `tessera serve` with a bootstrap admin key, and a
"browser" that walks the redirects between them.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from conftest import Server
from github_like import GithubLike

ADMIN_KEY = "tsk_E2EoauthE2EoauthE2EoauthE2EoauthE2Eoauth123"
OIDC_DIR = Path(__file__).resolve().parent / "oidc"
TESSERA_CLIENT_ID = "tessera"
TESSERA_CLIENT_SECRET = "tessera-client-secret"
# Provider names (the `{provider}` path segment) the fixtures register callbacks for.
OIDC_NAMES = ("oidc", "corp", "other")
OAUTH2_NAMES = ("gh", "github", "profile")


class OidcProvider:
    """An `oidc-provider` process on a free loopback port."""

    def __init__(self, workdir: Path, redirect_uris: list[str], conform_id_token_claims: bool = False) -> None:
        self.redirect_uris = redirect_uris
        self.conform = conform_id_token_claims
        self.log_path = workdir / "oidc-provider.log"
        self.proc: subprocess.Popen | None = None
        self.issuer = ""
        self.http: httpx.Client | None = None

    def start(self) -> "OidcProvider":
        node = shutil.which("node")
        if not node:
            pytest.fail("node is not on PATH (the OIDC provider fixture needs Node.js 20+)")
        if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
            pytest.fail("e2e/oidc/node_modules is missing: run `npm ci` in e2e/oidc (scripts/test.d/20-e2e.sh does)")
        args = [node, str(OIDC_DIR / "provider.mjs"), "--port", "0"]
        for uri in self.redirect_uris:
            args += ["--redirect-uri", uri]
        if self.conform:
            args.append("--conform-id-token-claims")
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True, cwd=OIDC_DIR)
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            assert self.proc and self.proc.stdout
            for line in self.proc.stdout:
                lines.put(line)
            lines.put("")

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 20
        while True:
            left = deadline - time.monotonic()
            try:
                line = lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                line = None
            if line and line.startswith("ready "):
                self.issuer = line.split()[1]
                break
            if line == "" or left <= 0:
                self.stop()
                pytest.fail(f"oidc-provider did not start: {self.log_path.read_text()[-2000:]}")
        self.http = httpx.Client(base_url=self.issuer, timeout=10)
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.http:
            self.http.close()
            self.http = None

    def tamper_next_id_token(self, claims: dict | None = None, expired: bool = False, wrong_key: bool = False) -> None:
        """The next token response carries an ID token changed this way, re-signed
        with the provider's published key (or, with `wrong_key`, an unpublished one)."""
        assert self.http
        r = self.http.post("/__test/tamper", json={"claims": claims or {}, "expired": expired, "wrong_key": wrong_key})
        assert r.status_code == 200, r.text

    def add_account(self, account_id: str, email: str, email_verified: bool, name: str | None = None) -> None:
        assert self.http
        r = self.http.post(
            "/__test/accounts",
            json={"id": account_id, "email": email, "email_verified": email_verified, "name": name or account_id},
        )
        assert r.status_code == 200, r.text

    def state(self) -> dict:
        assert self.http
        return self.http.get("/__test/state").json()

    def token_calls(self) -> list[dict]:
        return [r for r in self.state()["requests"] if r["route"] == "token"]

    def authorization_requests(self) -> list[dict]:
        return [r["params"] for r in self.state()["requests"] if r["route"] == "authorization"]


class Browser:
    """One cookie jar that follows a sign-in across Tessera and a provider, by hand
    (no automatic redirects), so each hop can be checked."""

    def __init__(self, tessera_base: str) -> None:
        self.tessera_base = tessera_base
        self.http = httpx.Client(timeout=10, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def get(self, url: str, **kw) -> httpx.Response:
        return self.http.get(url, **kw)

    def follow_until(self, r: httpx.Response, prefix: str, limit: int = 10) -> httpx.Response:
        """Follow redirects from `r` while the next location does not start with
        `prefix`; answers the last response (whose Location starts with `prefix`,
        or a non-redirect)."""
        for _ in range(limit):
            if r.status_code not in (301, 302, 303, 307, 308):
                return r
            loc = urljoin(str(r.url), r.headers["location"])
            if loc.startswith(prefix):
                return r
            r = self.http.get(loc)
        raise AssertionError(f"too many redirects, last at {r.url}")

    def oidc_login(self, to_provider: httpx.Response, account: str) -> str:
        """From Tessera's 302 to the provider: the provider's login form, POSTed
        with `account`, until the provider sends the browser back to Tessera.
        Answers the callback URL (not yet requested)."""
        assert to_provider.status_code in (302, 303), to_provider.text
        auth_url = to_provider.headers["location"]
        # Forget any earlier session at the provider (cookies are per host, not
        # per port), so each sign-in shows the login form and can pick an account.
        for c in [c for c in self.http.cookies.jar if c.name.startswith("_session")]:
            self.http.cookies.jar.clear(c.domain, c.path, c.name)
        r = self.http.get(auth_url)
        assert r.status_code == 303, r.text
        form_url = urljoin(auth_url, r.headers["location"])
        assert "/interaction/" in form_url, f"the provider did not ask for a login: {form_url}"
        form = self.http.get(form_url)
        assert form.status_code == 200 and "<form" in form.text, form.text
        action = form.text.split('action="', 1)[1].split('"', 1)[0]
        r = self.http.post(urljoin(form_url, action), data={"login": account})
        r = self.follow_until(r, self.tessera_base)
        assert r.status_code in (302, 303), f"provider did not redirect back: {r.status_code} {r.text[:500]}"
        callback = urljoin(str(r.url), r.headers["location"])
        assert callback.startswith(self.tessera_base), callback
        return callback


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class OAuthServer(Server):
    """`tessera serve` with a bootstrap admin key, helpers for the admin API."""

    def __init__(self, workdir: Path, smtp_port: int) -> None:
        super().__init__(workdir, smtp_port)
        self.env["TESSERA_ADMIN_API_KEY"] = ADMIN_KEY
        self.admin = httpx.Client(
            base_url=self.base, timeout=10, headers={"authorization": f"Bearer {ADMIN_KEY}"}
        )

    def stop(self) -> None:
        super().stop()
        self.admin.close()

    def callback_url(self, provider: str) -> str:
        return f"{self.base}/v1/sign-in/oauth/{provider}/callback"

    def put_provider(self, name: str, body: dict, app: str = "default") -> dict:
        r = self.admin.put(f"/v1/admin/apps/{app}/oauth-providers/{name}", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def patch_app(self, body: dict, app: str = "default") -> dict:
        r = self.admin.patch(f"/v1/admin/apps/{app}", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def users(self, email: str | None = None) -> list[dict]:
        r = self.admin.get("/v1/admin/users", params={"email": email} if email else {})
        assert r.status_code == 200, r.text
        return r.json()["users"]

    def audit(self, **params) -> list[dict]:
        r = self.admin.get("/v1/admin/audit", params=params)
        assert r.status_code == 200, r.text
        return r.json()["events"]


@pytest.fixture
def oauth_server(smtp, tmp_path):
    s = OAuthServer(tmp_path, smtp.port).start()
    yield s
    s.stop()


@pytest.fixture
def oidc(oauth_server, tmp_path):
    p = OidcProvider(tmp_path, [oauth_server.callback_url(n) for n in OIDC_NAMES]).start()
    yield p
    p.stop()


@pytest.fixture
def github(oauth_server):
    g = GithubLike([oauth_server.callback_url(n) for n in OAUTH2_NAMES]).start()
    yield g
    g.stop()


@pytest.fixture
def browser(oauth_server):
    b = Browser(oauth_server.base)
    yield b
    b.close()


def oidc_provider_body(oidc: OidcProvider, **extra) -> dict:
    body = {
        "kind": "oidc",
        "client_id": TESSERA_CLIENT_ID,
        "client_secret": TESSERA_CLIENT_SECRET,
        "issuer": oidc.issuer,
        "scopes": ["openid", "email", "profile"],
        "display_name": "Test OIDC",
    }
    body.update(extra)
    return body
