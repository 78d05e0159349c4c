"""Telling an outage (a dependency away: wait and retry) from a message that fails on its own."""

from __future__ import annotations

import asyncio

import aiohttp
import asyncpg
from sqlalchemy import exc, text

from bot.store import Store
from nlu import NLUUnavailable

PROBE_SECONDS = 5.0

# Errors that say something cannot be reached now, whatever the message was.
UNAVAILABLE = (
    OSError,  # connection refused, reset, no route
    asyncio.TimeoutError,
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,  # no connection free in the pool
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,  # the server shuts down or is starting
    asyncpg.InterfaceError,  # the connection was closed under us
    aiohttp.ClientConnectionError,
    NLUUnavailable,
)


def unavailable(error: BaseException) -> bool:
    """Whether the error, or one it came from, says a dependency is unavailable."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, UNAVAILABLE):
            return True
        if isinstance(current, exc.DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


async def reachable(store: Store) -> bool:
    """Whether the store answers a trivial query now."""
    try:
        async with store.session() as session:
            await asyncio.wait_for(session.execute(text("SELECT 1")), PROBE_SECONDS)
    except Exception:
        return False
    return True
