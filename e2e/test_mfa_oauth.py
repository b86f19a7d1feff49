"""MFA after sign-in with an external provider: an app that requires a second
factor makes an OpenID Connect sign-in (real oidc-provider) stop for forced TOTP
enrolment, completed with a pyotp code; the next provider sign-in asks for a code."""

from __future__ import annotations

import re
import time
from urllib.parse import urljoin

import pyotp

from oauth_fixtures import (  # noqa: F401 (fixtures are used by name)
    browser,
    oauth_server,
    oidc,
    oidc_provider_body,
    query_of,
)

APP_CB = "http://127.0.0.1:9/app/callback"  # the app's own page; never requested


def provider_sign_in(server, browser) -> dict:
    """The JSON flow: start, log in at the provider as alice, exchange the code."""
    start = browser.get(f"{server.base}/v1/sign-in/oauth/oidc", params={"redirect_uri": APP_CB})
    back = browser.get(browser.oidc_login(start, "alice"))
    assert back.status_code == 302, back.text
    code = query_of(back.headers["location"])["code"]
    r = server.http.post("/v1/sign-in/oauth/exchange", json={"code": code})
    assert r.status_code == 200, r.text
    return r.json()


def test_provider_sign_in_with_required_mfa_enrols_then_asks_for_totp(oauth_server, oidc, browser):
    server = oauth_server
    server.put_provider("oidc", oidc_provider_body(oidc))
    server.patch_app({"redirect_uris": [APP_CB], "mfa": "required"})

    first = provider_sign_in(server, browser)
    assert first["mfa_required"] is True, first
    assert first["methods"] == ["totp_enroll"]
    token = first["mfa_token"]
    r = server.http.post("/v1/totp/enroll", json={"mfa_token": token})
    assert r.status_code == 200, r.text
    totp = pyotp.parse_uri(r.json()["otpauth_uri"])
    step = int(time.time()) // 30
    r = server.http.post("/v1/totp/confirm", json={"mfa_token": token, "code": totp.at(step * 30)})
    assert r.status_code == 200, r.text
    done = r.json()
    assert len(done["recovery_codes"]) == 10
    session = server.http.get("/v1/session", headers={"authorization": f"Bearer {done['access_token']}"})
    assert session.json()["session"]["amr"] == ["fed", "otp", "mfa"]

    again = provider_sign_in(server, browser)
    assert again["mfa_required"] is True and again["methods"] == ["totp", "recovery_code"]
    r = server.http.post(
        "/v1/sign-in/mfa", json={"mfa_token": again["mfa_token"], "code": totp.at((step + 1) * 30)}
    )
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email"] == "alice@example.com"


def test_hosted_provider_sign_in_stops_at_the_mfa_page(oauth_server, oidc, browser):
    server = oauth_server
    server.put_provider("oidc", oidc_provider_body(oidc))
    # alice gets TOTP through a first (API) sign-in with the policy on, then it goes back to optional.
    server.patch_app({"redirect_uris": [APP_CB], "mfa": "required"})
    first = provider_sign_in(server, browser)
    token = first["mfa_token"]
    totp = pyotp.parse_uri(server.http.post("/v1/totp/enroll", json={"mfa_token": token}).json()["otpauth_uri"])
    step = int(time.time()) // 30
    r = server.http.post("/v1/totp/confirm", json={"mfa_token": token, "code": totp.at(step * 30)})
    assert r.status_code == 200, r.text
    server.patch_app({"mfa": "optional"})

    # The hosted page: provider button, provider login, back to Tessera, MFA step.
    page = browser.get(f"{server.base}/sign-in")
    href = re.search(r'<a[^>]*href="([^"]+)"[^>]*>[^<]*Test OIDC', page.text) or re.search(
        r'href="([^"]*oauth/oidc[^"]*)"', page.text
    )
    assert href, page.text
    to_provider = browser.get(urljoin(str(page.url), href.group(1).replace("&amp;", "&")))
    back = browser.get(browser.oidc_login(to_provider, "alice"))
    assert back.status_code in (302, 303), back.text
    assert back.headers["location"].startswith(f"{server.base}/mfa"), back.headers["location"]
    assert not any(c.name == "tessera_session" for c in browser.http.cookies.jar)
    step_page = browser.get(back.headers["location"])
    assert step_page.status_code == 200 and 'name="code"' in step_page.text, step_page.text
    csrf = step_page.text.split('name="csrf" value="', 1)[1][:43]
    r = browser.http.post(
        f"{server.base}/mfa", data={"csrf": csrf, "code": totp.at((step + 1) * 30)}
    )
    assert r.status_code == 303 and r.headers["location"] == "account", r.text
    me = browser.get(f"{server.base}/v1/session")
    assert me.status_code == 200, me.text
    assert me.json()["session"]["amr"] == ["fed", "otp", "mfa"]
