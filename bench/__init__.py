"""Benchmarks: each bench/*_bench.py module has run() -> dict; `python -m bench` runs them all."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

if TYPE_CHECKING:
    from bot.store import Store
    from tests.postgres import PostgresServer


def throwaway_postgres() -> PostgresServer | str:
    """A private PostgreSQL server to start and destroy, or why there is none (BENCH_POSTGRES=0)."""
    from tests.postgres import PostgresMissing, PostgresServer

    if os.environ.get("BENCH_POSTGRES", "1") == "0":
        return "BENCH_POSTGRES=0"
    try:
        return PostgresServer.create()
    except PostgresMissing as missing:
        return str(missing)


class Transactions:
    """Database transactions begun on a store's engine while counting (SQLAlchemy's begin)."""

    def __init__(self) -> None:
        self.count = 0
        self.counting = True

    def _begun(self, _connection: Any) -> None:
        self.count += self.counting

    def per(self, turns: int) -> float:
        return round(self.count / max(1, turns), 2)


@contextmanager
def transactions(store: Store) -> Iterator[Transactions]:
    """Count the transactions begun on this store inside the block.

    The listener stays (and stops counting): removing it while the bot still works could cut
    into a BEGIN in flight, as the store's own begin listener awaits the driver midway.
    """
    counted = Transactions()
    event.listen(store.engine.sync_engine, "begin", counted._begun)
    try:
        yield counted
    finally:
        counted.counting = False
