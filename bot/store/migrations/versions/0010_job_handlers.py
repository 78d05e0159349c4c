"""scheduled jobs name their handler instead of a module path

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:00:00

Jobs stored before this revision refer to the function that ran them by module path
("bot.aftercare:check_in"). The code moved into packages, and a stored path that no longer
resolves would make the scheduler drop the job: a check-in, reminder, re-escalation or the
retention run would silently not happen. Each such job now refers to the scheduler's one entry
point with its handler's name as the first argument, which no later move of code can break.
"""

import pickle

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "scheduled_jobs"
RUN = "bot.jobs.scheduler:run_job"
HANDLERS = {
    "bot.aftercare:check_in": "checkin",
    "bot.aftercare:remind": "reminder",
    "bot.aftercare:send_digest": "digest",
    "bot.escalation:reescalate": "reescalate",
    "bot.privacy:apply_retention": "retention",
}


def _jobs() -> sa.sql.expression.TableClause:
    return sa.table(TABLE, sa.column("id", sa.String), sa.column("job_state", sa.LargeBinary))


def upgrade() -> None:
    bind = op.get_bind()
    if not sa.inspect(bind).has_table(TABLE):
        return  # the scheduler creates its table on first start
    jobs = _jobs()
    for job_id, raw in bind.execute(sa.select(jobs.c.id, jobs.c.job_state)).all():
        state = pickle.loads(raw)
        name = HANDLERS.get(state.get("func"))
        if name is None:
            continue
        state["func"], state["args"] = RUN, (name, *state.get("args", ()))
        bind.execute(
            jobs.update()
            .where(jobs.c.id == job_id)
            .values(job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL))
        )


def downgrade() -> None:
    # Back to module paths: the handler's name (the first argument) tells which.
    bind = op.get_bind()
    if not sa.inspect(bind).has_table(TABLE):
        return
    paths = {name: path for path, name in HANDLERS.items()}
    jobs = _jobs()
    for job_id, raw in bind.execute(sa.select(jobs.c.id, jobs.c.job_state)).all():
        state = pickle.loads(raw)
        args = tuple(state.get("args", ()))
        if state.get("func") != RUN or not args or args[0] not in paths:
            continue
        state["func"], state["args"] = paths[args[0]], args[1:]
        bind.execute(
            jobs.update()
            .where(jobs.c.id == job_id)
            .values(job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL))
        )
