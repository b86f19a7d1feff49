"""The interpreter exits cleanly after asyncio work (issue 14, item 7).

A runtime thread that finished a call used to take the GIL while the
interpreter was finalizing; CPython ends such a thread with ``pthread_exit``,
which unwound through Rust frames and aborted the process (SIGABRT in a fifth
to half of the runs under load). Each run here is a fresh interpreter that
opens an ``AsyncTessera`` on a SQLite file, awaits a sign-up (its completion
crosses from a runtime thread) and exits; every run must end with status 0.
"""

from __future__ import annotations

import subprocess
import sys

from conftest import KEK

RUNS = 20

SCRIPT = """
import asyncio, sys
import tessera

async def main():
    t = await tessera.AsyncTessera.open(
        "sqlite://" + sys.argv[1], key_encryption_key=sys.argv[2], password_hashing="fast"
    )
    await t.sign_up(sys.argv[3] + "@example.com", "correct horse battery staple")
    # Leave work in flight at exit too: its answer must be dropped quietly.
    asyncio.ensure_future(t.list_users())

asyncio.run(main())
"""


def test_exit_after_asyncio_run_is_clean(tmp_path):
    db = tmp_path / "exit.db"
    for i in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(db), KEK, f"exit{i}"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (i, done.returncode, done.stderr[-2000:])
