"""External sign-in through a real OpenID Connect provider: the end-to-end
suite's `oidc-provider` fixture (e2e/oidc, node), driven by its own helpers.

The binding runs the API flow: `start_oauth` gives the provider's URL, a
"browser" logs in there and is sent back to the callback URL, whose query
`oauth_callback` handles (as an embedding web app's route would), and
`exchange_oauth_code` turns the one-time code into tokens.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import secrets
import sys
import time
from pathlib import Path

import httpx
import pyotp
import pytest

import tessera
from conftest import KEK, PASSWORD, email

E2E = Path(__file__).resolve().parents[3] / "e2e"
# Tessera's issuer in these tests: the callback URLs live under it. Nothing
# listens there; the browser stops when it is sent back to it.
ISSUER = "http://127.0.0.1:9"
APP_CALLBACK = "https://app.example.test/oauth/done"


def _load_e2e_fixtures():
    """e2e/oauth_fixtures.py, reused as it is. It imports e2e's `conftest` by
    that name, which here is this suite's conftest, so e2e's stands in for it
    while the module loads."""

    def load(name: str, path: Path):
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    ours = sys.modules.get("conftest")
    sys.path.insert(0, str(E2E))
    try:
        sys.modules["conftest"] = load("tessera_e2e_conftest", E2E / "conftest.py")
        return load("tessera_e2e_oauth_fixtures", E2E / "oauth_fixtures.py")
    finally:
        sys.path.remove(str(E2E))
        if ours is not None:
            sys.modules["conftest"] = ours


fixtures = _load_e2e_fixtures()


def callback_url(provider: str) -> str:
    return f"{ISSUER}/v1/sign-in/oauth/{provider}/callback"


@pytest.fixture(scope="module")
def oidc(tmp_path_factory):
    provider = fixtures.OidcProvider(
        tmp_path_factory.mktemp("oidc"), [callback_url("oidc"), callback_url("corp")]
    ).start()
    yield provider
    provider.stop()


@pytest.fixture
def o(url: str, oidc) -> tessera.Tessera:
    """A Tessera in development mode (loopback http providers allowed), with
    the OIDC provider configured as `oidc` and a registered redirect URI."""
    t = tessera.Tessera.open(
        url, key_encryption_key=KEK, password_hashing="fast", issuer=ISSUER, development=True
    )
    t.update_app("default", settings={"redirect_uris": [APP_CALLBACK]})
    t.put_oauth_provider(
        "oidc",
        {
            "kind": "oidc",
            "client_id": fixtures.TESSERA_CLIENT_ID,
            "client_secret": fixtures.TESSERA_CLIENT_SECRET,
            "issuer": oidc.issuer,
            "display_name": "Local OIDC",
        },
    )
    return t


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def sign_in_at_provider(authorization_url: str, account: str) -> dict[str, str]:
    """Log in at the provider as `account`; the query it sends back to the callback."""
    browser = fixtures.Browser(ISSUER)
    try:
        back = browser.oidc_login(httpx.Response(302, headers={"location": authorization_url}), account)
    finally:
        browser.close()
    assert back.startswith(callback_url("oidc")), back
    return fixtures.query_of(back)


def test_provider_configuration_never_shows_the_secret(o, oidc):
    view = o.get_oauth_provider("oidc")
    assert view.kind == "oidc" and view.client_id == "tessera"
    assert view.client_secret_set and view.enabled
    assert view.display_name == "Local OIDC"
    assert view.callback_url == callback_url("oidc") == o.oauth_callback_url("oidc")
    assert view.settings["issuer"] == oidc.issuer
    assert fixtures.TESSERA_CLIENT_SECRET not in repr(view.to_dict()) + repr(view)
    # An update without a secret keeps the stored one.
    kept = o.put_oauth_provider("oidc", {"kind": "oidc", "client_id": "tessera", "issuer": oidc.issuer})
    assert kept.client_secret_set
    o.put_oauth_provider("corp", {"kind": "oauth2", "client_id": "c", "authorization_endpoint": "https://corp.example/auth",
                                  "token_endpoint": "https://corp.example/token", "userinfo_endpoint": "https://corp.example/me",
                                  "claims": {"id": "sub", "email": "mail"}})
    assert [p.provider for p in o.list_oauth_providers()] == ["corp", "oidc"]
    o.delete_oauth_provider("corp")
    with pytest.raises(tessera.NotFound):
        o.get_oauth_provider("corp")
    with pytest.raises(tessera.NotFound):
        o.delete_oauth_provider("corp")
    with pytest.raises(tessera.InvalidInput):
        o.put_oauth_provider("bad", {"kind": "myspace", "client_id": "x"})
    with pytest.raises(tessera.InvalidInput) as https_only:
        o.put_oauth_provider("plain", {"kind": "oauth2", "client_id": "x", "authorization_endpoint": "http://corp.example/auth",
                                       "token_endpoint": "http://corp.example/token", "userinfo_endpoint": "http://corp.example/me",
                                       "claims": {"id": "sub"}})
    assert https_only.value.field.endswith("endpoint")


def test_start_url_carries_state_pkce_and_nonce(o, oidc):
    verifier, challenge = pkce()
    start = o.start_oauth("oidc", APP_CALLBACK, code_challenge=challenge)
    assert start.browser_state is None  # an API flow is bound by PKCE instead
    url = start.authorization_url
    assert url.startswith(oidc.issuer)
    q = fixtures.query_of(url)
    assert q["response_type"] == "code" and q["client_id"] == "tessera"
    assert q["redirect_uri"] == callback_url("oidc")
    assert len(q["state"]) >= 43 and len(q["nonce"]) >= 43
    # Tessera's own PKCE towards the provider, not the app's challenge.
    assert q["code_challenge_method"] == "S256" and q["code_challenge"] != challenge
    assert "openid" in q["scope"].split()
    with pytest.raises(tessera.InvalidInput) as unregistered:
        o.start_oauth("oidc", "https://evil.example/steal")
    assert unregistered.value.field == "redirect_uri"
    with pytest.raises(tessera.NotFound):
        o.start_oauth("nope", APP_CALLBACK)


def test_full_sign_in_then_exchange_once(o, oidc):
    verifier, challenge = pkce()
    url = o.start_oauth("oidc", APP_CALLBACK, code_challenge=challenge).authorization_url
    back = sign_in_at_provider(url, "alice")
    done = o.oauth_callback("oidc", back["state"], code=back["code"])
    assert done.error_code is None, done
    assert done.code.startswith("tso_") and done.code not in repr(done)
    assert done.redirect_to == f"{APP_CALLBACK}?code={done.code}"
    # The state is spent.
    with pytest.raises(tessera.InvalidToken):
        o.oauth_callback("oidc", back["state"], code=back["code"])

    s = o.exchange_oauth_code(done.code, code_verifier=verifier)
    assert s.user.email == "alice@example.com" and s.user.email_verified
    o.validate_access_token(s.access_token)
    with pytest.raises(tessera.InvalidToken):
        o.exchange_oauth_code(done.code, code_verifier=verifier)
    [identity] = o.list_identities(s.user.id)
    assert identity.provider == "oidc" and identity.email == "alice@example.com"

    # A second sign-in finds the same user; a wrong verifier is refused.
    url = o.start_oauth("oidc", APP_CALLBACK, code_challenge=challenge).authorization_url
    back = sign_in_at_provider(url, "alice")
    again = o.oauth_callback("oidc", back["state"], code=back["code"])
    with pytest.raises(tessera.InvalidToken):
        o.exchange_oauth_code(again.code, code_verifier=pkce()[0])
    url = o.start_oauth("oidc", APP_CALLBACK).authorization_url
    back = sign_in_at_provider(url, "alice")
    third = o.oauth_callback("oidc", back["state"], code=back["code"])
    assert o.exchange_oauth_code(third.code).user.id == s.user.id


def test_bad_state_and_provider_errors(o, oidc):
    with pytest.raises(tessera.InvalidToken):
        o.oauth_callback("oidc", "A" * 43, code="whatever")
    with pytest.raises(tessera.InvalidToken):
        o.oauth_callback("oidc", "short", code="whatever")
    # Once the state is accepted, failures are answered, not raised.
    url = o.start_oauth("oidc", APP_CALLBACK).authorization_url
    state = fixtures.query_of(url)["state"]
    denied = o.oauth_callback("oidc", state, error="access_denied")
    assert denied.error_code == "provider_error"
    assert denied.redirect_to == f"{APP_CALLBACK}?error=provider_error"
    # A wrong nonce in the ID token.
    url = o.start_oauth("oidc", APP_CALLBACK).authorization_url
    oidc.tamper_next_id_token(claims={"nonce": "not-the-nonce"})
    back = sign_in_at_provider(url, "carol")
    wrong = o.oauth_callback("oidc", back["state"], code=back["code"])
    assert wrong.error_code == "invalid_token" and wrong.code is None


def test_link_rules_and_unlink(o, oidc):
    # bob's email is unverified at the provider: no linking to an account by email.
    o.sign_up("bob@example.com", PASSWORD)
    url = o.start_oauth("oidc", APP_CALLBACK).authorization_url
    back = sign_in_at_provider(url, "bob")
    refused = o.oauth_callback("oidc", back["state"], code=back["code"])
    assert refused.error_code == "account_link_required"
    # Signed in, bob links the provider explicitly.
    bob = o.sign_in_password("bob@example.com", PASSWORD).user
    start = o.start_oauth("oidc", APP_CALLBACK, link_user_id=bob.id)
    assert start.browser_state == fixtures.query_of(start.authorization_url)["state"]
    back = sign_in_at_provider(str(start), "bob")
    # Link mode is bound to the browser that started it (its cookie holds browser_state).
    elsewhere = o.oauth_callback("oidc", back["state"], code=back["code"])
    assert elsewhere.error_code == "invalid_token" and elsewhere.linked is None
    start = o.start_oauth("oidc", APP_CALLBACK, link_user_id=bob.id)
    back = sign_in_at_provider(start.authorization_url, "bob")
    linked = o.oauth_callback("oidc", back["state"], code=back["code"], browser_state=start.browser_state)
    assert linked.linked is not None and linked.linked.provider == "oidc"
    assert linked.redirect_to == f"{APP_CALLBACK}?linked=oidc"
    [identity] = o.list_identities(bob.id)
    stranger = o.sign_up(email(), PASSWORD).user
    with pytest.raises(tessera.NotFound):
        o.unlink_identity(stranger.id, identity.id)
    o.unlink_identity(bob.id, identity.id)
    assert o.list_identities(bob.id) == []

    # carol signs up through the provider: no password, so (in an app
    # without email sign-in) the identity is her last way in.
    o.update_app("default", settings={"sign_in_methods": ["password", "oauth"]})
    url = o.start_oauth("oidc", APP_CALLBACK).authorization_url
    back = sign_in_at_provider(url, "carol")
    carol = o.exchange_oauth_code(o.oauth_callback("oidc", back["state"], code=back["code"]).code).user
    [identity] = o.list_identities(carol.id)
    with pytest.raises(tessera.LastSignInMethod) as last:
        o.unlink_identity(carol.id, identity.id)
    assert last.value.code == "last_sign_in_method" and last.value.http_status == 409


def test_an_oauth_sign_in_stops_for_the_second_factor(o, oidc):
    url = o.start_oauth("oidc", APP_CALLBACK).authorization_url
    back = sign_in_at_provider(url, "alice")
    alice = o.exchange_oauth_code(o.oauth_callback("oidc", back["state"], code=back["code"]).code).user
    secret = o.enroll_totp(alice.id).secret
    o.confirm_totp(alice.id, pyotp.TOTP(secret).now())

    url = o.start_oauth("oidc", APP_CALLBACK).authorization_url
    back = sign_in_at_provider(url, "alice")
    done = o.oauth_callback("oidc", back["state"], code=back["code"])
    with pytest.raises(tessera.MfaRequired) as raised:
        o.exchange_oauth_code(done.code)
    assert raised.value.methods == ["totp", "recovery_code"]
    code = pyotp.TOTP(secret).at(time.time() + 30)
    s = o.complete_mfa_with_totp(raised.value.mfa_token, code)
    assert s.user.id == alice.id
    assert {"otp", "mfa"} <= set(s.session.amr) and len(s.session.amr) >= 3
