"""Every core error code has its exception class, exported from ``tessera``.

The table is ``sdks/testdata/error-codes.json``, generated from the core by
``http/tests/error_codes.rs``: a code the core adds fails here until
``tessera/errors.py`` has a class for it (with the same HTTP status) and
``tessera/__init__.py`` exports that class.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tessera
import tessera.errors

TABLE = json.loads(
    (Path(__file__).resolve().parents[3] / "sdks" / "testdata" / "error-codes.json").read_text()
)
CODES = TABLE["codes"]


def test_the_table_is_not_empty() -> None:
    assert len(CODES) >= 28
    assert {"invalid_credentials", "rate_limited", "internal_error"} <= {r["code"] for r in CODES}


@pytest.mark.parametrize("row", CODES, ids=[r["code"] for r in CODES])
def test_code_has_an_exported_exception(row: dict) -> None:
    code = row["code"]
    cls = tessera.errors.error_class(code)
    assert cls is not tessera.TesseraError, f"no exception class for {code}"
    assert cls.default_code == code
    assert cls.http_status == row["status"], f"{cls.__name__}.http_status"
    assert cls.__name__ in tessera.errors.__all__
    assert cls.__name__ in tessera.__all__
    assert getattr(tessera, cls.__name__) is cls
    err = tessera.errors._from_core(code, row["message"])
    assert type(err) is cls
    assert (err.code, err.message) == (code, row["message"])


def test_an_unknown_code_is_the_base_class() -> None:
    err = tessera.errors._from_core("a_code_from_the_future", "Later.")
    assert type(err) is tessera.TesseraError
    assert err.code == "a_code_from_the_future"
