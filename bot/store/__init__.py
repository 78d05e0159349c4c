"""The case store: reporters, cases, timeline, evidence, conversation state and outbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Result, delete, event, exc, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import AsyncAdaptedQueuePool, StaticPool

from bot.base.clock import AMSTERDAM, Clock, SystemClock
from bot.base.messages import ToTeam
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
    TelegramInbox,
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
    "TelegramInbox",
    "Turn",
]


@dataclass
class Turn:
    """One reporter's locked conversation inside an open transaction."""

    session: AsyncSession
    reporter: Reporter
    conversation: Conversation


READING = "weerbaar_reading"  # execution option: a read-only transaction (SQLite: no write lock)
IDLE_PING_SECONDS = 30.0  # a PostgreSQL connection idle longer than this is pinged at checkout
RECYCLE_SECONDS = 1800  # PostgreSQL connections are replaced after this long


def _make_engine(url: str) -> AsyncEngine:
    """The engine, with its pool chosen here (not by the SQLAlchemy version's defaults)."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        memory = not path or path == ":memory:"
        if not memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A file keeps a few open connections (and their threads) instead of one per
        # transaction; an in-memory database lives in its one connection.
        pool: dict[str, Any] = (
            {"poolclass": StaticPool}
            if memory
            else {"poolclass": AsyncAdaptedQueuePool, "pool_size": 5, "max_overflow": 5}
        )
        engine = create_async_engine(url, future=True, connect_args={"timeout": 30}, **pool)

        @event.listens_for(engine.sync_engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's BEGIN below decide when a transaction starts.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, safe
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            # Writers take the write lock at once: two writers never deadlock on an upgrade.
            # Readers read a snapshot (WAL) beside the writer.
            reading = conn.get_execution_options().get(READING, False)
            conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

        return engine
    # No ping on every checkout: a connection in steady use is known to be alive; one that
    # sat idle is pinged first, and a dead one is replaced (a restarted server is survived).
    engine = create_async_engine(
        url,
        future=True,
        poolclass=AsyncAdaptedQueuePool,
        pool_size=10,
        max_overflow=20,
        pool_recycle=RECYCLE_SECONDS,
    )

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError("idle connection is gone") from error

    return engine


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
        # This store's own session class: a listener on it (the Slack desk's wake-up on commit)
        # sees this store's sessions only, never another store's in the same process.
        self.session_class: type[Session] = type("StoreSession", (Session,), {})
        self._sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=self.session_class
        )
        self._shared_connection = isinstance(self.engine.pool, StaticPool)
        self._readers = async_sessionmaker(
            self.engine.execution_options(**{READING: True}), expire_on_commit=False
        )
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

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session that only reads: on SQLite it does not wait for this process's writer."""
        if self._shared_connection:  # in-memory SQLite: one connection, so one at a time
            async with self.session() as session:
                yield session
            return
        async with self._readers() as session, session.begin():
            yield session

    def _insert(self, table: Any) -> Any:
        return (pg_insert if self.dialect == "postgresql" else sqlite_insert)(table)

    async def add_new(
        self, session: AsyncSession, table: Any, rows: list[dict[str, Any]], key: str
    ) -> None:
        """Insert the rows in one statement, leaving out those whose `key` is there already."""
        if rows:
            statement = self._insert(table).values(rows)
            await session.execute(statement.on_conflict_do_nothing(index_elements=[key]))

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
        lease: datetime | None = None,
    ) -> OutboxMessage:
        """Write a side effect in the caller's transaction; delivery happens later.

        With `lease` the message is written leased to this worker until then, its first attempt
        counted, for the caller to send right after the commit (bot.store.outbox.leased).
        """
        now = self.clock.now()
        message = OutboxMessage(
            destination=destination,
            reporter_id=reporter_id,
            case_id=case_id,
            payload=payload,
            created_at=now,
            attempts=0 if lease is None else 1,
            next_attempt_at=now if lease is None else lease,
        )
        session.add(message)
        await session.flush()
        return message

    async def tell_team(
        self, session: AsyncSession, message: ToTeam, *, case_id: int | None = None
    ) -> OutboxMessage:
        """Queue a message for the support team in the caller's transaction."""
        return await self.enqueue(session, "support", message.payload(), case_id=case_id)

    async def case_by_ref(self, session: AsyncSession, ref: str) -> Case | None:
        result = await session.execute(select(Case).where(Case.ref == ref.strip().upper()))
        return result.scalar_one_or_none()

    async def cases(self, session: AsyncSession, reporter_id: int | None = None) -> Sequence[Case]:
        """Cases, newest first; only one reporter's when given."""
        query = select(Case).order_by(Case.created_at.desc(), Case.id.desc())
        if reporter_id is not None:
            query = query.where(Case.reporter_id == reporter_id)
        return (await session.execute(query)).scalars().all()

    async def open_cases(self, session: AsyncSession, limit: int | None = None) -> list[Case]:
        """Cases not closed, oldest first."""
        query = select(Case).where(Case.status != "closed").order_by(Case.created_at, Case.id)
        return list((await session.execute(query.limit(limit))).scalars())

    async def unowned_cases(self, session: AsyncSession, limit: int | None = None) -> list[Case]:
        """Open cases nobody has picked up yet, oldest first."""
        query = (
            select(Case)
            .where(Case.status != "closed", Case.owner.is_(None), Case.deleted_at.is_(None))
            .order_by(Case.created_at, Case.id)
        )
        return list((await session.execute(query.limit(limit))).scalars())

    async def cases_since(self, session: AsyncSession, moment: datetime) -> int:
        """How many cases were made from that moment on."""
        query = select(func.count()).select_from(Case).where(Case.created_at >= moment)
        return int((await session.execute(query)).scalar_one())

    async def case_by_thread(self, session: AsyncSession, channel: str, ts: str) -> Case | None:
        """The case whose card is this Slack message."""
        query = select(Case).where(Case.slack_channel == channel, Case.slack_ts == ts)
        return (await session.execute(query)).scalar_one_or_none()

    async def discard_drafts(self, session: AsyncSession, evidence_ids: list[int]) -> None:
        """Remove the files of a report that was not sent (never those of a sent case)."""
        if evidence_ids:
            await session.execute(
                delete(Evidence).where(Evidence.id.in_(evidence_ids), Evidence.case_id.is_(None))
            )

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
