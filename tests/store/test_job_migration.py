"""Jobs stored by module path before the move into packages still run after the upgrade."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import create_engine, insert

from bot.app import FEATURES
from bot.jobs.scheduler import JOBS_TABLE, RUN
from bot.store import MIGRATIONS, open_store

OLD = {
    "bot.aftercare:check_in": ("checkin:WB-2026-0001:1", ["WB-2026-0001", "1"]),
    "bot.aftercare:remind": ("reminder:WB-2026-0001", ["WB-2026-0001"]),
    "bot.aftercare:send_digest": ("digest", []),
    "bot.escalation:reescalate": ("reescalate:WB-2026-0002", ["WB-2026-0002"]),
    "bot.privacy:apply_retention": ("retention", []),
}


def _old_state(job_id: str, func: str, args: list[str], at: datetime) -> bytes:
    """A job's state as APScheduler 3 stores it, naming its handler by module path as before."""
    state = {
        "version": 1,
        "id": job_id,
        "func": func,
        "trigger": DateTrigger(at),
        "executor": "default",
        "args": tuple(args),
        "kwargs": {},
        "name": job_id,
        "misfire_grace_time": None,
        "coalesce": True,
        "max_instances": 1,
        "next_run_time": at,
    }
    return pickle.dumps(state, pickle.HIGHEST_PROTOCOL)


@pytest.mark.asyncio
async def test_jobs_stored_by_module_path_name_their_handler_after_the_upgrade(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0009")
    jobstore = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
    jobstore.start(None, "default")  # creates the table as the scheduler does
    at = datetime(2026, 12, 2, 9, tzinfo=timezone.utc) + timedelta(days=1)
    with engine.begin() as connection:
        for func, (job_id, args) in OLD.items():
            connection.execute(
                insert(jobstore.jobs_t).values(
                    id=job_id,
                    next_run_time=at.timestamp(),
                    job_state=_old_state(job_id, func, args, at),
                )
            )

    store = await open_store(f"sqlite+aiosqlite:///{path}")  # migrates to the newest revision
    await store.close()

    jobs = {job.id: job for job in jobstore.get_all_jobs()}
    assert set(jobs) == {job_id for job_id, _ in OLD.values()}
    for job_id, args in OLD.values():
        job = jobs[job_id]
        assert job.func_ref == RUN
        name, *rest = job.args
        assert name in FEATURES.jobs
        assert rest == args
    assert jobs["checkin:WB-2026-0001:1"].args[0] == "checkin"
    assert jobs["retention"].args == ("retention",)
    engine.dispose()
