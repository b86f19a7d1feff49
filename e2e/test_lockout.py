"""The owner-lockout attack of issue 15 item 1, against the real binary.

An attacker behind a trusted proxy rotates `X-Forwarded-For` and sends one
wrong password every time `Retry-After` ends, for about a minute. The
owner's browser, which signed in before (its cookie jar holds the
`tessera_device` cookie), signs in every time it tries; the owner on a fresh
device is only slowed (429 with `Retry-After`), never shown anything else.
"""

import itertools
import time

import httpx

from conftest import Server

PASSWORD = "correct horse battery staple 42"
ATTACK_SECONDS = 60


def test_attacker_with_rotating_addresses_never_locks_out_a_known_device(smtp, tmp_path):
    s = Server(tmp_path, smtp.port)
    s.env["TESSERA_RATE_LIMITS"] = "on"
    s.env["TESSERA_TRUSTED_PROXIES"] = "127.0.0.1"
    s.start()
    try:
        s.sign_up("owner@example.com")
        owner = httpx.Client(base_url=s.base, timeout=10)
        first = owner.post(
            "/v1/sign-in/password",
            json={"email": "owner@example.com", "password": PASSWORD},
            headers={"x-forwarded-for": "198.51.100.1"},
        )
        assert first.status_code == 200, first.text
        assert owner.cookies.get("tessera_device", "").startswith("tsd_")

        attacker = httpx.Client(base_url=s.base, timeout=10)
        addresses = (f"203.0.{i // 250}.{i % 250 + 1}" for i in itertools.count())
        owner_answers, fresh_answers, attacker_answers = [], [], []
        next_guess = next_owner = time.monotonic()
        end = time.monotonic() + ATTACK_SECONDS
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_guess:
                r = attacker.post(
                    "/v1/sign-in/password",
                    json={"email": "owner@example.com", "password": "not the password"},
                    headers={"x-forwarded-for": next(addresses)},
                )
                attacker_answers.append(r.status_code)
                wait = float(r.headers.get("retry-after", "0")) if r.status_code == 429 else 0
                next_guess = time.monotonic() + wait
            if now >= next_owner:
                r = owner.post(
                    "/v1/sign-in/password",
                    json={"email": "owner@example.com", "password": PASSWORD},
                    headers={"x-forwarded-for": "198.51.100.1"},
                )
                owner_answers.append(r.status_code)
                fresh = httpx.post(
                    f"{s.base}/v1/sign-in/password",
                    json={"email": "owner@example.com", "password": PASSWORD},
                    headers={"x-forwarded-for": "198.51.100.2"},
                    timeout=10,
                )
                fresh_answers.append(fresh.status_code)
                if fresh.status_code == 429:
                    assert int(fresh.headers["retry-after"]) >= 1
                next_owner = time.monotonic() + 5
            time.sleep(0.05)

        # The attack ran: its guesses were refused while they waited.
        assert 401 in attacker_answers and 429 in attacker_answers, attacker_answers
        # The owner's browser got in every time.
        assert len(owner_answers) >= 10
        assert owner_answers == [200] * len(owner_answers), owner_answers
        # A fresh device is slowed, not shown anything else.
        assert set(fresh_answers) <= {200, 429}, fresh_answers
        assert 429 in fresh_answers, fresh_answers
    finally:
        s.stop()
