"""Aftercare (nazorg): check-ins for reporters, reminders for case owners, a digest of unowned cases.

Check-ins are planned as rows in the transaction that creates the case; the scheduler's process
turns them into jobs `checkin:<ref>:<n>` (keep_planned), as it does `reminder:<ref>` for every
owned case and the one `digest`. Each job looks at the case again when it runs: a case that is
closed or deleted gets nothing more, and closing or deleting removes its jobs in the same
transaction (cancel_case_jobs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeGuard

from sqlalchemy import inspect, select, text, update

from bot.clock import AMSTERDAM
from bot.messages import Button
from bot.scheduler import JOBS_TABLE, Scheduler, current
from bot.settings import Settings
from bot.store import Case, Store, rowcount
from bot.store.models import Checkin

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from flows.engine import TurnContext

log = logging.getLogger("weerbaar.aftercare")

CHECK_IN = "bot.aftercare:check_in"
REMIND = "bot.aftercare:remind"
DIGEST = "bot.aftercare:send_digest"
DIGEST_JOB = "digest"
ACTIVE = ("open", "acknowledged", "in_contact")
ANSWERS = ("goed", "niet_goed", "contact")
PREFIX = "checkin:"
_ANSWER = re.compile(r"^checkin:(WB-\d{4}-\d{4,}):(goed|niet_goed|contact)$")
DAYTIME = (9, 20)  # a check-in waits for 09:00 when it falls in the evening or at night
REPEAT_AFTER = timedelta(days=2)  # an unanswered check-in is asked once more, this much later
SNOOZES = ("hour", "tomorrow", "week")
UPKEEP_SECONDS = 60.0

TO_TEAM = {
    "niet_goed": "Nazorg {ref}: de melder antwoordt op de vraag hoe het gaat: het gaat niet zo goed.",
    "contact": "Nazorg {ref}: de melder wil contact (antwoord op de vraag hoe het gaat).",
    "escalation": "Nazorg {ref}: de melder zocht via de nazorgvraag contact met het team.",
    "reminder": (
        "Herinnering: melding {ref} staat op jouw naam en is nog niet afgesloten. "
        "Sluit de melding af als die klaar is, of stel deze herinnering uit."
    ),
    "digest": "Nog niet opgepakt ({count}): {refs}",
}


def checkin_job(ref: str, number: int) -> str:
    return f"checkin:{ref}:{number}"


def reminder_job(ref: str) -> str:
    return f"reminder:{ref}"


def is_open(case: Case | None) -> TypeGuard[Case]:
    """Whether a case still gets aftercare: it exists, is not closed and was not deleted."""
    return case is not None and case.status in ACTIVE and case.deleted_at is None


# --- when ----------------------------------------------------------------------------------


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=AMSTERDAM).astimezone(timezone.utc)


def _working_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def daytime(moment: datetime) -> datetime:
    """The moment itself between 09:00 and 20:00 in Amsterdam, else the next 09:00."""
    local = moment.astimezone(AMSTERDAM)
    start, end = DAYTIME
    if local.hour < start:
        return _at(local.date(), start)
    if local.hour >= end:
        return _at(local.date() + timedelta(days=1), start)
    return moment


def next_working_hour(after: datetime, hour: int) -> datetime:
    """The first Monday to Friday at hour:00 in Amsterdam that is later than `after`."""
    day = _working_day(after.astimezone(AMSTERDAM).date())
    if _at(day, hour) <= after:
        day = _working_day(day + timedelta(days=1))
    return _at(day, hour)


def next_daily_hour(after: datetime, hour: int) -> datetime:
    """The first hour:00 in Amsterdam that is later than `after`."""
    day = after.astimezone(AMSTERDAM).date()
    if _at(day, hour) <= after:
        day += timedelta(days=1)
    return _at(day, hour)


def snooze_until(now: datetime, choice: str, hour: int) -> datetime:
    """1 uur, morgen (the next working day) or volgende week (Monday), at the reminder hour."""
    if choice == "hour":
        return now + timedelta(hours=1)
    today = now.astimezone(AMSTERDAM).date()
    if choice == "tomorrow":
        return _at(_working_day(today + timedelta(days=1)), hour)
    if choice == "week":
        return _at(today + timedelta(days=7 - today.weekday()), hour)
    raise ValueError(choice)


# --- jobs of a case, inside the caller's transaction ------------------------------------------


async def _has_jobs_table(session: AsyncSession) -> bool:
    return bool(
        await session.run_sync(lambda sync: inspect(sync.connection()).has_table(JOBS_TABLE))
    )


async def cancel_case_jobs(session: AsyncSession, ref: str) -> int:
    """Remove every scheduled job of a case (`<kind>:<ref>` and `<kind>:<ref>:<n>`) in this transaction."""
    if not await _has_jobs_table(session):
        return 0
    result = await session.execute(
        text(f"DELETE FROM {JOBS_TABLE} WHERE id LIKE :single OR id LIKE :numbered"),
        {"single": f"%:{ref}", "numbered": f"%:{ref}:%"},
    )
    return rowcount(result)


async def _cancel_job(session: AsyncSession, job_id: str) -> None:
    if await _has_jobs_table(session):
        await session.execute(text(f"DELETE FROM {JOBS_TABLE} WHERE id = :id"), {"id": job_id})


# --- planning ------------------------------------------------------------------------------


async def plan_checkins(session: AsyncSession, case: Case, settings: Settings) -> None:
    """Plan the case's check-ins in the caller's transaction; keep_planned stores their jobs."""
    for number, days in enumerate(settings.checkin_days, start=1):
        due = daytime(case.created_at + timedelta(days=days))
        session.add(Checkin(case_id=case.id, number=number, due_at=due, planned=False, sent=0))
    await session.flush()


async def ensure_reminder(scheduler: Scheduler, ref: str) -> bool:
    """Plan the owner's next reminder unless one is planned; True when it planned one."""
    if await scheduler.run_time(reminder_job(ref)) is not None:
        return False
    run_at = next_working_hour(scheduler.clock.now(), scheduler.settings.reminder_hour)
    await scheduler.schedule(reminder_job(ref), REMIND, run_at, [ref])
    return True


async def keep_planned(scheduler: Scheduler) -> int:
    """Store the jobs cases need and lack: planned check-ins, owners' reminders, the digest."""
    store = scheduler.store
    async with store.session() as session:
        rows = await session.execute(
            select(Checkin.id, Case.ref, Checkin.number, Checkin.due_at)
            .join(Case, Case.id == Checkin.case_id)
            .where(Checkin.planned.is_(False), Case.status.in_(ACTIVE), Case.deleted_at.is_(None))
            .order_by(Checkin.due_at, Checkin.id)
        )
        checkins = rows.all()
        owned = await session.execute(
            select(Case.ref).where(
                Case.status.in_(ACTIVE), Case.owner.isnot(None), Case.deleted_at.is_(None)
            )
        )
        owned_refs = list(owned.scalars())
    # Jobs first, then the mark: after a crash in between the same ids are stored again.
    for _, ref, number, due in checkins:
        await scheduler.schedule(checkin_job(ref, number), CHECK_IN, due, [ref, str(number)])
    if checkins:
        async with store.session() as session:
            await session.execute(
                update(Checkin).where(Checkin.id.in_([c[0] for c in checkins])).values(planned=True)
            )
    planned = len(checkins)
    for ref in owned_refs:
        planned += await ensure_reminder(scheduler, ref)
    if await scheduler.run_time(DIGEST_JOB) is None:
        run_at = next_daily_hour(scheduler.clock.now(), scheduler.settings.digest_hour)
        await scheduler.schedule(DIGEST_JOB, DIGEST, run_at)
        planned += 1
    return planned


class Upkeep:
    """Every so often: keep the jobs planned, and run due ones where APScheduler's timer does not."""

    def __init__(
        self,
        scheduler: Scheduler,
        *,
        every: float = UPKEEP_SECONDS,
        run_due: bool = False,
        after: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.every = every
        self.run_due = run_due
        self.after = after  # e.g. showing what fell due in the local chat
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Finish the round in progress (a cancelled database call would lose its connection)."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
            # What was planned since the last round is stored on the way out.
            await self._quietly(self._plan)

    async def _plan(self) -> None:
        if self.scheduler.holds_lock:
            await keep_planned(self.scheduler)

    async def _round(self) -> None:
        await self._plan()
        if self.run_due and self.scheduler.holds_lock:
            await self.scheduler.run_due()
        if self.after is not None:
            await self.after()

    async def _quietly(self, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except Exception as error:
            from bot.dialogue import safe_trace

            log.error("aftercare upkeep failed: %s", safe_trace(error))

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            await self._quietly(self._round)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every)


# --- check-ins -----------------------------------------------------------------------------


def _report_text(key: str, **values: Any) -> str:
    from flows import catalog

    texts = catalog()
    return texts.text(texts.flows["report_incident"], key, **values)


def checkin_buttons(ref: str) -> list[Button]:
    return [Button(_report_text(f"button_checkin_{a}"), f"{PREFIX}{ref}:{a}") for a in ANSWERS]


def checkin_message(case: Case) -> dict[str, Any]:
    """The discreet question for the reporter: no incident details, only the answer buttons."""
    question = "checkin_question_family" if case.targeted == "gezin" else "checkin_question"
    return {
        "user": case.reporter.user_key,
        "case": case.ref,
        "text": _report_text(question),
        "buttons": [{"label": b.label, "payload": b.payload} for b in checkin_buttons(case.ref)],
    }


async def check_in(ref: str, number: str) -> None:
    """Job: ask how the reporter is, unless the case ended, they answered, or a later one is due too."""
    scheduler = current()
    store = scheduler.store
    now = store.clock.now()
    wanted = int(number)
    repeat_at: datetime | None = None
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
        if not is_open(case) or not case.wants_checkins:
            return
        rows = await session.execute(
            select(Checkin).where(Checkin.case_id == case.id).order_by(Checkin.number)
        )
        checkins = list(rows.scalars())
        this = next((c for c in checkins if c.number == wanted), None)
        if this is None or this.answered_at is not None or this.sent >= 2:
            return
        later = [c for c in checkins if c.number > wanted]
        if any(c.due_at <= now for c in later):
            # Downtime let a later check-in fall due as well: the reporter gets that one only.
            await store.add_event(session, case, "checkin_skipped", "systeem", {"number": wanted})
            return
        this.sent += 1
        this.sent_at = now
        await store.enqueue(
            session, "user", checkin_message(case), reporter_id=case.reporter_id, case_id=case.id
        )
        await store.add_event(
            session, case, "checkin_sent", "systeem", {"number": wanted, "time": this.sent}
        )
        if this.sent == 1:
            again = daytime(now + REPEAT_AFTER)
            if not later or again < later[0].due_at:
                repeat_at = again
    log.info("check-in %d of %s sent", wanted, ref)
    if repeat_at is not None:
        await scheduler.schedule(checkin_job(ref, wanted), CHECK_IN, repeat_at, [ref, number])


def is_answer(pressed: str) -> bool:
    """Whether a pressed button is a check-in answer (checked further by `answer`)."""
    return pressed.strip().startswith(PREFIX)


def _common_text(key: str) -> str:
    from flows import catalog

    return catalog().text(None, key)


def _support_button() -> Button:
    return Button(_common_text("menu_support"), "intent:request_support")


async def answer(ctx: TurnContext, pressed: str) -> None:
    """The reporter answers their own pending check-in; the team hears 'niet zo goed' and 'contact'.

    Check-in buttons are pressed days after they were sent, so they are not checked against the
    last turn's buttons but against the store: the case must be the reporter's own, still open,
    with a check-in sent and not yet answered.
    """
    match = _ANSWER.match(pressed.strip())
    case = await ctx.store.case_by_ref(ctx.session, match.group(1)) if match else None
    if match is None or case is None or case.reporter_id != ctx.reporter.id:
        ctx.say(_common_text("expired_button"))
        return
    if not is_open(case):
        ctx.say(_report_text("checkin_closed"), [_support_button()])
        return
    rows = await ctx.session.execute(
        select(Checkin)
        .where(Checkin.case_id == case.id, Checkin.sent > 0)
        .order_by(Checkin.number.desc())
        .limit(1)
    )
    latest = rows.scalar_one_or_none()  # an older question is outdated by a newer one
    if latest is None:
        ctx.say(_common_text("expired_button"))
        return
    if latest.answered_at is not None:
        ctx.say(_report_text("checkin_answered"), [_support_button()])
        return
    reply = match.group(2)
    latest.answered_at = ctx.now
    latest.answer = reply
    await ctx.store.add_event(
        ctx.session, case, "checkin_answered", "melder", {"number": latest.number, "answer": reply}
    )
    await _cancel_job(ctx.session, checkin_job(case.ref, latest.number))  # no repeat needed
    if reply != "goed":
        await _tell_team(ctx.store, ctx.session, case, latest.number, reply)
    ctx.say(_report_text(f"checkin_{reply}"))


async def _tell_team(
    store: Store, session: AsyncSession, case: Case, number: int, reply: str
) -> None:
    """Put the answer on the case's card thread; a case without a card gets one first."""
    if reply == "contact":
        case.wants_support = True
    if case.slack_ts is None and not any(e.kind == "escalated" for e in case.events):
        await store.enqueue(
            session,
            "support",
            {
                "kind": "escalation",
                "case": case.ref,
                "text": TO_TEAM["escalation"].format(ref=case.ref),
            },
            case_id=case.id,
        )
        await store.add_event(session, case, "escalated", "systeem", {"via": "checkin"})
    await store.enqueue(
        session,
        "support",
        {
            "kind": "checkin",
            "case": case.ref,
            "answer": reply,
            "number": number,
            "key": f"checkin:{case.ref}:{number}",
            "text": TO_TEAM[reply].format(ref=case.ref),
        },
        case_id=case.id,
    )


# --- the support team ----------------------------------------------------------------------


async def remind(ref: str) -> None:
    """Job: remind the owner of an open case, then plan the next working day's reminder."""
    scheduler = current()
    store = scheduler.store
    now = store.clock.now()
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
        if not is_open(case) or case.owner is None:
            return
        await store.add_event(session, case, "reminded", "systeem")
        await store.enqueue(
            session,
            "support",
            {
                "kind": "reminder",
                "case": case.ref,
                "key": f"reminder:{case.ref}:{now.isoformat()}",
                "text": TO_TEAM["reminder"].format(ref=case.ref),
            },
            case_id=case.id,
        )
    run_at = next_working_hour(now, scheduler.settings.reminder_hour)
    await scheduler.schedule(reminder_job(ref), REMIND, run_at, [ref])


async def snooze(scheduler: Scheduler, ref: str, choice: str, actor: str) -> datetime | None:
    """Put an owner's reminder off; None when the case is closed, deleted or has no owner."""
    now = scheduler.clock.now()
    until = snooze_until(now, choice, scheduler.settings.reminder_hour)
    store = scheduler.store
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
        if not is_open(case) or case.owner is None:
            return None
        await store.add_event(
            session, case, "reminder_snoozed", actor, {"until": until.isoformat()}
        )
    await scheduler.schedule(reminder_job(ref), REMIND, until, [ref])
    return until


async def unowned_open_cases(session: AsyncSession) -> list[Case]:
    """Cases nobody has picked up yet, oldest first."""
    rows = await session.execute(
        select(Case)
        .where(Case.status.in_(ACTIVE), Case.owner.is_(None), Case.deleted_at.is_(None))
        .order_by(Case.created_at, Case.id)
    )
    return list(rows.scalars())


async def send_digest() -> None:
    """Job: list the unowned open cases in the support channel, then plan tomorrow's digest."""
    scheduler = current()
    store = scheduler.store
    now = store.clock.now()
    async with store.session() as session:
        refs = [case.ref for case in await unowned_open_cases(session)]
        if refs:
            await store.enqueue(
                session,
                "support",
                {
                    "kind": "digest",
                    "cases": refs,
                    "key": f"digest:{now.astimezone(AMSTERDAM).date().isoformat()}",
                    "text": TO_TEAM["digest"].format(count=len(refs), refs=", ".join(refs)),
                },
            )
    run_at = next_daily_hour(now, scheduler.settings.digest_hour)
    await scheduler.schedule(DIGEST_JOB, DIGEST, run_at)
