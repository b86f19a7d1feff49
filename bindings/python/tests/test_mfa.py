"""TOTP, recovery codes and the MFA step of sign-in, checked against an
independent TOTP implementation (pyotp, RFC 6238)."""

from __future__ import annotations

import asyncio
import time

import pyotp
import pytest

import tessera
from conftest import PASSWORD, email


def code_at(secret: str, steps: int = 0) -> str:
    """pyotp's code for the 30-second step `steps` away from now."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def wrong_code(secret: str) -> str:
    """A code that matches none of the window's steps."""
    window = {code_at(secret, s) for s in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222") if c not in window)


def enrolled(t: tessera.Tessera, app: str | None = None):
    """A user with confirmed TOTP: (email, user, secret, recovery codes, the
    code the confirmation spent)."""
    e = email()
    user = t.sign_up(e, PASSWORD, app=app).user
    enrollment = t.enroll_totp(user.id, app=app)
    first = pyotp.TOTP(enrollment.secret).now()
    codes = t.confirm_totp(user.id, first, app=app)
    return e, user, enrollment.secret, codes, first


def test_enrol_and_confirm(t):
    e = email()
    user = t.sign_up(e, PASSWORD).user
    enrollment = t.enroll_totp(user.id)
    # pyotp reads the URI the authenticator app would scan.
    parsed = pyotp.parse_uri(enrollment.otpauth_uri)
    assert parsed.secret == enrollment.secret
    assert parsed.digits == 6 and parsed.interval == 30
    assert parsed.name == e
    assert "<svg" in enrollment.qr_svg
    assert enrollment.secret not in repr(enrollment)
    assert enrollment.to_dict()["otpauth_uri"] == enrollment.otpauth_uri
    assert t.pending_totp_enrollment(user.id).secret == enrollment.secret
    assert t.mfa_status(user.id).totp_pending

    # Until confirmed, sign-in asks for nothing more.
    t.sign_in_password(e, PASSWORD)
    with pytest.raises(tessera.InvalidCredentials):
        t.confirm_totp(user.id, wrong_code(enrollment.secret))
    codes = t.confirm_totp(user.id, pyotp.TOTP(enrollment.secret).now())
    assert len(codes) == 10 and len(set(codes)) == 10
    status = t.mfa_status(user.id)
    assert status.totp_enabled and not status.totp_pending
    assert status.recovery_codes_left == 10 and status.has_password
    assert t.pending_totp_enrollment(user.id) is None
    with pytest.raises(tessera.Conflict):
        t.enroll_totp(user.id)


def test_sign_in_asks_for_the_code_and_refuses_a_replay(t):
    e, user, secret, _, confirmed_code = enrolled(t)
    with pytest.raises(tessera.MfaRequired) as raised:
        t.sign_in_password(e, PASSWORD)
    challenge = raised.value
    assert challenge.code == "mfa_required"
    assert challenge.methods == ["totp", "recovery_code"]
    assert challenge.mfa_token.startswith("tsf_")
    assert challenge.mfa_token not in repr(challenge)

    with pytest.raises(tessera.InvalidCredentials):
        t.complete_mfa_with_totp(challenge.mfa_token, wrong_code(secret))
    # Two steps ahead is outside the ±1 window.
    with pytest.raises(tessera.InvalidCredentials):
        t.complete_mfa_with_totp(challenge.mfa_token, code_at(secret, 3))
    # The confirmation spent this step's code; the next step's is in the window.
    code = code_at(secret, 1)
    s = t.complete_mfa_with_totp(challenge.mfa_token, code, ip="203.0.113.9")
    assert s.user.id == user.id
    assert s.session.amr == ["pwd", "otp", "mfa"]
    assert t.validate_access_token(s.access_token).claims.amr == ["pwd", "otp", "mfa"]
    with pytest.raises(tessera.InvalidToken):
        t.complete_mfa_with_totp(challenge.mfa_token, code)

    # The same code on a fresh challenge is a replay; another step's code in
    # the window (not the confirmation's, not the one just used) works.
    with pytest.raises(tessera.MfaRequired) as again:
        t.sign_in_password(e, PASSWORD)
    with pytest.raises(tessera.InvalidCredentials):
        t.complete_mfa_with_totp(again.value.mfa_token, code)
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // 30
    unused = next(
        step for step in (now - 1, now, now + 1)
        if totp.at(step * 30) not in (confirmed_code, code)
    )
    assert t.complete_mfa_with_totp(again.value.mfa_token, totp.at(unused * 30)).user.id == user.id
    failed = t.list_audit_events(user_id=user.id, type="mfa.failed")
    assert {ev.data["reason"] for ev in failed} >= {"wrong_code", "replayed_code"}


def test_too_many_wrong_codes_spend_the_challenge(t):
    e, _, secret, _, _ = enrolled(t)
    with pytest.raises(tessera.MfaRequired) as raised:
        t.sign_in_password(e, PASSWORD)
    token = raised.value.mfa_token
    for _ in range(5):
        with pytest.raises(tessera.InvalidCredentials):
            t.complete_mfa_with_totp(token, wrong_code(secret))
    with pytest.raises(tessera.InvalidToken):
        t.complete_mfa_with_totp(token, code_at(secret, 1))


def test_recovery_code_works_once_and_can_be_regenerated(t):
    e, user, _, codes, _ = enrolled(t)
    with pytest.raises(tessera.MfaRequired) as first:
        t.sign_in_password(e, PASSWORD)
    s = t.complete_mfa_with_recovery_code(first.value.mfa_token, codes[0].upper())
    assert s.session.amr == ["pwd", "mfa"]
    assert t.mfa_status(user.id).recovery_codes_left == 9

    with pytest.raises(tessera.MfaRequired) as second:
        t.sign_in_password(e, PASSWORD)
    with pytest.raises(tessera.InvalidCredentials):
        t.complete_mfa_with_recovery_code(second.value.mfa_token, codes[0])
    t.complete_mfa_with_recovery_code(second.value.mfa_token, codes[1])

    with pytest.raises(tessera.ReauthenticationRequired) as reauth:
        t.regenerate_recovery_codes(user.id)
    assert reauth.value.code == "reauthentication_required"
    assert reauth.value.http_status == 401
    with pytest.raises(tessera.InvalidCredentials):
        t.regenerate_recovery_codes(user.id, password="not the password")
    fresh = t.regenerate_recovery_codes(user.id, password=PASSWORD)
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    with pytest.raises(tessera.MfaRequired) as third:
        t.sign_in_password(e, PASSWORD)
    with pytest.raises(tessera.InvalidCredentials):
        t.complete_mfa_with_recovery_code(third.value.mfa_token, codes[2])
    t.complete_mfa_with_recovery_code(third.value.mfa_token, fresh[0])


def test_disable_needs_reauthentication(t):
    e, user, _, _, _ = enrolled(t)
    with pytest.raises(tessera.ReauthenticationRequired):
        t.disable_totp(user.id)
    with pytest.raises(tessera.InvalidCredentials):
        t.disable_totp(user.id, password="not the password")
    t.disable_totp(user.id, password=PASSWORD)
    status = t.mfa_status(user.id)
    assert not status.totp_enabled and status.recovery_codes_left == 0
    assert t.sign_in_password(e, PASSWORD).session.amr == ["pwd"]
    with pytest.raises(tessera.NotFound):
        t.disable_totp(user.id, password=PASSWORD)


def test_an_app_that_requires_mfa_enrols_at_sign_in(t):
    t.create_app("strict", "Strict", settings={"mfa": "required"})
    e = email()
    t.sign_up(e, PASSWORD, app="strict")
    with pytest.raises(tessera.MfaRequired) as raised:
        t.sign_in_password(e, PASSWORD, app="strict")
    token = raised.value.mfa_token
    assert raised.value.methods == ["totp_enroll"]
    # The challenge belongs to its app.
    with pytest.raises(tessera.InvalidToken):
        t.enroll_totp_for_mfa(token)
    enrollment = t.enroll_totp_for_mfa(token, app="strict")
    done = t.confirm_totp_for_mfa(token, pyotp.TOTP(enrollment.secret).now(), app="strict")
    assert len(done.recovery_codes) == 10
    assert not any(c in repr(done) for c in done.recovery_codes)
    assert {"pwd", "otp", "mfa"} <= set(done.session.session.amr)
    with pytest.raises(tessera.MfaRequired) as next_time:
        t.sign_in_password(e, PASSWORD, app="strict")
    assert next_time.value.methods == ["totp", "recovery_code"]


def test_asyncio_mfa(memory):
    e, user, secret, _, _ = enrolled(memory)

    async def main():
        at = memory.to_async()
        with pytest.raises(tessera.MfaRequired) as raised:
            await at.sign_in_password(e, PASSWORD)
        s = await at.complete_mfa_with_totp(raised.value.mfa_token, code_at(secret, 1))
        assert s.user.id == user.id
        return await at.mfa_status(user.id)

    assert asyncio.run(main()).totp_enabled
