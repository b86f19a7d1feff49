"""TOTP and multi-factor sign-in against the real binary, with codes computed by
an independent implementation (pyotp) from the otpauth:// URI Tessera hands out."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pyotp

from conftest import Server

PASSWORD = "correct horse battery staple 42"


def auth(tokens: dict) -> dict:
    return {"authorization": f"Bearer {tokens['access_token']}"}


class Codes:
    """pyotp codes, each for a time step no earlier request used (the server
    accepts one step either side of now, and each step once)."""

    def __init__(self, totp: pyotp.TOTP) -> None:
        self.totp = totp
        self.used: set[int] = set()

    def fresh(self) -> str:
        step = int(time.time()) // 30
        for s in (step + 1, step, step - 1):
            if s not in self.used:
                self.used.add(s)
                return self.totp.at(s * 30)
        raise AssertionError("at most three codes per minute")


def amr(server: Server, tokens: dict) -> list[str]:
    r = server.http.get("/v1/session", headers=auth(tokens))
    assert r.status_code == 200, r.text
    return r.json()["session"]["amr"]


def sign_in(server: Server, email: str) -> dict:
    r = server.http.post("/v1/sign-in/password", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


def test_totp_enrol_sign_in_replay_and_recovery_code(server, smtp):
    tokens = server.sign_up("mfa@example.com")

    r = server.http.post("/v1/totp/enroll", headers=auth(tokens))
    assert r.status_code == 200, r.text
    enrolment = r.json()
    assert enrolment["qr_svg"].startswith("<svg")
    uri = urlparse(enrolment["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert uri.path == "/Default:mfa%40example.com"
    params = parse_qs(uri.query)
    assert params["secret"] == [enrolment["secret"]]
    assert params["issuer"] == ["Default"]
    # pyotp reads the URI as any authenticator app would.
    totp = pyotp.parse_uri(enrolment["otpauth_uri"])
    assert isinstance(totp, pyotp.TOTP) and totp.digits == 6 and totp.interval == 30
    codes = Codes(totp)

    # Not active before confirmation.
    assert "access_token" in sign_in(server, "mfa@example.com")

    wrong = server.http.post("/v1/totp/confirm", headers=auth(tokens), json={"code": "000000" if totp.now() != "000000" else "111111"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
    r = server.http.post("/v1/totp/confirm", headers=auth(tokens), json={"code": codes.fresh()})
    assert r.status_code == 200, r.text
    recovery = r.json()["recovery_codes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10

    # Sign-in now asks for the second factor.
    challenge = sign_in(server, "mfa@example.com")
    assert challenge["mfa_required"] is True
    assert challenge["methods"] == ["totp", "recovery_code"]
    assert "access_token" not in challenge
    code = codes.fresh()
    r = server.http.post("/v1/sign-in/mfa", json={"mfa_token": challenge["mfa_token"], "code": code})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["user"]["email"] == "mfa@example.com"
    assert amr(server, done) == ["pwd", "otp", "mfa"]

    # The same code again, on a fresh challenge: refused.
    challenge = sign_in(server, "mfa@example.com")
    replay = server.http.post("/v1/sign-in/mfa", json={"mfa_token": challenge["mfa_token"], "code": code})
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "invalid_credentials"

    # A recovery code works once.
    r = server.http.post("/v1/sign-in/mfa", json={"mfa_token": challenge["mfa_token"], "recovery_code": recovery[0]})
    assert r.status_code == 200, r.text
    assert amr(server, r.json()) == ["pwd", "mfa"]
    challenge = sign_in(server, "mfa@example.com")
    again = server.http.post("/v1/sign-in/mfa", json={"mfa_token": challenge["mfa_token"], "recovery_code": recovery[0]})
    assert again.status_code == 401 and again.json()["error"]["code"] == "invalid_credentials"
    status = server.http.get("/v1/mfa", headers=auth(done)).json()
    assert status["totp_enabled"] is True and status["recovery_codes_left"] == 9

    # Five wrong codes spend the challenge.
    challenge = sign_in(server, "mfa@example.com")
    for _ in range(5):
        r = server.http.post("/v1/sign-in/mfa", json={"mfa_token": challenge["mfa_token"], "code": "abcdef"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    r = server.http.post("/v1/sign-in/mfa", json={"mfa_token": challenge["mfa_token"], "recovery_code": recovery[1]})
    assert r.status_code in (401, 429) and r.json()["error"]["code"] in ("invalid_token", "rate_limited"), r.text

    # Turning TOTP off needs the password.
    r = server.http.request("DELETE", "/v1/totp", headers=auth(done))
    assert r.status_code == 401 and r.json()["error"]["code"] == "reauthentication_required"
    r = server.http.request("DELETE", "/v1/totp", headers=auth(done), json={"password": PASSWORD})
    assert r.status_code == 204, r.text
    assert "access_token" in sign_in(server, "mfa@example.com")


def test_hosted_sign_in_asks_for_the_code(server, smtp):
    tokens = server.sign_up("mfa-page@example.com")
    enrolment = server.http.post("/v1/totp/enroll", headers=auth(tokens)).json()
    codes = Codes(pyotp.TOTP(enrolment["secret"]))
    r = server.http.post("/v1/totp/confirm", headers=auth(tokens), json={"code": codes.fresh()})
    assert r.status_code == 200, r.text

    # The client keeps cookies like a browser.
    page = server.http.get("/sign-in")
    csrf = page.text.split('name="csrf" value="', 1)[1][:43]
    r = server.http.post("/sign-in", data={"csrf": csrf, "email": "mfa-page@example.com", "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "mfa", r.text
    assert "tessera_session" not in r.cookies
    assert r.cookies["tessera_mfa"].startswith("tsf_")
    step = server.http.get("/mfa")
    assert step.status_code == 200 and 'name="code"' in step.text
    bad = server.http.post("/mfa", data={"csrf": "x" * 43, "code": "123456"})
    assert bad.status_code == 403
    r = server.http.post("/mfa", data={"csrf": csrf, "code": codes.fresh()})
    assert r.status_code == 303 and r.headers["location"] == "account", r.text
    assert r.cookies["tessera_session"].startswith("tss_")
    account = server.http.get("/account")
    assert account.status_code == 200 and "mfa-page@example.com" in account.text
    assert "tessera_mfa" not in server.http.cookies
