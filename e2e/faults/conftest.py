"""Fixtures of the fault tests: a real SMTP server (the one of e2e/conftest.py)
that tests can stop and start, and one Postgres cluster for the session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import Smtp  # noqa: E402  (e2e/conftest.py: aiosmtpd on loopback)

from faults.harness import Postgres, free_port  # noqa: E402


@pytest.fixture
def mail():
    """An SMTP server on a fixed port; `.stop()` and `.start()` take it down and up."""
    s = Smtp(free_port())
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def postgres():
    """A Postgres cluster of our own, running; tests may stop and start it."""
    pg = Postgres()
    pg.start()
    yield pg
    pg.close()


_schemas = iter(range(1, 1_000_000))


@pytest.fixture
def pg_url(postgres):
    """A URL to a fresh schema on the session's cluster."""
    return postgres.url(f"faults_{next(_schemas)}")
