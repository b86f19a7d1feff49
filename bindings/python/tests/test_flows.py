"""The blocking client on every backend: sign-up, sign-in, sessions, refresh,
users, apps, API keys, audit, keys, and errors with their codes."""

from __future__ import annotations

import base64
import datetime as dt
import json
import pickle
import uuid

import pytest

import tessera
from conftest import KEK, PASSWORD, email


def jwt_header(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def test_sign_up_returns_a_session(t: tessera.Tessera):
    e = email()
    s = t.sign_up(e, PASSWORD, "Ada")
    assert isinstance(s, tessera.AuthSession)
    assert isinstance(s.user, tessera.User) and isinstance(s.session, tessera.Session)
    assert s.user.email == e and s.user.name == "Ada" and not s.user.email_verified
    assert s.session.user_id == s.user.id
    assert s.session_token.startswith("tss_") and s.refresh_token.startswith("tsr_")
    assert s.token_type == "Bearer" and s.expires_in == 15 * 60
    assert s.session.amr == ["pwd"]
    assert s.user.created_at.tzinfo is not None
    for secret in (s.access_token, s.refresh_token, s.session_token):
        assert secret not in repr(s)
    assert repr(s.user).startswith("User(id='")


def test_sign_in_then_validate_both_tokens(t: tessera.Tessera):
    e = email()
    user = t.sign_up(e, PASSWORD).user
    s = t.sign_in_password(e.upper(), PASSWORD, ip="203.0.113.7", user_agent="pytest")
    assert s.user == user
    assert s.session.ip == "203.0.113.7" and s.session.user_agent == "pytest"

    info = t.validate_session(s.session_token)
    assert isinstance(info, tessera.SessionInfo)
    assert info.user.id == user.id and info.session.id == s.session.id

    at = t.validate_access_token(s.access_token)
    assert isinstance(at, tessera.AccessTokenInfo)
    assert at.claims.sub == user.id and at.claims.sid == s.session.id
    assert at.claims.email == e and at.claims.amr == ["pwd"]
    assert at.claims.aud == t.default_app().id
    assert t.validate_access_token(s.access_token, app="default").user.id == user.id
    assert t.verify_access_token(s.access_token).sid == s.session.id


def test_refresh_rotates_and_detects_reuse(t: tessera.Tessera):
    e = email()
    t.sign_up(e, PASSWORD)
    s = t.sign_in_password(e, PASSWORD)
    a = s.refresh_token
    b = t.refresh(a)
    assert b.refresh_token != a and b.session.id == s.session.id
    assert b.session_token is None
    assert t.validate_access_token(b.access_token).session.id == s.session.id
    c = t.refresh(b.refresh_token)
    assert c.refresh_token not in (a, b.refresh_token)

    with pytest.raises(tessera.RefreshTokenReused) as exc:
        t.refresh(a)
    assert exc.value.code == "refresh_token_reused"
    assert isinstance(exc.value, tessera.Unauthenticated)
    # The whole session is revoked: its tokens stop working.
    with pytest.raises(tessera.SessionExpired):
        t.validate_session(s.session_token)
    with pytest.raises(tessera.SessionExpired):
        t.validate_access_token(c.access_token)
    with pytest.raises(tessera.Unauthenticated):
        t.refresh(c.refresh_token)


def test_sign_out(t: tessera.Tessera):
    e = email()
    t.sign_up(e, PASSWORD)
    by_cookie = t.sign_in_password(e, PASSWORD)
    by_bearer = t.sign_in_password(e, PASSWORD)
    t.sign_out(by_cookie.session_token)
    with pytest.raises(tessera.SessionExpired) as exc:
        t.validate_session(by_cookie.session_token)
    assert exc.value.code == "session_expired"
    t.sign_out(by_bearer.access_token)
    with pytest.raises(tessera.SessionExpired):
        t.validate_access_token(by_bearer.access_token)
    remaining = {x.id for x in t.list_sessions(by_cookie.user.id)}
    assert by_cookie.session.id not in remaining and by_bearer.session.id not in remaining


def test_wrong_password_is_invalid_credentials(t: tessera.Tessera):
    e = email()
    t.sign_up(e, PASSWORD)
    with pytest.raises(tessera.InvalidCredentials) as wrong:
        t.sign_in_password(e, "not the password at all")
    assert wrong.value.code == "invalid_credentials"
    assert wrong.value.message and "password" in str(wrong.value).lower()
    assert isinstance(wrong.value, tessera.TesseraError)
    assert wrong.value.http_status == 401
    with pytest.raises(tessera.InvalidCredentials) as unknown:
        t.sign_in_password(email(), PASSWORD)
    assert unknown.value.message == wrong.value.message


def test_weak_password(t: tessera.Tessera):
    with pytest.raises(tessera.WeakPassword) as exc:
        t.sign_up(email(), "password")
    assert exc.value.code == "weak_password"
    assert isinstance(exc.value, tessera.InvalidInput)


def test_duplicate_email(t: tessera.Tessera):
    e = email()
    t.sign_up(e, PASSWORD)
    with pytest.raises(tessera.EmailTaken) as exc:
        t.sign_up(e.upper(), PASSWORD + "!")
    assert exc.value.code == "email_taken"
    assert isinstance(exc.value, tessera.Conflict)


def test_invalid_email(t: tessera.Tessera):
    with pytest.raises(tessera.InvalidEmail) as exc:
        t.sign_up("not an email", PASSWORD)
    assert exc.value.code == "invalid_email"


def test_rate_limited_after_repeated_failures(t: tessera.Tessera):
    e = email()
    t.sign_up(e, PASSWORD)
    for _ in range(5):
        with pytest.raises(tessera.InvalidCredentials):
            t.sign_in_password(e, "wrong password, again")
    with pytest.raises(tessera.RateLimited) as exc:
        t.sign_in_password(e, PASSWORD)
    assert exc.value.code == "rate_limited"
    assert 0 < exc.value.retry_after <= 1.0


def test_sessions_list_revoke_and_revoke_all(t: tessera.Tessera):
    e = email()
    first = t.sign_up(e, PASSWORD)
    uid = first.user.id
    second = t.sign_in_password(e, PASSWORD)
    third = t.sign_in_password(e, PASSWORD)
    ids = [s.id for s in t.list_sessions(uid)]
    assert sorted(ids) == sorted([first.session.id, second.session.id, third.session.id])
    t.revoke_session(uid, first.session.id)
    t.revoke_session(uid, first.session.id)  # idempotent
    assert first.session.id not in [s.id for s in t.list_sessions(uid)]
    assert t.revoke_all_sessions(uid, except_session=third.session.id) == 1
    assert [s.id for s in t.list_sessions(uid)] == [third.session.id]
    assert t.revoke_all_sessions(uuid.UUID(uid)) == 1
    assert t.list_sessions(uid) == []


def test_change_password(t: tessera.Tessera):
    e = email()
    s = t.sign_up(e, PASSWORD)
    other = t.sign_in_password(e, PASSWORD)
    new = "a different long passphrase 42"
    with pytest.raises(tessera.InvalidCredentials):
        t.change_password(s.user.id, "wrong current password", new)
    with pytest.raises(tessera.WeakPassword):
        t.change_password(s.user.id, PASSWORD, "12345678")
    t.change_password(s.user.id, PASSWORD, new, keep_session=s.session.id)
    assert t.validate_session(s.session_token).session.id == s.session.id
    with pytest.raises(tessera.SessionExpired):
        t.validate_session(other.session_token)
    with pytest.raises(tessera.InvalidCredentials):
        t.sign_in_password(e, PASSWORD)
    assert t.sign_in_password(e, new).user.id == s.user.id


def test_users_get_find_list_update_delete(t: tessera.Tessera):
    marker = uuid.uuid4().hex[:10]
    users = [t.sign_up(f"{marker}-{i}@example.com", PASSWORD).user for i in range(3)]
    assert t.get_user(users[0].id) == users[0]
    assert t.get_user(uuid.UUID(users[0].id)) == users[0]
    assert t.find_user_by_email(f"  {marker}-1@EXAMPLE.com ") == users[1]
    assert t.find_user_by_email(email()) is None
    assert t.find_user_by_email("not an email") is None

    page = t.list_users(email_contains=marker, limit=2)
    assert [u.id for u in page] == sorted(u.id for u in users)[:2]
    rest = t.list_users(email_contains=marker, after=page[-1].id, limit=2)
    assert [u.id for u in rest] == sorted(u.id for u in users)[2:]

    u = t.update_user(users[0].id, name="Grace", metadata={"plan": "pro", "seats": 3})
    assert u.name == "Grace" and u.metadata == {"plan": "pro", "seats": 3}
    assert t.update_user(users[0].id, email_verified=True).email_verified
    assert t.update_user(users[0].id, name="").name is None
    assert t.get_user(users[0].id).metadata == {"plan": "pro", "seats": 3}
    with pytest.raises(tessera.InvalidInput) as exc:
        t.update_user(users[0].id, metadata=["not", "an", "object"])
    assert exc.value.field == "metadata"

    s = t.sign_in_password(users[1].email, PASSWORD)
    assert t.update_user(users[1].id, disabled=True).disabled
    with pytest.raises(tessera.TesseraError) as disabled:
        t.validate_session(s.session_token)
    assert disabled.value.code in ("session_expired", "user_disabled")
    with pytest.raises(tessera.UserDisabled):
        t.sign_in_password(users[1].email, PASSWORD)

    t.delete_user(users[2].id)
    with pytest.raises(tessera.NotFound) as gone:
        t.get_user(users[2].id)
    assert gone.value.code == "not_found"


def test_bad_ids_are_invalid_input(t: tessera.Tessera):
    with pytest.raises(tessera.InvalidInput) as exc:
        t.get_user("not-a-uuid")
    assert exc.value.code == "invalid_input" and exc.value.field == "id"
    with pytest.raises(TypeError):
        t.get_user(42)
    with pytest.raises(tessera.NotFound):
        t.get_user(str(uuid.uuid4()))


def test_apps(t: tessera.Tessera):
    default = t.default_app()
    assert default.slug == "default" and default.settings["sign_in_methods"]
    slug = "shop-" + uuid.uuid4().hex[:8]
    app = t.create_app(slug, "Shop", settings={"access_token_ttl_secs": 600})
    assert app.slug == slug and app.settings["access_token_ttl_secs"] == 600
    assert app.pool_id == default.pool_id
    assert t.get_app(slug) == app and t.get_app(app.id) == app
    assert slug in [a.slug for a in t.list_apps()]
    with pytest.raises(tessera.Conflict):
        t.create_app(slug, "Shop again")
    with pytest.raises(tessera.InvalidInput) as bad:
        t.create_app("x-" + uuid.uuid4().hex[:8], "Bad", settings={"access_token_ttl_secs": 1})
    assert bad.value.field == "access_token_ttl_secs"
    with pytest.raises(tessera.NotFound):
        t.get_app("no-such-app")

    e = email()
    s = t.sign_up(e, PASSWORD, app=slug)
    assert s.session.app_id == app.id and s.expires_in == 600
    assert t.validate_access_token(s.access_token, app=slug).claims.aud == app.id
    with pytest.raises(tessera.InvalidToken):
        t.validate_access_token(s.access_token, app="default")
    # One pool: the user signs in to the default app too.
    assert t.sign_in_password(e, PASSWORD).user.id == s.user.id

    changed = t.update_app(slug, name="Shop 2", settings={"min_password_score": 3})
    assert changed.name == "Shop 2"
    assert changed.settings["min_password_score"] == 3
    assert changed.settings["access_token_ttl_secs"] == 600
    t.delete_app(slug)
    with pytest.raises(tessera.NotFound):
        t.get_app(slug)
    with pytest.raises(tessera.Forbidden):
        t.delete_app("default")


def test_pools(t: tessera.Tessera):
    slug = "pool-" + uuid.uuid4().hex[:8]
    pool = t.create_pool(slug, "Other users")
    assert slug in [p.slug for p in t.list_pools()]
    app = t.create_app("app-" + uuid.uuid4().hex[:8], "Other", pool_id=pool.id)
    assert [a.id for a in t.list_apps(pool_id=pool.id)] == [app.id]
    e = email()
    t.sign_up(e, PASSWORD, app=app.slug)
    # Another pool: the same address is free on the default app.
    assert t.find_user_by_email(e) is None
    assert t.find_user_by_email(e, app=app.slug) is not None


def test_api_keys(t: tessera.Tessera):
    created = t.create_api_key("ci", ["users:read"])
    assert created.secret.startswith("tsk_") and created.secret not in repr(created)
    key = t.authenticate_api_key(created.secret, "users:read")
    assert key.id == created.key.id and key.scopes == ["users:read"]
    assert created.secret.startswith(key.hint)
    with pytest.raises(tessera.Forbidden):
        t.authenticate_api_key(created.secret, "apps:write")
    assert created.key.id in [k.id for k in t.list_api_keys()]
    with pytest.raises(tessera.InvalidInput):
        t.create_api_key("bad", ["root"])
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    expiring = t.create_api_key("expiring", ["admin"], expires_at=later)
    assert expiring.key.expires_at is not None
    assert abs((expiring.key.expires_at - later).total_seconds()) < 1
    t.revoke_api_key(created.key.id)
    with pytest.raises(tessera.Unauthenticated) as exc:
        t.authenticate_api_key(created.secret, "users:read")
    assert exc.value.code == "unauthenticated"


def test_audit_filters(t: tessera.Tessera):
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    e = email()
    user = t.sign_up(e, PASSWORD).user
    with pytest.raises(tessera.InvalidCredentials):
        t.sign_in_password(e, "wrong password, really")
    events = t.list_audit_events(user_id=user.id)
    types = [ev.type for ev in events]
    assert "user.signed_up" in types and "sign_in.failed" in types
    assert all(ev.user_id == user.id for ev in events)
    assert events == sorted(events, key=lambda ev: ev.id, reverse=True)

    failed = t.list_audit_events(user_id=user.id, type="sign_in.failed")
    assert [ev.type for ev in failed] == ["sign_in.failed"]
    assert failed[0].data == {"method": "password", "reason": "invalid_password"}
    assert failed[0].app_id == t.default_app().id
    assert t.list_audit_events(user_id=user.id, app="default", type="sign_in.failed") == failed
    assert t.list_audit_events(user_id=user.id, since=since) == events
    assert t.list_audit_events(user_id=user.id, until=since) == []
    first = t.list_audit_events(user_id=user.id, limit=1)
    assert first == events[:1]
    assert t.list_audit_events(user_id=user.id, before=first[0].id) == events[1:]
    assert json.dumps(events[0].to_dict())


def test_jwks_and_rotation(t: tessera.Tessera):
    e = email()
    t.sign_up(e, PASSWORD)
    before = t.sign_in_password(e, PASSWORD)
    kid = t.current_kid()
    jwks = t.jwks()
    assert kid in [k["kid"] for k in jwks["keys"]]
    assert all(k["use"] == "sig" for k in jwks["keys"])
    assert jwt_header(before.access_token)["kid"] == kid

    new_kid = t.rotate_signing_key()
    assert new_kid != kid and t.current_kid() == new_kid
    kids = [k["kid"] for k in t.jwks()["keys"]]
    assert kid in kids and new_kid in kids
    after = t.sign_in_password(e, PASSWORD)
    assert jwt_header(after.access_token)["kid"] == new_kid
    # Tokens signed with the retired key stay valid while they live.
    assert t.validate_access_token(before.access_token).user.email == e

    es = t.rotate_signing_key("ES256")
    published = {k["kid"]: k for k in t.jwks()["keys"]}
    assert published[es]["alg"] == "ES256"
    with pytest.raises(tessera.InvalidInput):
        t.rotate_signing_key("HS256")


def test_to_dict_is_the_http_shape(t: tessera.Tessera):
    s = t.sign_up(email(), PASSWORD, "Ada")
    d = s.to_dict()
    assert set(d) == {"access_token", "token_type", "expires_in", "refresh_token", "session_token", "user"}
    assert d["user"]["id"] == s.user.id and d["user"]["name"] == "Ada"
    assert json.loads(json.dumps(d)) == d
    assert s.session.to_dict()["id"] == s.session.id
    assert "token_hash" not in s.session.to_dict()


def test_tokens_for_garbage_are_errors_with_codes(t: tessera.Tessera):
    with pytest.raises(tessera.Unauthenticated) as exc:
        t.validate_session("tss_garbage")
    assert exc.value.code == "unauthenticated"
    with pytest.raises(tessera.InvalidToken):
        t.validate_access_token("not.a.jwt")
    with pytest.raises(tessera.InvalidToken):
        t.refresh("tsr_" + "A" * 43)


def test_open_errors_are_config_errors(tmp_path):
    with pytest.raises(tessera.ConfigError) as exc:
        tessera.Tessera.open("mysql://nope", key_encryption_key=KEK)
    assert exc.value.code == "config_error"
    with pytest.raises(tessera.ConfigError):
        tessera.Tessera.open("memory://", key_encryption_key="too short")
    with pytest.raises(tessera.ConfigError):
        tessera.Tessera.open("memory://", key_encryption_key=KEK, password_hashing="bogus")
    with pytest.raises(TypeError):
        tessera.Tessera.open("memory://", key_encryption_key=42)


def test_key_from_the_environment(monkeypatch):
    monkeypatch.delenv("TESSERA_KEY_ENCRYPTION_KEY", raising=False)
    with pytest.raises(tessera.ConfigError) as exc:
        tessera.Tessera.open("memory://")
    assert "TESSERA_KEY_ENCRYPTION_KEY" in exc.value.message
    monkeypatch.setenv("TESSERA_KEY_ENCRYPTION_KEY", KEK)
    monkeypatch.setenv("TESSERA_KEY_ENCRYPTION_KEY_OLD", tessera.generate_key())
    t = tessera.Tessera.open("memory://", password_hashing="fast")
    assert t.sign_up(email(), PASSWORD).user.email


def test_raw_key_bytes_and_issuer():
    raw = bytes(range(32))
    t = tessera.Tessera.open(
        "memory://",
        key_encryption_key=raw,
        old_key_encryption_keys=[base64.b64encode(bytes(32)).decode()],
        issuer="https://auth.example.com/",
        password_hashing="fast",
    )
    assert t.issuer == "https://auth.example.com" and t.backend == "memory"
    assert repr(t) == "Tessera(backend='memory', issuer='https://auth.example.com')"
    s = t.sign_up(email(), PASSWORD)
    assert t.validate_access_token(s.access_token).claims.iss == "https://auth.example.com"


def test_sqlite_file_survives_reopening(tmp_path):
    url = f"sqlite://{tmp_path / 'app.db'}"
    e = email()
    first = tessera.Tessera.open(url, key_encryption_key=KEK, password_hashing="fast")
    assert first.backend == "sqlite"
    s = first.sign_up(e, PASSWORD)
    del first
    again = tessera.Tessera.open(url, key_encryption_key=KEK, password_hashing="fast")
    assert again.validate_session(s.session_token).user.email == e
    assert again.validate_access_token(s.access_token).user.email == e
    assert again.sign_in_password(e, PASSWORD).user.id == s.user.id
    assert (tmp_path / "app.db").exists()


def test_errors_pickle_with_their_code():
    err = tessera.errors._from_core("rate_limited", "Too many attempts.", None, 2.5)
    assert isinstance(err, tessera.RateLimited) and err.retry_after == 2.5
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is tessera.RateLimited and back.code == "rate_limited" and back.retry_after == 2.5
    unknown = tessera.errors._from_core("brand_new_code", "New.")
    assert type(unknown) is tessera.TesseraError and unknown.code == "brand_new_code"
    assert tessera.error_class("email_taken") is tessera.EmailTaken


def test_a_device_token_keeps_its_owner_signing_in_while_throttled(t: tessera.Tessera):
    e = email()
    t.sign_up(e, PASSWORD)
    first = t.sign_in_password(e, PASSWORD)
    device = first.device_token
    assert device.startswith("tsd_") and device not in repr(first)
    # Five failures from devices without a token throttle the account...
    for _ in range(5):
        with pytest.raises(tessera.InvalidCredentials):
            t.sign_in_password(e, "not the password at all")
    with pytest.raises(tessera.RateLimited) as throttled:
        t.sign_in_password(e, PASSWORD)
    assert throttled.value.retry_after > 0
    # ...but not the device that signed in before: it gets in, with a fresh token.
    owner = t.sign_in_password(e, PASSWORD, device_token=device)
    assert owner.user.id == first.user.id
    assert owner.device_token.startswith("tsd_") and owner.device_token != device
    # Other sign-ins and refreshes carry none.
    assert t.refresh(owner.refresh_token).device_token is None


def test_mfa_required_carries_the_device_token(t: tessera.Tessera):
    import pyotp

    e = email()
    user = t.sign_up(e, PASSWORD).user
    enrollment = t.enroll_totp(user.id)
    t.confirm_totp(user.id, pyotp.TOTP(enrollment.secret).now())
    with pytest.raises(tessera.MfaRequired) as needed:
        t.sign_in_password(e, PASSWORD)
    assert needed.value.device_token.startswith("tsd_")
    assert needed.value.device_token not in repr(needed.value)
