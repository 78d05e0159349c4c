"""Fixtures shared by the whole suite: databases, clock, store."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.base.clock import FixedClock
from bot.store import Store, open_store
from nlu import NLU
from nlu.service import NLUService, load_nlu, start_service
from tests.postgres import PostgresMissing, PostgresServer

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

# Shared fixtures and helpers; helpers are imported from these modules, never from a conftest.py.
pytest_plugins = [
    "tests.plugins.chat",
    "tests.plugins.desk",
    "tests.plugins.keys",
    "tests.plugins.rasa",
    "tests.plugins.telegram",
]

_databases = itertools.count(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked long run under CI (which runs everything) or when LONG_TESTS=1."""
    if os.environ.get("CI") == "true" or os.environ.get("LONG_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="long: runs under CI=true or LONG_TESTS=1")
    for item in items:
        if item.get_closest_marker("long"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the session; skipped only outside CI."""
    try:
        server = PostgresServer.create()
    except PostgresMissing as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}: PostgreSQL tests must run under CI")
        pytest.skip(str(missing))
    server.start()
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def nlu_service() -> Iterator[NLUService]:
    """The real NLU service with the trained model, started once for the whole session."""
    loop = asyncio.new_event_loop()
    service = loop.run_until_complete(start_service())
    yield service
    loop.run_until_complete(service.stop())
    loop.close()


@pytest.fixture
async def nlu_model(nlu_service: NLUService) -> AsyncIterator[NLU]:
    """The real NLU, over HTTP to the session's service (a client per test's event loop)."""
    nlu = await load_nlu(remote_url=nlu_service.url, token=nlu_service.token)
    yield nlu
    await nlu.aclose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a fresh database on the throwaway server."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'weerbaar.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"test_{os.getpid()}_{next(_databases)}")


@pytest.fixture
def clock() -> FixedClock:
    """Sunday 29 November 2026, 15:00 in Amsterdam."""
    return FixedClock(datetime(2026, 11, 29, 14, 0, tzinfo=timezone.utc))


@pytest.fixture
async def store(database_url: str, clock: FixedClock) -> AsyncIterator[Store]:
    store = await open_store(database_url, clock)
    yield store
    await store.close()
