"""JWKS caching: fetched once, refetched on an unknown kid, at most once per cooldown."""

from __future__ import annotations

import asyncio

import pytest

from tessera_sdk import InvalidTokenType, JwksError, UnknownKey, Verifier

from conftest import FakeClock, SigningKey, access_claims

JWKS = "/.well-known/jwks.json"
APP = "app-1"
NOW = 1_900_000_000.0


def setup(server, *keys: SigningKey):
    state = {"keys": list(keys)}
    server.route("GET", JWKS, lambda _r: (200, {"keys": [k.jwk for k in state["keys"]]}))
    clock = FakeClock(NOW)
    verifier = Verifier(server.url, APP, clock=clock, refetch_cooldown=30)
    return verifier, clock, state


def test_second_verify_uses_the_cache(server) -> None:
    k1 = SigningKey("k1")
    verifier, _, _ = setup(server, k1)
    token = k1.sign(access_claims(server.url, APP, NOW))
    assert verifier.verify(token).sub == "user-1"
    assert verifier.verify(token).sub == "user-1"
    assert server.count("GET", JWKS) == 1


def test_unknown_kid_refetches_once_then_cooldown(server) -> None:
    k1, k2, k3 = SigningKey("k1"), SigningKey("k2"), SigningKey("k3")
    verifier, clock, state = setup(server, k1)
    verifier.verify(k1.sign(access_claims(server.url, APP, NOW)))
    assert server.count("GET", JWKS) == 1

    # Rotation: k2 is published; a token with k2 triggers one refetch and verifies.
    state["keys"].append(k2)
    clock.now += 1
    assert verifier.verify(k2.sign(access_claims(server.url, APP, NOW))).sub == "user-1"
    assert server.count("GET", JWKS) == 2

    # Another unknown kid within the cooldown: rejected without a fetch.
    state["keys"].append(k3)
    clock.now += 10
    token3 = k3.sign(access_claims(server.url, APP, NOW))
    with pytest.raises(UnknownKey):
        verifier.verify(token3)
    with pytest.raises(UnknownKey):
        verifier.verify(token3)
    assert server.count("GET", JWKS) == 2

    # After the cooldown, the next unknown kid may refetch again.
    clock.now += 30
    assert verifier.verify(token3).sub == "user-1"
    assert server.count("GET", JWKS) == 3


def test_garbage_kids_cannot_hammer_the_server(server) -> None:
    k1, ghost = SigningKey("k1"), SigningKey("ghost")
    verifier, clock, _ = setup(server, k1)
    verifier.verify(k1.sign(access_claims(server.url, APP, NOW)))
    for i in range(20):
        clock.now += 1
        assert verifier.verify_or_none(ghost.sign(access_claims(server.url, APP, NOW))) is None
    # One refetch at the first unknown kid, one more after 30 s of cooldown.
    assert server.count("GET", JWKS) == 1 + 1


def test_async_path_shares_the_cache_and_cooldown(server) -> None:
    k1, k2, k3 = SigningKey("k1"), SigningKey("k2"), SigningKey("k3")
    verifier, clock, state = setup(server, k1)

    async def run() -> None:
        await verifier.verify_async(k1.sign(access_claims(server.url, APP, NOW)))
        await verifier.verify_async(k1.sign(access_claims(server.url, APP, NOW)))
        assert server.count("GET", JWKS) == 1
        state["keys"] += [k2, k3]
        await verifier.verify_async(k2.sign(access_claims(server.url, APP, NOW)))
        assert server.count("GET", JWKS) == 2
        # k3 was fetched along with k2: no fetch needed.
        await verifier.verify_async(k3.sign(access_claims(server.url, APP, NOW)))
        assert server.count("GET", JWKS) == 2
        with pytest.raises(UnknownKey):
            await verifier.verify_async(SigningKey("k4").sign(access_claims(server.url, APP, NOW)))
        assert server.count("GET", JWKS) == 2  # cooldown since the k2 refetch

    asyncio.run(run())


def test_concurrent_first_verifies_share_one_fetch(server) -> None:
    import threading

    k1 = SigningKey("k1")
    verifier, _, _ = setup(server, k1)
    token = k1.sign(access_claims(server.url, APP, NOW))

    async def run() -> None:
        await asyncio.gather(*(verifier.verify_async(token) for _ in range(10)))

    asyncio.run(run())
    assert server.count("GET", JWKS) == 1

    verifier2, _, _ = setup(server, k1)
    threads = [threading.Thread(target=verifier2.verify, args=(token,)) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.count("GET", JWKS) == 2


def test_cache_expires_after_max_age(server) -> None:
    k1 = SigningKey("k1")
    server.json("GET", JWKS, {"keys": [k1.jwk]})
    clock = FakeClock(NOW)
    verifier = Verifier(server.url, APP, clock=clock, jwks_max_age=600)
    token = k1.sign(access_claims(server.url, APP, NOW, exp=int(NOW) + 10_000))
    verifier.verify(token)
    clock.now += 601
    verifier.verify(token)
    assert server.count("GET", JWKS) == 2


def test_unreachable_jwks_is_an_outage_not_an_anonymous_caller(server) -> None:
    k1 = SigningKey("k1")
    server.json("GET", JWKS, {"error": {"code": "internal", "message": "boom"}}, status=500)
    verifier = Verifier(server.url, APP, clock=FakeClock(NOW))
    token = k1.sign(access_claims(server.url, APP, NOW))
    with pytest.raises(JwksError):
        verifier.verify(token)
    # A failed first load is retried only after a short backoff.
    with pytest.raises(JwksError):
        verifier.verify_or_none(token)
    assert server.count("GET", JWKS) == 1


def test_failed_refresh_keeps_the_keys_we_have(server) -> None:
    k1 = SigningKey("k1")
    verifier, clock, _ = setup(server, k1)
    token = k1.sign(access_claims(server.url, APP, NOW, exp=int(NOW) + 100_000))
    verifier.verify(token)
    server.json("GET", JWKS, {"error": {"code": "internal", "message": "boom"}}, status=500)
    clock.now += 3601
    assert verifier.verify(token).sub == "user-1"
    assert verifier.verify(token).sub == "user-1"
    assert server.count("GET", JWKS) == 2  # no retry on every call during the outage


def test_id_tokens_are_not_access_tokens(server) -> None:
    k1 = SigningKey("k1")
    verifier, _, _ = setup(server, k1)
    with pytest.raises(InvalidTokenType):
        verifier.verify(k1.sign(access_claims(server.url, APP, NOW), typ="JWT"))
    assert verifier.verify(k1.sign(access_claims(server.url, APP, NOW), typ="application/at+jwt"))


def test_audience_list_containing_the_app_is_accepted(server) -> None:
    k1 = SigningKey("k1")
    verifier, _, _ = setup(server, k1)
    claims = verifier.verify(k1.sign(access_claims(server.url, APP, NOW, aud=["other", APP])))
    assert claims.aud == ["other", APP]
