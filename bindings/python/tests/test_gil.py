"""The GIL is released while Rust works: a Python thread keeps counting
while a real argon2id hash (OWASP default parameters) runs in Rust."""

from __future__ import annotations

import threading
import time

import tessera
from conftest import KEK, PASSWORD, email


def count_during(call) -> "tuple[int, float]":
    """How far a busy Python thread counts while `call()` runs on this one."""
    counter = 0
    stop = threading.Event()
    started = threading.Event()

    def spin():
        nonlocal counter
        started.set()
        while not stop.is_set():
            counter += 1

    worker = threading.Thread(target=spin)
    worker.start()
    started.wait()
    before = counter
    start = time.perf_counter()
    call()
    elapsed = time.perf_counter() - start
    during = counter - before
    stop.set()
    worker.join()
    return during, elapsed


def test_gil_is_released_during_a_default_argon2_hash():
    t = tessera.Tessera.open("memory://", key_encryption_key=KEK)  # default parameters
    e = email()
    during, elapsed = count_during(lambda: t.sign_up(e, PASSWORD))
    # A default argon2id hash takes tens of milliseconds; had the GIL been
    # held, the counting thread would have been frozen for all of it.
    assert elapsed > 0.005, f"sign-up took {elapsed * 1000:.1f} ms: not a real hash?"
    assert during > 1000, f"the Python thread counted only {during} in {elapsed * 1000:.1f} ms"

    during, elapsed = count_during(lambda: t.sign_in_password(e, PASSWORD))
    assert during > 1000, f"the Python thread counted only {during} in {elapsed * 1000:.1f} ms"


def test_blocking_calls_from_many_threads():
    t = tessera.Tessera.open("memory://", key_encryption_key=KEK, password_hashing="fast")
    e = email()
    t.sign_up(e, PASSWORD)
    results: list = []
    lock = threading.Lock()

    def worker():
        s = t.sign_in_password(e, PASSWORD)
        info = t.validate_session(s.session_token)
        with lock:
            results.append(info.session.id)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(results)) == 8
