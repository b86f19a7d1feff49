"""The OAuth peers themselves, without Tessera: so that a broken fixture fails here,
by name, rather than as a puzzling failure in test_oauth.py."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

import httpx
import pytest

from github_like import CLIENT_ID, CLIENT_SECRET, GithubLike
from oauth_fixtures import TESSERA_CLIENT_ID, TESSERA_CLIENT_SECRET, Browser, OidcProvider, query_of

CB = "http://127.0.0.1:9/v1/sign-in/oauth/oidc/callback"


def claims_of(jwt: str) -> tuple[dict, dict]:
    def part(p: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))

    h, p, _ = jwt.split(".")
    return part(h), part(p)


@pytest.fixture
def provider(tmp_path):
    p = OidcProvider(tmp_path, [CB]).start()
    yield p
    p.stop()


def code_flow(p: OidcProvider, account: str, nonce: str, verifier: str) -> httpx.Response:
    b = Browser("http://127.0.0.1:9/")
    try:
        start = httpx.Response(
            302,
            headers={
                "location": str(
                    httpx.URL(
                        f"{p.issuer}/auth",
                        params={
                            "client_id": TESSERA_CLIENT_ID,
                            "response_type": "code",
                            "scope": "openid email profile",
                            "redirect_uri": CB,
                            "state": "s1",
                            "nonce": nonce,
                            "code_challenge": base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                            .rstrip(b"=")
                            .decode(),
                            "code_challenge_method": "S256",
                        },
                    )
                )
            },
        )
        callback = b.oidc_login(start, account)
    finally:
        b.close()
    q = query_of(callback)
    assert callback.startswith(CB + "?") and q["state"] == "s1" and q["iss"] == p.issuer
    return httpx.post(
        f"{p.issuer}/token",
        data={"grant_type": "authorization_code", "code": q["code"], "redirect_uri": CB, "code_verifier": verifier},
        auth=(TESSERA_CLIENT_ID, TESSERA_CLIENT_SECRET),
    )


def test_oidc_provider_signs_in_and_tampers_on_request(provider):
    disco = httpx.get(f"{provider.issuer}/.well-known/openid-configuration").json()
    assert disco["issuer"] == provider.issuer and "S256" in disco["code_challenge_methods_supported"]
    kids = [k["kid"] for k in httpx.get(disco["jwks_uri"]).json()["keys"]]

    verifier = secrets.token_urlsafe(40)
    r = code_flow(provider, "bob", "n-1", verifier)
    assert r.status_code == 200, r.text
    header, claims = claims_of(r.json()["id_token"])
    assert header["kid"] in kids and header["alg"] == "RS256"
    assert claims["aud"] == TESSERA_CLIENT_ID and claims["nonce"] == "n-1" and claims["iss"] == provider.issuer
    assert claims["email"] == "bob@example.com" and claims["email_verified"] is False
    info = httpx.get(disco["userinfo_endpoint"], headers={"authorization": f"Bearer {r.json()['access_token']}"})
    assert info.json()["sub"] == "bob"

    provider.tamper_next_id_token(claims={"aud": "other-app", "nonce": "x"}, expired=True)
    r = code_flow(provider, "alice", "n-2", verifier)
    header, claims = claims_of(r.json()["id_token"])
    assert header["kid"] in kids
    assert claims["aud"] == "other-app" and claims["nonce"] == "x" and claims["exp"] < claims["iat"] + 7200
    assert claims["sub"] == "alice"
    state = provider.state()
    assert state["tampered"] == 1 and state["tamper_pending"] is False
    _, claims = claims_of(code_flow(provider, "alice", "n-3", verifier).json()["id_token"])
    assert claims["aud"] == TESSERA_CLIENT_ID and claims["nonce"] == "n-3", "the control is spent"

    provider.add_account("dave", "dave@example.com", True)
    _, claims = claims_of(code_flow(provider, "dave", "n-4", verifier).json()["id_token"])
    assert claims["email"] == "dave@example.com"
    calls = provider.token_calls()
    assert len(calls) == 4 and all(c["has_code_verifier"] and c["client_id"] == "tessera" for c in calls)


def test_github_like_codes_are_single_use():
    cb = "http://127.0.0.1:9/cb"
    g = GithubLike([cb]).start()
    try:
        c = httpx.Client(base_url=g.base)
        bad = c.get("/login/oauth/authorize", params={"client_id": CLIENT_ID, "redirect_uri": "http://evil/cb"})
        assert bad.status_code == 400
        r = c.get("/login/oauth/authorize", params={"client_id": CLIENT_ID, "redirect_uri": cb, "state": "st"})
        q = query_of(r.headers["location"])
        assert q["state"] == "st"
        form = {"code": q["code"], "redirect_uri": cb}
        wrong = c.post("/login/oauth/access_token", data=form, auth=(CLIENT_ID, "nope"))
        assert wrong.status_code == 401
        ok = c.post("/login/oauth/access_token", data=form, auth=(CLIENT_ID, CLIENT_SECRET), headers={"accept": "application/json"})
        assert ok.status_code == 200, ok.text
        token = ok.json()["access_token"]
        again = c.post("/login/oauth/access_token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))
        assert again.status_code == 400 and again.json()["error"] == "bad_verification_code"
        h = {"authorization": f"Bearer {token}", "user-agent": "e2e"}
        assert c.get("/user", headers=h).json() == {"id": 583231, "login": "octo", "name": "Octo Cat", "email": None}
        emails = c.get("/user/emails", headers=h).json()
        assert [e["email"] for e in emails if e["primary"] and e["verified"]] == ["octo@example.com"]
        assert c.get("/user", headers={"authorization": "Bearer nope", "user-agent": "e2e"}).status_code == 401

        # PKCE, form-encoded answer (GitHub's default), another user.
        v = secrets.token_urlsafe(40)
        ch = base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode()
        r = c.get(
            "/login/oauth/authorize",
            params={"client_id": CLIENT_ID, "redirect_uri": cb, "code_challenge": ch, "code_challenge_method": "S256", "login_as": "hubot"},
        )
        code = query_of(r.headers["location"])["code"]
        form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code}
        assert c.post("/login/oauth/access_token", data={**form, "code_verifier": "wrong"}).status_code == 400
        r = c.get(
            "/login/oauth/authorize",
            params={"client_id": CLIENT_ID, "redirect_uri": cb, "code_challenge": ch, "code_challenge_method": "S256", "login_as": "hubot"},
        )
        form["code"] = query_of(r.headers["location"])["code"]
        ok = c.post("/login/oauth/access_token", data={**form, "code_verifier": v})
        assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/x-www-form-urlencoded")
        token = query_of("?" + ok.text)["access_token"]
        profile = c.get("/api/profile", headers={"authorization": f"token {token}", "user-agent": "e2e"}).json()
        assert profile["data"]["profile"] == {"mail": "hubot@example.com", "mail_confirmed": False, "display": "Hubot"}
        c.close()
    finally:
        g.stop()
