"""Benchmarks: each bench/*_bench.py module has run() -> dict; `python -m bench` runs them all."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
