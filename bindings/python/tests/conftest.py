"""Fixtures: a fresh Tessera per test on each backend.

Backends: ``memory://``; a SQLite file in ``tmp_path``; PostgreSQL from
``TESSERA_TEST_DATABASE_URL`` or the ``PG*`` variables ``pg_virtualenv``
exports, with a schema of its own per test. Without a server the Postgres
tests fail, unless ``TESSERA_SKIP_POSTGRES=1`` says to skip them.

Password hashing uses ``password_hashing="fast"`` (test-only parameters);
``test_gil.py`` and one sign-in test use the real default parameters.
"""

from __future__ import annotations

import os
import secrets
import uuid
from typing import Iterator, Optional
from urllib.parse import quote

import pytest

import tessera

KEK = tessera.generate_key()
PASSWORD = "correct horse battery staple"
BACKENDS = ["memory", "sqlite", "postgres"]


def postgres_url() -> Optional[str]:
    """The test server's URL, or None when there is none."""
    url = os.environ.get("TESSERA_TEST_DATABASE_URL")
    if url:
        return url
    host = os.environ.get("PGHOST")
    if not host:
        return None
    user = os.environ.get("PGUSER") or "postgres"
    password = os.environ.get("PGPASSWORD")
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    port = os.environ.get("PGPORT") or "5432"
    db = quote(os.environ.get("PGDATABASE") or user, safe="")
    if host.startswith("/"):
        return f"postgres://{auth}@localhost:{port}/{db}?host={quote(host, safe='')}"
    return f"postgres://{auth}@{host}:{port}/{db}"


def with_schema(url: str, schema: str) -> str:
    """``url`` with Tessera's Postgres schema set, so tests do not share tables."""
    return url + ("&" if "?" in url else "?") + "schema=" + schema


def store_url(backend: str, tmp_path) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite://{tmp_path / 'tessera.db'}"
    url = postgres_url()
    if url is None:
        if os.environ.get("TESSERA_SKIP_POSTGRES") == "1":
            pytest.skip("no PostgreSQL and TESSERA_SKIP_POSTGRES=1")
        pytest.fail(
            "no PostgreSQL for the tests: run under pg_virtualenv, set "
            "TESSERA_TEST_DATABASE_URL, or set TESSERA_SKIP_POSTGRES=1 to skip"
        )
    return with_schema(url, "py_" + secrets.token_hex(6))


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def url(backend: str, tmp_path) -> str:
    return store_url(backend, tmp_path)


@pytest.fixture
def t(url: str) -> Iterator[tessera.Tessera]:
    yield tessera.Tessera.open(url, key_encryption_key=KEK, password_hashing="fast")


@pytest.fixture
def memory() -> tessera.Tessera:
    """A memory-backed Tessera for tests that are about the binding, not the store."""
    return tessera.Tessera.open("memory://", key_encryption_key=KEK, password_hashing="fast")


def email() -> str:
    """An address no other test uses."""
    return f"user-{uuid.uuid4().hex[:12]}@example.com"
