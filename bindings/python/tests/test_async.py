"""AsyncTessera: the same flows as awaitables, from many tasks at once."""

from __future__ import annotations

import asyncio
import time

import pytest

import tessera
from conftest import KEK, PASSWORD, email


def run(coro):
    return asyncio.run(coro)


async def open_async(url: str, **kw) -> tessera.AsyncTessera:
    kw.setdefault("password_hashing", "fast")
    return await tessera.AsyncTessera.open(url, key_encryption_key=KEK, **kw)


def test_async_flow(url: str):
    async def main():
        t = await open_async(url)
        assert isinstance(t, tessera.AsyncTessera)
        e = email()
        signed_up = await t.sign_up(e, PASSWORD)
        s = await t.sign_in_password(e, PASSWORD)
        assert s.user.id == signed_up.user.id
        info = await t.validate_session(s.session_token)
        assert info.session.id == s.session.id
        b = await t.refresh(s.refresh_token)
        c = await t.refresh(b.refresh_token)
        assert (await t.validate_access_token(c.access_token)).user.email == e
        with pytest.raises(tessera.RefreshTokenReused) as exc:
            await t.refresh(s.refresh_token)
        assert exc.value.code == "refresh_token_reused"
        with pytest.raises(tessera.SessionExpired):
            await t.validate_session(s.session_token)
        with pytest.raises(tessera.InvalidCredentials) as wrong:
            await t.sign_in_password(e, "not the password at all")
        assert wrong.value.code == "invalid_credentials"
        assert (await t.default_app()).slug == "default"
        assert (await t.get_user(s.user.id)).email == e
        assert [ev.type for ev in await t.list_audit_events(user_id=s.user.id, type="user.signed_up")] == [
            "user.signed_up"
        ]
        assert (await t.jwks())["keys"]

    run(main())


def test_gather_20_sign_ins(url: str):
    async def main():
        t = await open_async(url)
        # Four accounts, five sign-ins each: at most five attempts per account
        # may be in flight at once (the sign-in backoff reserves each attempt
        # before the password is checked, so parallel guesses cannot skip it).
        emails = [email() for _ in range(4)]
        for e in emails:
            await t.sign_up(e, PASSWORD)
        sessions = await asyncio.gather(
            *(t.sign_in_password(e, PASSWORD) for e in emails for _ in range(5))
        )
        assert len({s.session.id for s in sessions}) == 20
        checked = await asyncio.gather(*(t.validate_session(s.session_token) for s in sessions))
        assert [c.session.id for c in checked] == [s.session.id for s in sessions]
        for i in range(4):
            assert len(await t.list_sessions(sessions[5 * i].user.id)) == 6

    run(main())


def test_gather_mixes_results_and_errors(memory: tessera.Tessera):
    async def main():
        t = memory.to_async()
        e = email()
        await t.sign_up(e, PASSWORD)
        results = await asyncio.gather(
            t.sign_in_password(e, PASSWORD),
            t.sign_in_password(email(), PASSWORD),
            t.validate_session("tss_nope"),
            return_exceptions=True,
        )
        assert isinstance(results[0], tessera.AuthSession)
        assert isinstance(results[1], tessera.InvalidCredentials)
        assert isinstance(results[2], tessera.Unauthenticated)

    run(main())


def test_sync_and_async_share_one_core(memory: tessera.Tessera):
    async def main():
        t = memory.to_async()
        assert repr(t).startswith("AsyncTessera(backend='memory'")
        s = await t.sign_up(email(), PASSWORD)
        return s

    s = run(main())
    assert memory.validate_session(s.session_token).user.id == s.user.id
    assert isinstance(memory.to_async().to_sync(), tessera.Tessera)


def test_needs_a_running_loop(memory: tessera.Tessera):
    with pytest.raises(RuntimeError):
        memory.to_async().default_app()


def test_cancelled_calls_do_not_break_the_loop():
    async def main():
        # Default argon2 parameters: the sign-in is surely still running when
        # it is cancelled.
        t = await tessera.AsyncTessera.open("memory://", key_encryption_key=KEK)
        e = email()
        await t.sign_up(e, PASSWORD)
        fut = t.sign_in_password(e, PASSWORD)
        assert not fut.done()
        fut.cancel()
        with pytest.raises(asyncio.CancelledError):
            await fut
        await asyncio.sleep(0.3)  # the Rust task finishes and finds the future done
        assert (await t.sign_in_password(e, PASSWORD)).user.email == e
        # A timeout around a call is a cancellation too.
        await asyncio.wait_for(t.default_app(), timeout=5)

    run(main())


def test_work_runs_off_the_event_loop():
    """While a real (default-parameter) argon2 hash is awaited, the loop keeps
    running other tasks."""

    async def main():
        t = await tessera.AsyncTessera.open("memory://", key_encryption_key=KEK)
        ticks = 0
        stop = False

        async def ticker():
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.ensure_future(ticker())
        await asyncio.sleep(0)
        start = time.perf_counter()
        await t.sign_up(email(), PASSWORD)
        elapsed = time.perf_counter() - start
        stop = True
        await task
        return ticks, elapsed

    ticks, elapsed = run(main())
    assert elapsed > 0.005, "a default argon2id hash takes milliseconds"
    assert ticks > 100, f"the event loop ran only {ticks} times in {elapsed:.3f}s"


def test_many_loops_one_after_another(memory: tessera.Tessera):
    # Each asyncio.run has a new loop; futures bind to the running one.
    for _ in range(3):
        app = run(_default_app(memory))
        assert app.slug == "default"


async def _default_app(t: tessera.Tessera):
    return await t.to_async().default_app()
