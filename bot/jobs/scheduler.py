"""The one scheduler: APScheduler with its jobs in the case database, guarded by a database lock.

Every process opens the job store and may add or cancel jobs; only the process holding the lock
runs them. A job names its handler (registered by the features: `"checkin"`, `"reescalate"`…)
and has an id `<kind>:<case reference>`, so a job for the same purpose and case replaces the old
one instead of running twice. A handler gets the scheduler (its store, settings and clock) and the
job's arguments. Run times come from
the store's clock; with an injected clock, `run_due()` runs what is due instead of the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import tempfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.base.clock import Clock
from bot.base.redaction import safe_trace
from bot.base.settings import Settings
from bot.store import Store, rowcount

log = logging.getLogger("weerbaar.scheduler")

JOBS_TABLE = "scheduled_jobs"
LOCK_KEY = 4242002  # PostgreSQL advisory lock; 4242001 guards migrations

# What every stored job refers to: the job store keeps a function reference, and this one is
# the same wherever a handler's code lives. The job's first argument names its handler.
RUN = "bot.jobs.scheduler:run_job"

# A job's handler: called with the scheduler and the job's arguments.
JobHandler = Callable[..., Awaitable[None]]


async def run_job(name: str, *args: str) -> None:
    """A job runs through the scheduler that took it from the store, never on its own."""
    raise RuntimeError(f"job {name} runs only through its scheduler")


class UnknownJob(LookupError):
    """A stored job names no registered handler."""


class Lock(Protocol):
    async def acquire(self) -> bool: ...
    async def alive(self) -> bool: ...
    async def release(self) -> None: ...


class FileLock:
    """SQLite: an exclusive lock on a file beside the database; the OS drops it with the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    async def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def alive(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class AdvisoryLock:
    """PostgreSQL: a session advisory lock held on a connection of its own."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> bool:
        connection = await self.store.engine.connect()
        try:
            result = await connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({LOCK_KEY})")
            got = bool(result.scalar())
            await connection.commit()  # the lock belongs to the session, not to this transaction
        except Exception:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def alive(self) -> bool:
        if self._connection is None:
            return False
        try:
            await self._connection.exec_driver_sql("SELECT 1")
            await self._connection.commit()
        except Exception:
            return False
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await connection.exec_driver_sql(f"SELECT pg_advisory_unlock({LOCK_KEY})")
            await connection.commit()
        except Exception:
            await connection.invalidate()  # a broken session loses its locks anyway
        finally:
            await connection.close()


def _lock_for(store: Store) -> Lock:
    if store.dialect == "postgresql":
        return AdvisoryLock(store)
    path = store.url.split(":///", 1)[1] if ":///" in store.url else ""
    if not path or path == ":memory:":
        # An in-memory database lives in one process only: nothing to guard across processes.
        return FileLock(Path(tempfile.mkstemp(prefix="weerbaar-scheduler-")[1]))
    return FileLock(Path(f"{path}.scheduler-lock"))


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


class _HandlerExecutor(AsyncIOExecutor):
    """Runs each job's registered handler with the scheduler (instead of the stored reference)."""

    def __init__(self, owner: Scheduler) -> None:
        super().__init__()
        self._owner = owner

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        job.func = self._owner.dispatch  # this copy only; the store keeps RUN
        super()._do_submit_job(job, run_times)


class _CaseScheduler(AsyncIOScheduler):
    """APScheduler that waits while this process is inside a SQLite transaction."""

    def __init__(self, store: Store, **options: Any) -> None:
        self._store = store
        super().__init__(**options)

    def _process_jobs(self) -> float | None:
        if self.state == STATE_RUNNING and self._store.writing:
            # The job store's writes would wait for that transaction, whose commit waits for us.
            return 0.05
        return super()._process_jobs()


class Scheduler:
    """Jobs stored in the case database; only the process holding the lock runs them."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        handlers: Mapping[str, JobHandler] | None = None,
        *,
        autorun: bool = True,
        watch_seconds: float = 5.0,
    ) -> None:
        self.store = store
        self.settings = settings
        self.handlers = dict(handlers or {})
        self.autorun = autorun  # False: due jobs run only through run_due() (injected clocks)
        self.watch_seconds = watch_seconds
        url = settings.sync_database_url
        self.jobstore = SQLAlchemyJobStore(
            url=url, tablename=JOBS_TABLE, engine_options=_engine_options(url)
        )
        self._aps = _CaseScheduler(
            store,
            jobstores={"default": self.jobstore},
            executors={"default": _HandlerExecutor(self)},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=timezone.utc,
        )
        self._lock = _lock_for(store)
        self._holding = False
        self._watcher: asyncio.Task[None] | None = None

    @property
    def clock(self) -> Clock:
        return self.store.clock

    @property
    def holds_lock(self) -> bool:
        return self._holding

    async def start(self) -> None:
        """Open the job store; run jobs if this process gets the lock, else stand by for it."""
        self._aps.start(paused=True)
        await self._take_over()
        self._watcher = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self._step_down()
        if self._aps.running:
            self._aps.shutdown(wait=False)  # queued on the loop ahead of us: one turn finishes it
            await asyncio.sleep(0)

    async def schedule(
        self, job_id: str, handler: str, run_at: datetime, args: Sequence[str] = ()
    ) -> None:
        """Store a job that runs the named handler once at run_at; one with the same id is replaced."""
        if handler not in self.handlers:
            raise UnknownJob(handler)
        await asyncio.to_thread(
            self._aps.add_job,
            RUN,
            trigger="date",
            run_date=run_at,
            id=job_id,
            args=[handler, *args],
            replace_existing=True,
        )

    async def dispatch(self, name: str, *args: str) -> None:
        """Run one job: the handler registered under its name, with this scheduler."""
        handler = self.handlers.get(name)
        if handler is None:
            raise UnknownJob(name)
        await handler(self, *args)

    async def cancel(self, job_id: str) -> bool:
        """Remove a job; False when there was none."""
        try:
            await asyncio.to_thread(self._aps.remove_job, job_id)
        except JobLookupError:
            return False
        return True

    async def run_time(self, job_id: str) -> datetime | None:
        """When a job runs next, or None when there is no such job."""
        job = await asyncio.to_thread(self.jobstore.lookup_job, job_id)
        return None if job is None else job.next_run_time

    async def run_due(self) -> int:
        """Run each job due on the store's clock once, as APScheduler does by the wall clock."""
        if not self._holding:
            return 0
        due = await asyncio.to_thread(self.jobstore.get_due_jobs, self.clock.now())
        for job in due:
            await self.cancel(job.id)  # a one-off job is done once it starts
            try:
                await self.dispatch(*job.args)
            except Exception as error:
                log.error("job %s failed: %s", job.id, safe_trace(error))
        return len(due)

    async def _take_over(self) -> bool:
        if not await self._lock.acquire():
            return False
        self._holding = True
        if self.autorun:
            self._aps.resume()
        log.info("this process runs the scheduled jobs")
        return True

    async def _step_down(self) -> None:
        if not self._holding:
            return
        self._holding = False
        if self._aps.running:
            self._aps.pause()
        await self._lock.release()

    async def _watch(self) -> None:
        """Keep the lock (or wait to take it over) and pick up jobs other processes stored."""
        while True:
            await asyncio.sleep(self.watch_seconds)
            try:
                if not self._holding:
                    await self._take_over()
                elif not await self._lock.alive():
                    log.warning("scheduler lock lost; standing by")
                    await self._step_down()
                elif self.autorun:
                    self._aps.wakeup()
            except Exception as error:
                log.warning("scheduler watch failed (%s)", type(error).__name__)


# --- jobs of a case, removed inside the caller's transaction ----------------------------------


async def _has_jobs_table(session: AsyncSession) -> bool:
    return bool(
        await session.run_sync(lambda sync: inspect(sync.connection()).has_table(JOBS_TABLE))
    )


async def cancel_case_jobs(session: AsyncSession, *refs: str) -> int:
    """Remove every job of these cases (`<kind>:<ref>` and `<kind>:<ref>:<n>`) in this transaction.

    With the case's own change in the same transaction, a closed or deleted case never has a job
    left behind, and a rolled-back change keeps its jobs.
    """
    if not refs or not await _has_jobs_table(session):
        return 0
    removed = 0
    for ref in refs:
        result = await session.execute(
            text(f"DELETE FROM {JOBS_TABLE} WHERE id LIKE :single OR id LIKE :numbered"),
            {"single": f"%:{ref}", "numbered": f"%:{ref}:%"},
        )
        removed += rowcount(result)
    return removed


async def cancel_job(session: AsyncSession, job_id: str) -> None:
    """Remove one job in this transaction."""
    if await _has_jobs_table(session):
        await session.execute(text(f"DELETE FROM {JOBS_TABLE} WHERE id = :id"), {"id": job_id})


def job_row(job_id: str, next_run: float | None) -> dict[str, Any]:
    """A job as plain data: its id, kind, case reference and next run time."""
    kind, _, rest = job_id.partition(":")
    ref = rest.split(":", 1)[0]  # "checkin:WB-2026-0001:1" belongs to case WB-2026-0001
    run_at = None if next_run is None else datetime.fromtimestamp(next_run, timezone.utc)
    return {
        "id": job_id,
        "kind": kind,
        "case": ref or None,
        "run_at": run_at.isoformat() if run_at else None,
    }


def _read_jobs(url: str) -> list[dict[str, Any]]:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if not path or not Path(path).exists():
            return []
    engine = create_engine(url, future=True)
    try:
        if not inspect(engine).has_table(JOBS_TABLE):
            return []
        with engine.connect() as connection:
            rows = connection.execute(
                text(f"SELECT id, next_run_time FROM {JOBS_TABLE} ORDER BY next_run_time, id")
            ).all()
    finally:
        engine.dispose()
    return [job_row(job_id, next_run) for job_id, next_run in rows]


async def list_jobs(settings: Settings) -> list[dict[str, Any]]:
    """Scheduled jobs: ids, kinds, case references and run times; nothing personal."""
    return await asyncio.to_thread(_read_jobs, settings.sync_database_url)
