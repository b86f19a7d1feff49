#!/usr/bin/env python3
"""Timing suite (issue 15): do the enumeration-sensitive routes answer a known
and an unknown address in the same time?

Runs the real `tessera serve` ($TESSERA_BIN) on SQLite and, for each route,
alternates requests for addresses that have an account and addresses that do
not (known first on even rounds, unknown first on odd ones), timing each
answer on one kept-alive connection. The routes: password sign-in (wrong
password), sign-up on an app that requires a verified email, reset send, code
send, magic-link send, passkey sign-in start with an email, and "after reset
send": the request that follows a reset send (the deferred work of a send for
a known address used to compete with it for SQLite).

It prints a table (medians, ratio known/unknown, Mann-Whitney U p-value) and
fails only on a large, significant difference (ratio off by more than
TIMING_MAX_RATIO_DIFF, default 0.10, with p below TIMING_ALPHA, default
0.001) and only when the machine is quiet (1-minute load average per core
below TIMING_MAX_LOAD, default 0.5); otherwise it prints "machine loaded:
reported, not asserted". TIMING_SAMPLES (default 200) is the number of
requests per side and route: with the spread of these routes that detects a
5 % shift of the median. Standard library only.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from serve import start_server  # noqa: E402 (e2e/serve.py, beside this folder)

ADMIN_KEY = "tsk_TimingTimingTimingTimingTimingTimingTiming1"
PASSWORD = "correct horse battery staple 42"
WRONG = "not the password at all 42"



class Client:
    """One kept-alive HTTP/1.1 connection; `post` answers (status, seconds)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        h = {"content-type": "application/json", **(headers or {})}
        for attempt in range(2):
            try:
                start = time.perf_counter()
                self.conn.request(method, path, body=data, headers=h)
                resp = self.conn.getresponse()
                payload = resp.read()
                return resp.status, time.perf_counter() - start, payload
            except (http.client.HTTPException, OSError):
                # The server closed an idle connection: open a new one.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def post(self, path: str, body: dict, headers: dict | None = None) -> tuple[int, float]:
        status, secs, _ = self.request("POST", path, body, headers)
        return status, secs


def mann_whitney(a: list[float], b: list[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (normal approximation,
    tie-corrected): fine for the hundreds of samples used here."""
    n1, n2 = len(a), len(b)
    pooled = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(pooled)
    ties = 0.0
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        rank = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[k] = rank
        t = j - i + 1
        ties += t**3 - t
        i = j + 1
    r1 = sum(r for r, (_, side) in zip(ranks, pooled) if side == 0)
    u = r1 - n1 * (n1 + 1) / 2
    n = n1 + n2
    mean = n1 * n2 / 2
    var = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        return 1.0
    z = (abs(u - mean) - 0.5) / math.sqrt(var)
    return math.erfc(max(z, 0) / math.sqrt(2))


def median(v: list[float]) -> float:
    s = sorted(v)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2



def main() -> int:
    samples = int(os.environ.get("TIMING_SAMPLES", "200"))
    alpha = float(os.environ.get("TIMING_ALPHA", "0.001"))
    max_diff = float(os.environ.get("TIMING_MAX_RATIO_DIFF", "0.10"))
    max_load = float(os.environ.get("TIMING_MAX_LOAD", "0.5"))
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(Path(tmp), "timing.db", ADMIN_KEY)
        try:
            rows = measure(Client(port), samples)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    quiet = load < max_load
    print(f"\ntiming: {samples} requests per side and route, {time.monotonic() - began:.0f} s")
    print(f"{'route':<34}{'known ms':>10}{'unknown ms':>12}{'ratio':>8}{'p':>11}  verdict")
    failed = []
    for name, known, unknown in rows:
        mk, mu = median(known), median(unknown)
        ratio = mk / mu if mu else float("nan")
        p = mann_whitney(known, unknown)
        large = p < alpha and abs(ratio - 1) > max_diff
        verdict = "DIFFERENT" if large else ("significant, small" if p < alpha else "same")
        print(f"{name:<34}{mk * 1000:>10.3f}{mu * 1000:>12.3f}{ratio:>8.3f}{p:>11.2e}  {verdict}")
        if large:
            failed.append(name)
    if not quiet:
        print(f"machine loaded (load per core {load:.2f} >= {max_load}): reported, not asserted")
        return 0
    if failed:
        print(f"FAILED: known and unknown addresses differ in time on: {', '.join(failed)}")
        return 1
    print(f"machine quiet (load per core {load:.2f}): no large, significant difference")
    return 0


def measure(c: Client, n: int) -> list[tuple[str, list[float], list[float]]]:
    # Accounts: each known address is used at most four times by the five
    # sending routes (the per-address limit is five messages an hour) and
    # once by the wrong-password sign-in (the backoff starts after five).
    accounts = max(n, (5 * n + 3) // 4)
    known = [f"known{i}@example.com" for i in range(accounts)]
    for email in known:
        status, _ = c.post("/v1/sign-up", {"email": email, "password": PASSWORD})
        assert status == 201, (email, status)
    admin = {"authorization": f"Bearer {ADMIN_KEY}"}
    status, _, body = c.request("POST", "/v1/admin/apps", {"slug": "verifying", "name": "Verifying"}, admin)
    assert status in (200, 201), (status, body)
    status, _, body = c.request("PATCH", "/v1/admin/apps/verifying", {"require_verified_email": True}, admin)
    assert status == 200, (status, body)
    verifying = {"x-tessera-app": "verifying"}
    unknown_seq = iter(range(10**9))

    def unknown() -> str:
        return f"nobody{next(unknown_seq)}@example.com"

    uses = {e: 0 for e in known}
    cursor = {"i": 0}

    def known_for_send() -> str:
        # Round-robin over the accounts, each at most four sends.
        while True:
            e = known[cursor["i"] % len(known)]
            cursor["i"] += 1
            if uses[e] < 4:
                uses[e] += 1
                return e

    routes = [
        ("sign-in (wrong password)", "/v1/sign-in/password", lambda e: {"email": e, "password": WRONG}, {}, {401}),
        ("sign-up, verifying app", "/v1/sign-up", lambda e: {"email": e, "password": PASSWORD}, verifying, {202}),
        ("reset send", "/v1/password/reset/send", lambda e: {"email": e}, {}, {202}),
        ("code send", "/v1/sign-in/code/send", lambda e: {"email": e}, {}, {202}),
        ("magic-link send", "/v1/sign-in/magic-link/send", lambda e: {"email": e}, {}, {202}),
        ("passkey start (email)", "/v1/sign-in/passkey/start", lambda e: {"email": e}, {}, {200}),
    ]
    rows = []
    for name, path, body, headers, ok in routes:
        k_times: list[float] = []
        u_times: list[float] = []
        signin_known = iter(known)
        for i in range(n):
            sends = path != "/v1/sign-in/password" and "passkey" not in path
            k_addr = known_for_send() if sends else next(signin_known)
            pair = [(k_addr, k_times), (unknown(), u_times)]
            if i % 2:
                pair.reverse()
            for addr, times in pair:
                status, secs = c.post(path, body(addr), headers)
                assert status in ok, (name, addr, status)
                times.append(secs)
        rows.append((name, k_times, u_times))
    # The request right after a reset send: the same request (a reset send
    # to a fresh unknown address) follows a send to a known or unknown one.
    k_times, u_times = [], []
    for i in range(n):
        pair = [(known_for_send(), k_times), (unknown(), u_times)]
        if i % 2:
            pair.reverse()
        for addr, times in pair:
            c.post("/v1/password/reset/send", {"email": addr})
            status, secs = c.post("/v1/password/reset/send", {"email": unknown()})
            assert status == 202, status
            times.append(secs)
    rows.append(("after reset send", k_times, u_times))
    return rows


if __name__ == "__main__":
    sys.exit(main())
