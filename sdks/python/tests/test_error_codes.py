"""The server-API error codes the SDK names are exactly the server's.

The table is ``sdks/testdata/error-codes.json``, generated from the server.
"""

from __future__ import annotations

from tessera_sdk import ApiCode

from conftest import load_vectors


def test_api_codes_match_the_server_table() -> None:
    table = load_vectors("error-codes.json")
    server = {row["code"] for row in table["codes"] + table["http_only"]}
    assert len(server) >= 30
    ours = [c.value for c in ApiCode]
    assert len(set(ours)) == len(ours), "a code is listed twice"
    assert sorted(server - set(ours)) == [], "missing from ApiCode"
    assert sorted(set(ours) - server) == [], "codes the server never answers"


def test_members_compare_equal_to_the_code_strings() -> None:
    assert ApiCode.EMAIL_TAKEN == "email_taken"
    assert ApiCode("rate_limited") is ApiCode.RATE_LIMITED
