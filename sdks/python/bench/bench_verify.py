"""Verifications per second: tessera_sdk.Verifier (warm JWKS cache) vs raw PyJWT.

Both verify the same token with the same key in the same run, so the gap is the
SDK's own overhead (header inspection, key lookup, claim checks, Claims object).
The JWKS is served through httpx.MockTransport: no network, fetched once.

    .venv/bin/python bench/bench_verify.py [seconds per algorithm and side, default 4]
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable, Dict, Tuple

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import tessera_sdk

ISSUER = "https://auth.example.test"
AUDIENCE = "01900000-0000-7000-8000-00000000a001"


def rate(fn: Callable[[], Any], seconds: float) -> float:
    for _ in range(200):  # warm up
        fn()
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(100):
            fn()
        n += 100
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def paired(a: Callable[[], Any], b: Callable[[], Any], seconds: float, rounds: int = 8) -> Tuple[float, float]:
    """Alternate short measurements of a and b; the best of each (robust to a busy machine)."""
    ra, rb = [], []
    for _ in range(rounds):
        ra.append(rate(a, seconds / rounds))
        rb.append(rate(b, seconds / rounds))
    return max(ra), max(rb)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
    keys = {
        "EdDSA": (ed25519.Ed25519PrivateKey.generate(), jwt.algorithms.OKPAlgorithm),
        "ES256": (ec.generate_private_key(ec.SECP256R1()), jwt.algorithms.ECAlgorithm),
        "RS256": (rsa.generate_private_key(public_exponent=65537, key_size=2048), jwt.algorithms.RSAAlgorithm),
    }
    jwks = {"keys": []}
    for alg, (private, algo) in keys.items():
        jwk: Dict[str, Any] = json.loads(algo.to_jwk(private.public_key()))
        jwks["keys"].append({**jwk, "kid": f"k-{alg}", "alg": alg, "use": "sig"})

    transport = httpx.MockTransport(lambda _req: httpx.Response(200, json=jwks))
    verifier = tessera_sdk.Verifier(ISSUER, AUDIENCE, http_client=httpx.Client(transport=transport))
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "client_id": AUDIENCE, "sub": "user-1", "sid": "s-1",
              "exp": now + 3600, "iat": now, "nbf": now, "jti": "j", "amr": ["pwd"], "roles": ["admin"]}

    print(f"python {sys.version.split()[0]}, PyJWT {jwt.__version__}, {seconds:.0f} s per algorithm and side "
          "(best of 8 alternating rounds)")
    print(f"{'alg':<6} {'tessera_sdk verify/s':>22} {'raw PyJWT decode/s':>20} {'ratio':>6}")
    for alg, (private, _) in keys.items():
        token = jwt.encode(claims, private, algorithm=alg, headers={"kid": f"k-{alg}", "typ": "at+jwt"})
        public = private.public_key()
        verifier.verify(token)  # warm the JWKS cache
        sdk, raw = paired(
            lambda: verifier.verify(token),
            lambda: jwt.decode(token, public, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER, leeway=30),
            seconds,
        )
        print(f"{alg:<6} {sdk:>22,.0f} {raw:>20,.0f} {sdk / raw:>6.2f}")
    assert verifier.jwks.fetch_count == 1, "the JWKS must be fetched once"


if __name__ == "__main__":
    main()
