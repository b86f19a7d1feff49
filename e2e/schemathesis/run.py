#!/usr/bin/env python3
"""API fuzzing of the real binary with schemathesis (issue 15).

Starts `tessera serve` ($TESSERA_BIN) on a temporary SQLite file in
development mode, with a bootstrapped admin key and the HTTP rate limits off
(`TESSERA_RATE_LIMITS=off`, the documented setting for load tests from one
address; the password backoff stays, and every route that can answer 429
documents it). It signs a user up, then runs schemathesis against
`/v1/openapi.json` twice: once as that user (`Authorization: Bearer` with
the access token) and once as an admin (the admin key), with the checks
not_a_server_error, status_code_conformance, content_type_conformance and
response_schema_conformance. Any failure fails the part. The one 5xx
accepted is 502 `provider_error` from the OAuth routes, once an admin run has
configured a provider that cannot be reached (schemathesis.toml).

SCHEMATHESIS_MAX_EXAMPLES (default 25) bounds the examples per operation and
phase; SCHEMATHESIS_SEED fixes the seed (a random one is printed otherwise).
Deeper runs: see docs/security.md, "API fuzzing".
"""

from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from serve import start_server  # noqa: E402 (e2e/serve.py, beside this folder)

ADMIN_KEY = "tsk_SchemathesisSchemathesisSchemathesisSchema1"
PASSWORD = "correct horse battery staple 42"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)



def request(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"content-type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()



def schemathesis(port: int, who: str, token: str, workdir: Path, seed: int) -> int:
    examples = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25")
    cmd = [
        str(HERE / ".venv" / "bin" / "python"),
        str(HERE / "st.py"),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"http://127.0.0.1:{port}/v1/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        examples,
        "--seed",
        str(seed),
        "--phases",
        os.environ.get("SCHEMATHESIS_PHASES", "examples,coverage,fuzzing"),
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--warnings",
        "off",
        "-H",
        f"Authorization: Bearer {token}",
        "--report",
        "junit",
        "--report-junit-path",
        str(workdir / f"{who}.xml"),
    ]
    print(f"=== schemathesis as {who} (max {examples} examples per operation, seed {seed})", flush=True)
    started = time.monotonic()
    # In the temporary directory: schemathesis keeps its example database in
    # ./.schemathesis.
    code = subprocess.call(cmd, cwd=workdir)
    print(f"=== schemathesis as {who}: exit {code} in {time.monotonic() - started:.0f} s", flush=True)
    return code


def main() -> int:
    seed = int(os.environ.get("SCHEMATHESIS_SEED") or random.randrange(1, 2**31))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        proc, port = start_server(workdir, "schemathesis.db", ADMIN_KEY, {"RUST_LOG": "warn"})
        try:
            status, body = request(port, "POST", "/v1/sign-up", {"email": "fuzz@example.com", "password": PASSWORD})
            assert status == 201, (status, body)
            user_token = json.loads(body)["access_token"]
            failed = []
            if schemathesis(port, "user", user_token, workdir, seed):
                failed.append("user")
            if schemathesis(port, "admin", ADMIN_KEY, workdir, seed):
                failed.append("admin")
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            if proc.returncode not in (0, -15):
                print((workdir / "server.log").read_text())
        if failed:
            print(f"schemathesis: failures as {', '.join(failed)} (seed {seed}; rerun with SCHEMATHESIS_SEED={seed})")
            return 1
        print("schemathesis: no failures as user and as admin")
        return 0


if __name__ == "__main__":
    sys.exit(main())
