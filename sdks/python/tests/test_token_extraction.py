"""token_from_headers: bearer first, then the tessera_at cookie."""

from __future__ import annotations

from tessera_sdk import token_from_headers


def test_bearer_header() -> None:
    assert token_from_headers({"Authorization": "Bearer abc.def.ghi"}) == "abc.def.ghi"
    assert token_from_headers({"authorization": "bearer abc"}) == "abc"


def test_bearer_wins_over_cookie() -> None:
    headers = {"Authorization": "Bearer from-header", "Cookie": "tessera_at=from-cookie"}
    assert token_from_headers(headers) == "from-header"


def test_cookie_fallback() -> None:
    assert token_from_headers({"cookie": "a=1; tessera_at=tok; tessera_session=tss_x"}) == "tok"
    assert token_from_headers([("Cookie", "theme=dark"), ("Cookie", 'tessera_at="quoted"')]) == "quoted"


def test_other_schemes_fall_back_to_the_cookie() -> None:
    assert token_from_headers({"Authorization": "Basic dXNlcjpwdw==", "Cookie": "tessera_at=tok"}) == "tok"


def test_nothing() -> None:
    assert token_from_headers({}) is None
    assert token_from_headers({"Authorization": "Bearer "}) is None
    assert token_from_headers({"Cookie": "tessera_at="}) is None
    assert token_from_headers({"Cookie": "xtessera_at=tok"}) is None
