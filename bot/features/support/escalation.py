"""Re-escalation: an escalation nobody picked up is announced again each interval until someone does."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from bot.base.messages import ToTeam
from bot.base.settings import Settings
from bot.core.features import Feature
from bot.features import relay
from bot.jobs.scheduler import Scheduler
from bot.store import Case
from flows import text

log = logging.getLogger("weerbaar.escalation")

feature = Feature("escalation")

REESCALATE = "reescalate"  # the job handler's name


def job_id(ref: str) -> str:
    return f"reescalate:{ref}"


def interval(settings: Settings, urgency: str) -> timedelta:
    """How long an escalation of this urgency may wait before it is announced again."""
    minutes = (
        settings.reescalate_urgent_minutes
        if urgency == "urgent"
        else settings.reescalate_normal_minutes
    )
    return timedelta(minutes=minutes)


async def watch(scheduler: Scheduler, ref: str, urgency: str) -> None:
    """Plan the next announcement of an open escalation (replacing an earlier plan)."""
    run_at = scheduler.clock.now() + interval(scheduler.settings, urgency)
    await scheduler.schedule(job_id(ref), REESCALATE, run_at, [ref])


async def unwatch(scheduler: Scheduler, ref: str) -> None:
    """Someone picked the case up: no more announcements."""
    await scheduler.cancel(job_id(ref))


async def ensure_watched(scheduler: Scheduler, ref: str, urgency: str) -> bool:
    """Plan the next announcement unless one is planned already; True when it planned one."""
    if await scheduler.run_time(job_id(ref)) is not None:
        return False
    await watch(scheduler, ref, urgency)
    return True


async def rewatch(scheduler: Scheduler) -> int:
    """Plan announcements for open escalations that have a card but no job (after a crash)."""
    store = scheduler.store
    async with store.session() as session:
        rows = await session.execute(
            select(Case.ref, Case.urgency).where(Case.status == "open", Case.slack_ts.isnot(None))
        )
        open_cards = rows.all()
    return sum([await ensure_watched(scheduler, ref, urgency) for ref, urgency in open_cards])


@feature.job(REESCALATE)
async def reescalate(scheduler: Scheduler, ref: str) -> None:
    """Job: announce an unacknowledged escalation again, then plan the next time."""
    store = scheduler.store
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
        if case is None or case.status != "open":
            return
        count = 1 + sum(1 for e in case.events if e.kind == "reescalated")
        waited = int((store.clock.now() - case.created_at).total_seconds() // 60)
        await store.add_event(session, case, "reescalated", "systeem", {"count": count})
        await store.tell_team(
            session,
            ToTeam(
                "reescalation",
                case=case.ref,
                text=text(
                    relay.FLOW,
                    "team_not_picked_up",
                    ref=case.ref,
                    urgency=text(relay.FLOW, f"team_urgency_{case.urgency}").lower(),
                    minutes=waited,
                ),
                key=f"reescalation:{case.ref}:{count}",
                details={"count": count, "minutes": waited},
            ),
            case_id=case.id,
        )
        urgency = case.urgency
    log.info("escalation %s announced again (%d)", ref, count)
    await watch(scheduler, ref, urgency)
