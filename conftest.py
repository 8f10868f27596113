"""Fixtures for every test: a real nats-server per session, databases per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from grms_kit.testing import NatsServer, postgres_admin_url, temporary_postgres_database

TEST_SECRET = "test-secret-test-secret-test-secret-0123"
os.environ.setdefault("GRMS_AUTH_SECRET", TEST_SECRET)


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A real nats-server with JetStream (`sync_interval: always`) for the session."""
    server = NatsServer(tmp_path_factory.mktemp("nats")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_admin() -> str | None:
    """The reachable PostgreSQL, or None on a machine without one."""
    return postgres_admin_url()


def _database_params() -> list[str]:
    return ["sqlite", "postgresql"]


@pytest.fixture(params=_database_params())
def database_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_admin: str | None) -> Iterator[str]:
    """A fresh, empty database: SQLite in a temp dir, and PostgreSQL whenever reachable."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if postgres_admin is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have PostgreSQL at 127.0.0.1:5432")
        pytest.skip("PostgreSQL is not reachable here; the SQLite variant ran")
    with temporary_postgres_database(postgres_admin) as url:
        yield url
