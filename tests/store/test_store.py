"""The case store on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.pool import AsyncAdaptedQueuePool, StaticPool

from bot.store import Case, CaseEvent, Reporter, Store, open_store
from bot.store.models import Base


async def test_reporter_is_created_once(store: Store) -> None:
    async with store.session() as session:
        first = await store.reporter(session, "local:anna")
        again = await store.reporter(session, "local:anna")
    assert first.id == again.id


async def test_case_gets_reference_and_timeline(store: Store) -> None:
    async with store.turn("local:anna") as turn:
        case = await store.create_case(turn.session, turn.reporter, kind="incident", story="x")
    assert case.ref == "WB-2026-0001"
    async with store.session() as session:
        loaded = await store.case_by_ref(session, "wb-2026-0001")
        assert loaded is not None
        assert [e.kind for e in loaded.events] == ["created"]
        assert loaded.created_at == datetime(2026, 11, 29, 14, 0, tzinfo=timezone.utc)


async def test_references_restart_each_year_and_are_never_reused(store: Store, clock) -> None:
    async with store.turn("local:anna") as turn:
        a = await store.create_case(turn.session, turn.reporter, kind="incident")
    # A rolled-back transaction may burn a number, but never hands one out twice.
    try:
        async with store.turn("local:anna") as turn:
            await store.create_case(turn.session, turn.reporter, kind="incident")
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    clock.set(datetime(2027, 1, 1, 0, 30, tzinfo=timezone.utc))
    async with store.turn("local:anna") as turn:
        b = await store.create_case(turn.session, turn.reporter, kind="incident")
    async with store.session() as session:
        refs = {c.ref for c in await store.cases(session)}
    assert a.ref == "WB-2026-0001"
    assert b.ref == "WB-2027-0001"
    assert refs == {a.ref, b.ref}


async def test_concurrent_writers_get_distinct_references(store: Store) -> None:
    async def write(n: int) -> str:
        async with store.turn(f"local:user{n % 20}") as turn:
            case = await store.create_case(turn.session, turn.reporter, kind="incident")
            return str(case.ref)

    refs = await asyncio.gather(*(write(n) for n in range(200)))
    assert len(set(refs)) == 200
    async with store.session() as session:
        assert len(await store.cases(session)) == 200


async def test_cases_of_one_reporter_newest_first(store: Store, clock) -> None:
    for user in ("local:anna", "local:bert", "local:anna"):
        async with store.turn(user) as turn:
            await store.create_case(turn.session, turn.reporter, kind="incident")
        clock.advance(timedelta(minutes=1))
    async with store.session() as session:
        anna = await store.reporter(session, "local:anna")
        own = await store.cases(session, anna.id)
    assert [c.ref for c in own] == ["WB-2026-0003", "WB-2026-0001"]


async def test_outbox_backs_off_and_delivers_once(store: Store, clock) -> None:
    async with store.turn("local:anna") as turn:
        case = await store.create_case(turn.session, turn.reporter, kind="support")
        await store.enqueue(turn.session, "support", {"text": "hulp"}, case_id=case.id)
    async with store.session() as session:
        (message,) = await store.due_outbox(session, "support")
        await store.mark_failed(session, message, "503")
    async with store.session() as session:
        assert await store.due_outbox(session, "support") == []
    clock.advance(timedelta(seconds=3))
    async with store.session() as session:
        (message,) = await store.due_outbox(session, "support")
        await store.mark_delivered(session, message)
    async with store.session() as session:
        assert await store.due_outbox(session, "support") == []


async def test_failed_turn_leaves_nothing(store: Store) -> None:
    try:
        async with store.turn("local:anna") as turn:
            await store.create_case(turn.session, turn.reporter, kind="incident")
            raise ValueError("boom")
    except ValueError:
        pass
    async with store.session() as session:
        assert (await session.execute(select(Case))).all() == []
        assert (await session.execute(select(CaseEvent))).all() == []


async def test_migrations_match_models(database_url: str, clock) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = await open_store(database_url, clock)
    await store.migrate()  # a second run is a no-op
    async with store.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await store.close()
    assert diff == []


async def test_a_reader_does_not_wait_for_the_writer(store: Store) -> None:
    async with store.session() as session:
        await store.reporter(session, "local:anna")
    async with store.turn("local:bert") as turn:  # a writer holds its transaction open
        await store.create_case(turn.session, turn.reporter, kind="incident")
        async with store.reading() as session:
            found = await asyncio.wait_for(session.execute(select(Reporter.user_key)), 5)
            assert list(found.scalars()) == ["local:anna"]  # the last commit, not the open turn


def test_the_pools_are_chosen_here_not_by_the_sqlalchemy_version(tmp_path: Path) -> None:
    sqlite = Store(f"sqlite+aiosqlite:///{tmp_path / 'pooled.db'}")
    memory = Store("sqlite+aiosqlite:///:memory:")
    postgres = Store("postgresql+asyncpg://weerbaar@127.0.0.1:1/weerbaar")
    assert isinstance(sqlite.engine.pool, AsyncAdaptedQueuePool)
    assert isinstance(memory.engine.pool, StaticPool)
    assert isinstance(postgres.engine.pool, AsyncAdaptedQueuePool)
    assert not postgres.engine.pool._pre_ping  # idle connections are pinged at checkout instead
