"""kill -9 while the server writes: nothing it acknowledged is lost.

Writer threads sign up, sign in and refresh through one server; it is killed
with SIGKILL at a random moment; a new process on the same database must
find every acknowledged account, session and refresh token. On SQLite the
file must also pass `PRAGMA integrity_check`.
"""

from __future__ import annotations

import random
import sqlite3
import time

from faults.harness import Tessera, Writers, integrity_check, wait_until

ROUNDS = 2


def _rounds(server: Tessera, tag: str) -> None:
    server.start()
    for n in range(ROUNDS):
        writers = Writers(server, f"{tag}{n}").start()
        time.sleep(random.uniform(1.5, 3.0))
        server.kill9()
        writers.join()
        assert writers.acked.sign_ups and writers.acked.chains, "the writers got nothing done"
        server.start()
        print(f"{tag}{n}: {len(writers.acked.sign_ups)} sign-ups, {len(writers.acked.sessions)} sign-ins, {len(writers.acked.refreshed)} refreshes acknowledged")
        writers.acked.verify(server)
    server.stop()


def test_kill9_during_writes_on_sqlite(tmp_path):
    db = tmp_path / "t.db"
    _rounds(Tessera(tmp_path, f"sqlite://{db}"), "sqlite")
    integrity_check(db)


def test_kill9_during_writes_on_postgres(tmp_path, pg_url):
    _rounds(Tessera(tmp_path, pg_url), "pg")


def test_kill9_with_queued_mail(tmp_path, mail):
    """Mail queued while SMTP is down survives kill -9 and arrives, once each,
    from the next process (after the first retry delay, 30 s)."""
    db = tmp_path / "t.db"
    mail.stop()
    server = Tessera(tmp_path, f"sqlite://{db}", smtp_port=mail.port).start()
    addresses = [f"queued{i}@example.com" for i in range(5)]
    for a in addresses:
        r = server.sign_up(a)
        assert r.status_code == 201, r.text


    def all_tried_and_released():
        con = sqlite3.connect(db, timeout=10)
        try:
            rows = con.execute("SELECT attempts, leased_until FROM mail_outbox").fetchall()
        finally:
            con.close()
        return len(rows) == len(addresses) and all(a >= 1 and lease is None for a, lease in rows)

    # Each message met the dead SMTP server once and waits for its retry, so
    # none is in flight when the process dies.
    wait_until("every message tried once", all_tried_and_released, 30)
    server.kill9()
    mail.start()
    server.start()
    for a in addresses:
        mail.inbox.wait_for(a, "Verify", timeout=90)

    def outbox_empty():
        con = sqlite3.connect(db, timeout=10)
        try:
            return con.execute("SELECT count(*) FROM mail_outbox").fetchone()[0] == 0
        finally:
            con.close()

    wait_until("outbox drained", outbox_empty, 30)
    time.sleep(3)  # more than one worker poll (2 s): a duplicate would show now
    for a in addresses:
        assert mail.inbox.to(a) == [], f"{a} got a second copy"
    server.stop()
