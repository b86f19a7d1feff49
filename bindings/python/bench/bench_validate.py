"""Session validations per second from Python vs the same call in Rust, in one run.

Run with (after ``pip install ./bindings/python``)::

    python bindings/python/bench/bench_validate.py [--url memory://] [-n 100000] [--repeat 5]

Every row validates the same session token on the same store and runtime:

* ``rust loop``: one Rust task awaits ``sessions().validate`` n times (what a
  Rust service pays);
* ``rust block_on``: n separate ``block_on`` calls from Rust (what a blocking
  Python call does, minus Python);
* ``python sync``: ``Tessera.validate_session`` n times from Python;
* ``python asyncio``: ``await AsyncTessera.validate_session`` n times in a row
  (each a thread hop to the runtime and back to the loop);
* ``python asyncio x64``: the same with 64 awaits in flight at once.

The binding's overhead is ``python sync`` minus ``rust block_on`` (argument
parsing, detaching and re-attaching the GIL, building the result objects), and
``python sync`` minus ``rust loop`` for the whole cost of crossing from Python.
Best of ``--repeat`` runs; the machine is shared, so single runs are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import time
from typing import Callable, List, Tuple

import tessera
from tessera import _tessera


def best(repeat: int, run: Callable[[], float]) -> float:
    return min(run() for _ in range(repeat))


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="memory://")
    p.add_argument("-n", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = p.parse_args()
    n, repeat = args.n, args.repeat

    t = tessera.Tessera.open(args.url, key_encryption_key=tessera.generate_key(), password_hashing="fast")
    token = t.sign_up("bench@example.com", "correct horse battery staple").session_token
    assert token is not None
    validate = t.validate_session
    for _ in range(1000):  # warm up caches and the runtime
        validate(token)

    def python_sync() -> float:
        def loop() -> None:
            for _ in range(n):
                validate(token)

        return timed(loop)

    at = t.to_async()

    def python_async() -> float:
        async def loop() -> None:
            for _ in range(n_async):
                await at.validate_session(token)

        return timed(lambda: asyncio.run(loop()))

    def python_async_concurrent() -> float:
        async def loop() -> None:
            width = 64
            for _ in range(n_async // width):
                await asyncio.gather(*(at.validate_session(token) for _ in range(width)))

        return timed(lambda: asyncio.run(loop()))

    n_async = max(64, n // 10)
    rows: List[Tuple[str, int, float]] = [
        ("rust loop", n, best(repeat, lambda: _tessera._bench_validate_session(t, token, n, False))),
        ("rust block_on", n, best(repeat, lambda: _tessera._bench_validate_session(t, token, n, True))),
        ("python sync", n, best(repeat, python_sync)),
        ("python asyncio", n_async, best(repeat, python_async)),
        ("python asyncio x64", n_async // 64 * 64, best(repeat, python_async_concurrent)),
    ]
    per_call = {name: secs / count * 1e6 for name, count, secs in rows}
    env = f"{t.backend}, Python {platform.python_version()}, tessera {tessera.__version__}"
    if args.markdown:
        print(f"Session validations ({env}), best of {repeat}:\n")
        print("| path | calls | µs per call | validations/s |")
        print("|---|---:|---:|---:|")
        for name, count, secs in rows:
            print(f"| {name} | {count} | {secs / count * 1e6:.2f} | {count / secs:,.0f} |")
    else:
        print(f"session validations ({env}), best of {repeat}")
        for name, count, secs in rows:
            print(f"  {name:<20} {secs / count * 1e6:8.2f} µs/call  {count / secs:>12,.0f} /s")
    print()
    print(
        f"binding overhead: {per_call['python sync'] - per_call['rust block_on']:.2f} µs/call over the "
        f"same block_on from Rust; {per_call['python sync'] - per_call['rust loop']:.2f} µs/call over "
        f"the Rust loop"
    )


if __name__ == "__main__":
    main()
