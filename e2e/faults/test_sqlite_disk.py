"""SQLite when the disk refuses writes (issue 14, items 1 and 2).

Two faults, injected into a running server: the disk is full (a small tmpfs
filled up; root) and the files are read-only (`chattr +i`; root). Without
root, a file-size limit of 0 on the server process plays both (every write
fails), and the test says so. While the fault lasts, every write answers
fast — a success (which must then be on disk) or a 503 `storage_error` in
the envelope — and session checks still answer although their
once-a-minute activity write is due. Once the fault is gone, writes work again
at once, without a restart, and afterwards everything acknowledged is there
and the file passes `PRAGMA integrity_check`.
"""

from __future__ import annotations

import os

import pytest

from faults.harness import (
    Acked, FileSizeLimit, FullDisk, ImmutableFiles, Tessera, Tmpfs, age_sessions,
    assert_storage_error, integrity_check, is_root, say, truncate_wal,
)


def _privileged() -> bool:
    # TESSERA_FAULTS_UNPRIVILEGED=1 tries the no-root stand-in as root too.
    return is_root() and os.environ.get("TESSERA_FAULTS_UNPRIVILEGED") != "1"


def _fault(kind: str, tmp_path):
    """(directory for the database, fault class, what to undo at the end)."""
    if kind == "full":
        if _privileged():
            disk = Tmpfs(tmp_path / "disk")
            return disk.where, FullDisk, disk.close
    elif _privileged() and ImmutableFiles.works_in(tmp_path):
        return tmp_path, ImmutableFiles, lambda: None
    say(f"SQLite {kind} disk: no root (or no chattr here), so played by {FileSizeLimit.method}")
    return tmp_path, FileSizeLimit, lambda: None


def _writes(server: Tessera, acked: Acked, emails: list[str], tag: str) -> int:
    """One sign-up, sign-in and refresh per account; the failures (each a 503
    storage error). Successes are recorded as acknowledged."""
    failures = 0
    for i, email in enumerate(emails):
        calls = (
            ("sign-up", f"{tag}-{i}@example.com", lambda: server.sign_up(f"{tag}-{i}@example.com")),
            ("sign-in", f"c{i}", lambda: server.sign_in(email)),
            ("refresh", f"c{i}", lambda: server.refresh(acked.chains[f"c{i}"])),
        )
        for kind, key, call in calls:
            r = call()  # within harness.FAST, or httpx raises
            if r.is_success:
                acked.record(kind, key, r.json())
            else:
                assert_storage_error(r)
                failures += 1
    return failures


@pytest.mark.parametrize("kind", ["full", "read-only"])
def test_sqlite_writes_fail_fast_and_recover_without_a_restart(kind, tmp_path):
    directory, fault_class, undo = _fault(kind, tmp_path)
    db = directory / "t.db"
    server = Tessera(tmp_path, f"sqlite://{db}")
    try:
        server.start()
        acked, emails = Acked(), [f"{kind}{i}@example.com" for i in range(3)]
        for i, email in enumerate(emails):
            r = server.sign_up(email)
            assert r.status_code == 201, r.text
            acked.record("sign-up", email, r.json())
            acked.record("sign-in", f"c{i}", r.json())
        age_sessions(db)
        truncate_wal(db)

        fault = fault_class(server, db)
        fault.inject()
        try:
            # Reads answer, though each session's activity write is due.
            for token in acked.sign_ups.values():
                r = server.session(token)
                assert r.status_code == 200, r.text
            failures = _writes(server, acked, emails, f"{kind}-during")
            assert failures > 0, f"the fault ({fault.method}) failed no write"
        finally:
            fault.heal()

        # Writable again: every write works, on the same process.
        assert _writes(server, acked, emails, f"{kind}-after") == 0
        server.stop()
        server.start()
        acked.verify(server)
        server.stop()
        integrity_check(db)
    finally:
        server.stop()
        undo()
