"""Every email flow over HTTP, with mail delivered through a real SMTP exchange."""

from __future__ import annotations

import re
import time

from conftest import Server, code_in, link_in, text_of, token_in

PASSWORD = "correct horse battery staple 42"


def auth(tokens: dict) -> dict:
    return {"authorization": f"Bearer {tokens['access_token']}"}


def test_sign_up_sends_a_verification_link(server, smtp):
    tokens = server.sign_up("verify@example.com")
    msg = smtp.inbox.wait_for("verify@example.com", "Verify")
    assert msg["from"] == "Tessera <auth@example.test>"
    assert msg.get_body(preferencelist=("html",)) is not None, "multipart with an HTML part"
    token = token_in(msg)
    assert link_in(msg).startswith(f"{server.base}/verify-email?token=tsv_")
    assert server.http.get("/v1/me", headers=auth(tokens)).json()["email_verified"] is False
    r = server.http.post("/v1/email/verify", json={"token": token})
    assert r.status_code == 204, r.text
    assert server.http.get("/v1/me", headers=auth(tokens)).json()["email_verified"] is True
    again = server.http.post("/v1/email/verify", json={"token": token})
    assert again.status_code == 401 and again.json()["error"]["code"] == "invalid_token"


def test_password_reset_through_smtp(server, smtp):
    tokens = server.sign_up("reset@example.com")
    smtp.inbox.wait_for("reset@example.com", "Verify")
    r = server.http.post("/v1/password/reset/send", json={"email": "reset@example.com"})
    assert r.status_code == 202
    token = token_in(smtp.inbox.wait_for("reset@example.com", "Reset"))
    weak = server.http.post("/v1/password/reset", json={"token": token, "new_password": "password"})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    ok = server.http.post("/v1/password/reset", json={"token": token, "new_password": "a brand new passphrase 9"})
    assert ok.status_code == 204, ok.text
    assert server.http.get("/v1/session", headers=auth(tokens)).status_code == 401, "sessions revoked"
    assert "password was changed" in str(smtp.inbox.wait_for("reset@example.com", "changed")["subject"])
    old = server.http.post("/v1/sign-in/password", json={"email": "reset@example.com", "password": PASSWORD})
    assert old.status_code == 401
    new = server.http.post("/v1/sign-in/password", json={"email": "reset@example.com", "password": "a brand new passphrase 9"})
    assert new.status_code == 200
    reused = server.http.post("/v1/password/reset", json={"token": token, "new_password": "another passphrase 10"})
    assert reused.status_code == 401


def test_sign_in_code_works_once_and_dies_after_five_wrong_tries(server, smtp):
    server.sign_up("code@example.com")
    smtp.inbox.wait_for("code@example.com", "Verify")
    assert server.http.post("/v1/sign-in/code/send", json={"email": "code@example.com"}).status_code == 202
    code = code_in(smtp.inbox.wait_for("code@example.com", "sign-in code"))
    r = server.http.post("/v1/sign-in/code", json={"email": "code@example.com", "code": code})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email_verified"] is True
    reuse = server.http.post("/v1/sign-in/code", json={"email": "code@example.com", "code": code})
    assert reuse.status_code == 401 and reuse.json()["error"]["code"] == "invalid_credentials"

    server.http.post("/v1/sign-in/code/send", json={"email": "code@example.com"})
    code = code_in(smtp.inbox.wait_for("code@example.com", "sign-in code"))
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        r = server.http.post("/v1/sign-in/code", json={"email": "code@example.com", "code": wrong})
        assert r.status_code == 401
    r = server.http.post("/v1/sign-in/code", json={"email": "code@example.com", "code": code})
    assert r.status_code == 401, "the code is spent after five wrong tries"


def test_magic_link_json_and_hosted_page(server, smtp):
    server.sign_up("magic@example.com")
    smtp.inbox.wait_for("magic@example.com", "Verify")
    assert server.http.post("/v1/sign-in/magic-link/send", json={"email": "magic@example.com"}).status_code == 202
    msg = smtp.inbox.wait_for("magic@example.com", "Sign in")
    assert link_in(msg).startswith(f"{server.base}/magic-link?token=tsm_")
    token = token_in(msg)
    r = server.http.post("/v1/sign-in/magic-link", json={"token": token})
    assert r.status_code == 200, r.text
    assert r.json()["access_token"]
    assert server.http.post("/v1/sign-in/magic-link", json={"token": token}).status_code == 401

    # Hosted: the link opens a page; one click (with CSRF) signs in with a cookie.
    server.http.post("/v1/sign-in/magic-link/send", json={"email": "magic@example.com"})
    link = link_in(smtp.inbox.wait_for("magic@example.com", "Sign in"))
    page = server.http.get(link.replace(server.base, ""))
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    hidden = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    action = re.search(r'action="([^"]+)"', page.text).group(1)
    r = server.http.post("/" + action, data={"csrf": csrf, "token": hidden})
    assert r.status_code == 303, r.text
    assert r.cookies.get("tessera_session", "").startswith("tss_")


def test_email_change_is_confirmed_from_the_new_address(server, smtp):
    tokens = server.sign_up("before@example.com")
    smtp.inbox.wait_for("before@example.com", "Verify")
    r = server.http.post("/v1/email/change", json={"new_email": "after@example.com"}, headers=auth(tokens))
    assert r.status_code == 202
    confirm = smtp.inbox.wait_for("after@example.com", "Confirm")
    notice = smtp.inbox.wait_for("before@example.com", "being changed")
    assert "token=" not in text_of(notice)
    r = server.http.post("/v1/email/change/confirm", json={"token": token_in(confirm)})
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "after@example.com"
    smtp.inbox.wait_for("before@example.com", "was changed")
    assert server.http.get("/v1/me", headers=auth(tokens)).json()["email"] == "after@example.com"


def test_send_routes_answer_alike_and_send_nothing_for_unknown_addresses(server, smtp):
    server.sign_up("known@example.com")
    smtp.inbox.wait_for("known@example.com", "Verify")
    for route, extra in [
        ("/v1/password/reset/send", {}),
        ("/v1/sign-in/code/send", {}),
        ("/v1/sign-in/magic-link/send", {}),
    ]:
        known = server.http.post(route, json={"email": "known@example.com", **extra})
        unknown = server.http.post(route, json={"email": "unknown@example.com", **extra})
        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (202, {"status": "sent_if_account_exists"})
    for subject in ["Reset", "sign-in code", "Sign in"]:
        smtp.inbox.wait_for("known@example.com", subject)
    time.sleep(3)
    assert smtp.inbox.to("unknown@example.com") == []


def test_hosted_forgot_password_pages(server, smtp):
    server.sign_up("pages@example.com")
    smtp.inbox.wait_for("pages@example.com", "Verify")
    page = server.http.get("/forgot-password")
    assert page.cookies["tessera_csrf"], "the page sets the CSRF cookie (kept by the client)"
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    refused = server.http.post("/forgot-password", data={"csrf": "x" * 43, "email": "pages@example.com"})
    assert refused.status_code == 403
    r = server.http.post("/forgot-password", data={"csrf": csrf, "email": "pages@example.com"})
    assert r.status_code == 202 and "Check your email" in r.text
    link = link_in(smtp.inbox.wait_for("pages@example.com", "Reset"))
    form = server.http.get(link.replace(server.base, ""))
    assert form.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', form.text).group(1)
    r = server.http.post(
        "/reset-password",
        data={"csrf": csrf, "token": token, "new_password": "a page set passphrase 11"}
    )
    assert r.status_code == 200 and "Password changed" in r.text
    ok = server.http.post("/v1/sign-in/password", json={"email": "pages@example.com", "password": "a page set passphrase 11"})
    assert ok.status_code == 200


def test_mail_queued_while_smtp_is_down_is_delivered_after_a_restart(smtp, tmp_path):
    smtp.stop()  # the mail server is down
    first = Server(tmp_path, smtp.port).start()
    try:
        first.sign_up("outage@example.com")
        time.sleep(2)  # the first delivery attempt fails
    finally:
        first.stop()
    smtp.start()  # the mail server is back
    second = Server(tmp_path, smtp.port).start()
    try:
        # The failed attempt is retried after its 30 s backoff, by the new process.
        msg = smtp.inbox.wait_for("outage@example.com", "Verify", timeout=60)
        assert token_in(msg).startswith("tsv_")
    finally:
        second.stop()
