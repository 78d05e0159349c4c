"""The case store: reporters, cases, timeline, evidence, conversation state and outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Result, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.clock import AMSTERDAM, Clock, SystemClock
from bot.store.models import (
    Case,
    CaseEvent,
    Conversation,
    DeadLetter,
    Delivery,
    Evidence,
    Invite,
    OutboxMessage,
    ReferenceCounter,
    Reporter,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

__all__ = [
    "Case",
    "CaseEvent",
    "Conversation",
    "DeadLetter",
    "Delivery",
    "Evidence",
    "Invite",
    "OutboxMessage",
    "Reporter",
    "Store",
    "Turn",
]


@dataclass
class Turn:
    """One reporter's locked conversation inside an open transaction."""

    session: AsyncSession
    reporter: Reporter
    conversation: Conversation


def _make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, future=True, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's BEGIN below decide when a transaction starts.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            # Take the write lock at once: two writers never deadlock on an upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, future=True, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _run_migrations(sync_connection: Any) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = sync_connection
    command.upgrade(config, "head")


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return cast("CursorResult[Any]", result).rowcount or 0


class Store:
    """Async access to the case store over SQLite or PostgreSQL."""

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        self.url = url
        self.clock = clock or SystemClock()
        self.engine = _make_engine(url)
        self.dialect = self.engine.dialect.name
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time: queue this process's writers here instead of
        # letting them spin on the file lock (other processes still wait on busy_timeout).
        self._sqlite_writer = asyncio.Lock() if self.dialect == "sqlite" else None

    async def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        async with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                # Two workers starting together must not both run migrations.
                await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
            await conn.run_sync(_run_migrations)

    async def close(self) -> None:
        await self.engine.dispose()

    @property
    def writing(self) -> bool:
        """Whether this process has a SQLite transaction open (its commit needs the event loop)."""
        return self._sqlite_writer is not None and self._sqlite_writer.locked()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed on success."""
        async with AsyncExitStack() as stack:
            if self._sqlite_writer is not None:
                await stack.enter_async_context(self._sqlite_writer)
            session = await stack.enter_async_context(self._sessions())
            await stack.enter_async_context(session.begin())
            yield session

    def _insert(self, table: Any) -> Any:
        return (pg_insert if self.dialect == "postgresql" else sqlite_insert)(table)

    async def reporter(self, session: AsyncSession, user_key: str) -> Reporter:
        """The reporter with this key, created on first contact."""
        now = self.clock.now()
        await session.execute(
            self._insert(Reporter)
            .values(user_key=user_key, verified=False, created_at=now)
            .on_conflict_do_nothing(index_elements=["user_key"])
        )
        result = await session.execute(select(Reporter).where(Reporter.user_key == user_key))
        return result.scalar_one()

    @asynccontextmanager
    async def turn(self, user_key: str) -> AsyncIterator[Turn]:
        """Lock one reporter's conversation for the length of a turn."""
        async with self.session() as session:
            reporter = await self.reporter(session, user_key)
            await session.execute(
                self._insert(Conversation)
                .values(reporter_id=reporter.id, state={}, updated_at=self.clock.now())
                .on_conflict_do_nothing(index_elements=["reporter_id"])
            )
            result = await session.execute(
                select(Conversation)
                .where(Conversation.reporter_id == reporter.id)
                .with_for_update()
            )
            yield Turn(session, reporter, result.scalar_one())

    async def next_reference(self, session: AsyncSession) -> str:
        """Hand out the next case reference of this year, e.g. WB-2026-0042."""
        year = self.clock.now().astimezone(AMSTERDAM).year
        await session.execute(
            self._insert(ReferenceCounter)
            .values(year=year, last=0)
            .on_conflict_do_nothing(index_elements=["year"])
        )
        result = await session.execute(
            select(ReferenceCounter).where(ReferenceCounter.year == year).with_for_update()
        )
        counter = result.scalar_one()
        counter.last += 1
        await session.flush()
        return f"WB-{year}-{counter.last:04d}"

    async def create_case(
        self, session: AsyncSession, reporter: Reporter, *, actor: str = "melder", **fields: Any
    ) -> Case:
        """Create a case with a fresh reference and its first timeline event."""
        now = self.clock.now()
        case = Case(
            ref=await self.next_reference(session),
            reporter_id=reporter.id,
            status="open",
            created_at=now,
            updated_at=now,
            **fields,
        )
        session.add(case)
        await session.flush()
        await self.add_event(session, case, "created", actor, {"kind": case.kind})
        return case

    async def add_event(
        self, session: AsyncSession, case: Case, kind: str, actor: str, detail: dict | None = None
    ) -> CaseEvent:
        """Append to a case's timeline."""
        entry = CaseEvent(
            case_id=case.id, at=self.clock.now(), kind=kind, actor=actor, detail=detail or {}
        )
        session.add(entry)
        case.updated_at = entry.at
        await session.flush()
        return entry

    async def enqueue(
        self,
        session: AsyncSession,
        destination: str,
        payload: dict,
        *,
        reporter_id: int | None = None,
        case_id: int | None = None,
    ) -> OutboxMessage:
        """Write a side effect in the caller's transaction; delivery happens later."""
        now = self.clock.now()
        message = OutboxMessage(
            destination=destination,
            reporter_id=reporter_id,
            case_id=case_id,
            payload=payload,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
        session.add(message)
        await session.flush()
        return message

    async def case_by_ref(self, session: AsyncSession, ref: str) -> Case | None:
        result = await session.execute(select(Case).where(Case.ref == ref.strip().upper()))
        return result.scalar_one_or_none()

    async def cases(self, session: AsyncSession, reporter_id: int | None = None) -> Sequence[Case]:
        """Cases, newest first; only one reporter's when given."""
        query = select(Case).order_by(Case.created_at.desc(), Case.id.desc())
        if reporter_id is not None:
            query = query.where(Case.reporter_id == reporter_id)
        return (await session.execute(query)).scalars().all()

    async def latest_incident(
        self, session: AsyncSession, reporter_id: int, since: datetime
    ) -> Case | None:
        """The reporter's newest report sent since then whose content is still there."""
        query = (
            select(Case)
            .where(
                Case.reporter_id == reporter_id,
                Case.kind == "incident",
                Case.created_at >= since,
                Case.deleted_at.is_(None),
                Case.purged_at.is_(None),
            )
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(1)
        )
        return (await session.execute(query)).scalars().first()

    async def due_outbox(
        self,
        session: AsyncSession,
        destination: str,
        *,
        limit: int = 50,
        reporter_id: int | None = None,
    ) -> Sequence[OutboxMessage]:
        """Undelivered messages whose time has come, oldest first, locked for this worker."""
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.destination == destination,
                OutboxMessage.delivered_at.is_(None),
                OutboxMessage.next_attempt_at <= self.clock.now(),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if reporter_id is not None:
            query = query.where(OutboxMessage.reporter_id == reporter_id)
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return (await session.execute(query)).scalars().all()

    async def mark_delivered(self, session: AsyncSession, message: OutboxMessage) -> None:
        """Record the delivery; a delivered file's content is not kept (the recipient has it)."""
        message.delivered_at = self.clock.now()
        file = message.payload.get("file") if isinstance(message.payload, dict) else None
        if isinstance(file, dict) and "base64" in file:
            kept = {k: v for k, v in file.items() if k != "base64"}
            message.payload = {**message.payload, "file": kept}
        await session.flush()

    async def mark_failed(
        self,
        session: AsyncSession,
        message: OutboxMessage,
        error: str,
        *,
        retry_after: float | None = None,
    ) -> None:
        """Record a failed attempt (counted by its claim); back off 2^attempts s, at most 10 min."""
        delay = (
            retry_after if retry_after is not None else min(600.0, 2.0 ** max(1, message.attempts))
        )
        message.next_attempt_at = self.clock.now() + timedelta(seconds=delay)
        message.last_error = error[:200]
        await session.flush()

    async def first_delivery(self, session: AsyncSession, key: str) -> bool:
        """Record a platform message as handled in this transaction; False when it already was.

        Inside a reporter's turn the conversation lock orders two copies of one message: the
        second sees the first one's committed key.
        """
        result = await session.execute(
            self._insert(Delivery)
            .values(key=key, handled_at=self.clock.now())
            .on_conflict_do_nothing(index_elements=["key"])
        )
        return bool(rowcount(result))

    async def touch(self, session: AsyncSession, conversation: Conversation, state: dict) -> None:
        """Save a conversation's new state."""
        conversation.state = state
        conversation.updated_at = self.clock.now()
        await session.flush()


async def open_store(url: str, clock: Clock | None = None) -> Store:
    """Create a store and apply pending migrations."""
    store = Store(url, clock)
    await store.migrate()
    return store
