"""Postgres going away under load, and several instances on one Postgres
(issue 14, items 5 and 6).

Outage: while writer and reader threads keep going, the cluster is stopped.
`/readyz` turns 503 promptly; once the server knows the database is down,
every request is answered at once with a 503 `storage_error` envelope
(instead of each waiting out the connection pool); when the cluster is back,
the server recovers by itself and nothing it acknowledged is lost.

Two instances: a revocation on one is seen at once on the other, a signing key
rotated with `tessera keys rotate` is trusted at once by an instance that had
just loaded its keys, and mail queued through both arrives once each. Rate
limits hold for the deployment, not per instance (issue 14, item 4): sign-ups
from one address alternating between the two instances are refused after
the tenth, on both.
"""

from __future__ import annotations

import time

import httpx

from faults.harness import (
    FAST, Load, Tessera, Writers, assert_storage_error, auth, error_code, kid_of, wait_until,
)


class Readers(Load):
    """Threads checking a session until stopped; every answer must be 200 or
    a 503 storage error, in time (the client gives up after 8 s: a request
    waiting out the pool and more)."""

    def __init__(self, server: Tessera, token: str, threads: int = 2) -> None:
        super().__init__(threads)
        self.server, self.token = server, token
        self.answers: list[int] = []

    def _run(self, i: int) -> None:
        http = httpx.Client(base_url=self.server.base, timeout=8)
        while not self.stop_flag.is_set():
            try:
                r = http.get("/v1/session", headers=auth(self.token))
            except httpx.TransportError as e:
                self.errors.append(f"no answer: {e!r}")
                continue
            self.answers.append(r.status_code)
            if r.status_code != 200 and not (r.status_code == 503 and error_code(r) == "storage_error"):
                self.errors.append(f"{r.status_code} {r.text}")
            time.sleep(0.02)


def test_postgres_stopped_and_restarted_under_load(tmp_path, postgres, pg_url):
    server = Tessera(tmp_path, pg_url).start()
    try:
        r = server.sign_up("steady@example.com")
        assert r.status_code == 201, r.text
        readers = Readers(server, r.json()["access_token"]).start()
        # No refreshes: a refresh whose rotation commits just before the
        # database goes away answers 503 (its audit write fails), and the
        # client's retry after the outage, past the 10 s grace window, would
        # count as reuse. (The rotation and its event are separate writes.)
        writers = Writers(server, "outage", refreshes=False).start()
        time.sleep(1)

        postgres.stop("fast")
        try:
            # The readiness check notices within a couple of seconds.
            wait_until("/readyz answers 503",
                       lambda: server.http.get("/readyz", timeout=FAST).status_code == 503, 15, every=0.2)
            time.sleep(1)  # the health probe confirms the outage
            # Now every request is answered at once, in the envelope.
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                for r in (server.http.get("/readyz", timeout=2),
                          server.sign_in("steady@example.com"),
                          server.http.get("/v1/session", headers=auth(readers.token), timeout=2)):
                    assert_storage_error(r)
            seen_503 = len(readers.answers)
        finally:
            postgres.start()

        wait_until("/readyz answers 200 again",
                   lambda: server.http.get("/readyz", timeout=FAST).status_code == 200, 20, every=0.2)
        r = server.sign_up("after-outage@example.com")
        assert r.status_code == 201, r.text
        time.sleep(1)
        writers.join()
        readers.join()
        assert 503 in readers.answers, "the readers never saw the outage"
        assert 200 in readers.answers[seen_503:], "the readers never saw the recovery"
        writers.acked.verify(server)
    finally:
        server.stop()


def test_two_instances_on_one_postgres(tmp_path, pg_url, mail):
    a = Tessera(tmp_path, pg_url, name="a", smtp_port=mail.port)
    # One install behind a load balancer: one public URL, the token issuer.
    b = Tessera(tmp_path, pg_url, name="b", smtp_port=mail.port, env={"TESSERA_BASE_URL": a.base})
    a.start()
    b.start()
    try:
        # Revocation on A is seen at once on B.
        r = a.sign_up("both@example.com")
        assert r.status_code == 201, r.text
        tokens = r.json()
        assert b.session(tokens["access_token"]).status_code == 200
        assert a.http.post("/v1/sign-out", headers=auth(tokens["access_token"])).status_code == 204
        r = b.session(tokens["access_token"])
        assert r.status_code == 401, r.text

        # A key rotated by the CLI is trusted at once by B, which loaded its
        # keys a moment ago (before the fix: 401 for up to 5 s).
        first = a.sign_in("both@example.com").json()
        assert b.session(first["access_token"]).status_code == 200
        kid = a.cli("keys", "rotate").strip().rsplit(" ", 1)[-1]
        second = a.sign_in("both@example.com").json()
        assert kid_of(second["access_token"]) == kid != kid_of(first["access_token"])
        r = b.session(second["access_token"])
        assert r.status_code == 200, r.text
        assert b.session(first["access_token"]).status_code == 200, "the old key still verifies"
        r = b.refresh(second["refresh_token"])
        assert r.status_code == 200 and kid_of(r.json()["access_token"]) == kid, r.text

        # Mail queued through either instance arrives once.
        mail.inbox.wait_for("both@example.com", "Verify")
        addresses = [f"mail{i}@example.com" for i in range(6)]
        for i, address in enumerate(addresses):
            r = (a if i % 2 else b).sign_up(address)
            assert r.status_code == 201, r.text
        for address in addresses:
            mail.inbox.wait_for(address, "Verify", timeout=30)
        time.sleep(5)  # two worker polls on each instance: a duplicate would show now
        for address in addresses:
            assert mail.inbox.to(address) == [], f"{address} got a second copy"
    finally:
        a.stop()
        b.stop()


def test_two_instances_share_rate_limits(tmp_path, pg_url):
    on = {"TESSERA_RATE_LIMITS": "on"}
    a = Tessera(tmp_path, pg_url, name="a", env=on)
    b = Tessera(tmp_path, pg_url, name="b", env={**on, "TESSERA_BASE_URL": a.base})
    a.start()
    b.start()
    try:
        answers = []
        for i in range(14):
            r = (a if i % 2 else b).sign_up(f"limited{i}@example.com")
            answers.append(r.status_code)
            if r.status_code == 429:
                assert error_code(r) == "rate_limited", r.text
                assert int(r.headers["retry-after"]) > 0
        # Ten sign-ups per address and minute in all (per-process limits
        # allowed ten on each instance: twenty).
        assert answers == [201] * 10 + [429] * 4, answers
    finally:
        a.stop()
        b.stop()
