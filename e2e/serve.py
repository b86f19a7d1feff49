"""Start the real `tessera serve` ($TESSERA_BIN) on a SQLite file for the
standard-library scripts of the end-to-end suite (schemathesis/run.py,
timing/timing.py), which run outside pytest and its fixtures (conftest.py).
One copy of the settings they share: loopback, a host-name base URL (passkeys
need a domain as RP id), development mode, rate limits off, an admin key."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    finally:
        conn.close()


def start_server(workdir: Path, db_name: str, admin_key: str, extra_env: dict | None = None) -> tuple[subprocess.Popen, int]:
    """`tessera serve` on `workdir/db_name`, healthy; its process and port.
    Exits the script (with the server's log) if it does not come up."""
    binary = os.environ.get("TESSERA_BIN")
    if not binary:
        sys.exit("TESSERA_BIN must point at the tessera binary (scripts/test-all.sh sets it)")
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TESSERA_DATABASE_URL": f"sqlite://{workdir / db_name}",
        "TESSERA_LISTEN": f"127.0.0.1:{port}",
        "TESSERA_BASE_URL": f"http://localhost:{port}",
        "TESSERA_ADMIN_API_KEY": admin_key,
        "TESSERA_RATE_LIMITS": "off",
        "TESSERA_DEV": "1",
        **(extra_env or {}),
    }
    log = open(workdir / "server.log", "w")
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if healthy(port):
                return proc, port
        except OSError:
            pass
        if proc.poll() is not None:
            sys.exit(f"tessera serve exited: {(workdir / 'server.log').read_text()}")
        time.sleep(0.1)
    proc.terminate()
    sys.exit("tessera serve did not become healthy")
