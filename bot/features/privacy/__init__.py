"""A reporter's own data: what is kept and why, export as a file, deletion, and retention.

Deleting or purging a case keeps only what counts anonymously (reference, kind, type, urgency,
dates, status) and adds it to the figures' monthly tally (bot.features.insights.stats): its story, place, time,
phone number, evidence, timeline details and queued messages go, and it moves to the ANONYMOUS
reporter so nothing links it to a chat any more. Scheduled jobs for the case are removed in the
same transaction; jobs that run later for a case must still check `is_erased(case)`.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.base import crypto
from bot.base.clock import AMSTERDAM
from bot.base.messages import Attachment, Button, Reply, ToTeam
from bot.base.redaction import user_tag
from bot.base.settings import Settings
from bot.core.features import Feature
from bot.core.turn import TurnContext
from bot.features.insights.stats import tally_erased
from bot.features.support.cases import case_json
from bot.jobs.scheduler import Scheduler, cancel_case_jobs
from bot.store import (
    Case,
    CaseEvent,
    Conversation,
    Delivery,
    Evidence,
    Invite,
    OutboxMessage,
    Reporter,
    Store,
    rowcount,
)
from bot.store.models import Checkin
from flows import catalog, text

log = logging.getLogger("weerbaar.privacy")

feature = Feature("privacy")

ANONYMOUS = "verwijderd"  # no channel makes a key without a colon, so no chat can be this reporter
DELETED_REASON = text(None, "privacy_deleted_reason")
PERSONAL_FIELDS = ("story", "location", "phone", "occurred_at", "occurred_text")
DELIVERED_KEEP = timedelta(days=7)  # delivered messages are kept this long, then removed
RETENTION_JOB = "retention"  # the job's id and its handler's name
RETENTION_AT = time(3, 30)  # Amsterdam time, when nobody is likely to be reporting
EXPORT_MIME = "application/json"

EXPORT = "export"
ERASE = "erase"
ERASE_YES = "erase:yes"
ERASE_NO = "erase:no"


def is_erased(case: Case) -> bool:
    """Whether the case's personal content is gone (deleted by the reporter or purged)."""
    return case.purged_at is not None


def explain(ctx: TurnContext) -> None:
    """/privacy: what is kept, why, how long, who sees it; buttons to download or delete."""
    lines = text(
        None, "privacy", hours=ctx.settings.draft_ttl_hours, days=ctx.settings.retention_days
    ).splitlines()
    if crypto.active() is not None:
        lines.insert(-1, text(None, "privacy_sealed"))
    ctx.say(
        "\n".join(lines),
        (
            Button(text(None, "button_privacy_export"), f"privacy:{EXPORT}"),
            Button(text(None, "button_privacy_erase"), f"privacy:{ERASE}"),
        ),
    )


async def on_button(ctx: TurnContext, value: str) -> bool:
    """A privacy button was pressed; True when the pending question should be asked again."""
    if value == EXPORT:
        data = await export_data(ctx)
        day = ctx.now.astimezone(AMSTERDAM).date().isoformat()
        file = Attachment(
            kind="document",
            data=json.dumps(data, ensure_ascii=False, indent=2).encode(),
            mime=EXPORT_MIME,
            filename=f"weerbaar-mijn-gegevens-{day}.json",
        )
        ctx.replies.append(Reply(text(None, "privacy_export_done"), file=file))
        return True
    if value == ERASE:
        ctx.say(
            text(None, "privacy_erase_confirm"),
            (
                Button(text(None, "button_privacy_erase_yes"), f"privacy:{ERASE_YES}"),
                Button(text(None, "button_privacy_erase_no"), f"privacy:{ERASE_NO}"),
            ),
        )
        return False
    if value == ERASE_YES:
        cases, files = await erase_reporter(ctx)
        counted = catalog().count
        ctx.say(
            text(
                None,
                "privacy_erased",
                cases=counted(None, "count_cases", cases),
                files=counted(None, "count_files", files),
            )
        )
        return False
    ctx.say(text(None, "privacy_kept"))
    return True


# --- export ----------------------------------------------------------------------------------


def _by(actor: str) -> str:
    if actor == "melder":
        return "jij"
    return "systeem" if actor == "systeem" else "ondersteuningsteam"


def _case_export(case: Case, checkins: list[Checkin]) -> dict[str, Any]:
    data = case_json(case)
    data.pop("owner")  # who on the team picked it up is the team's business, not a field of yours
    data["timeline"] = [
        {
            "at": e["at"],
            "kind": e["kind"],
            "by": _by(e["actor"]),
            **({"notes": e["detail"]["notes"]} if "notes" in e["detail"] else {}),
        }
        for e in data["timeline"]
    ]
    data["checkins"] = [
        {
            "number": c.number,
            "asked_at": c.sent_at.isoformat() if c.sent_at else None,
            "answer": c.answer,
        }
        for c in checkins
        if c.sent
    ]
    return data


async def export_data(ctx: TurnContext) -> dict[str, Any]:
    """Everything kept about this reporter, as JSON-ready data."""
    reporter = ctx.reporter
    cases = await ctx.store.cases(ctx.session, reporter.id)
    found = await ctx.session.execute(
        select(Checkin)
        .where(Checkin.case_id.in_([c.id for c in cases]))
        .order_by(Checkin.case_id, Checkin.number)
    )
    checkins = list(found.scalars())
    drafts = []
    for frame in ctx.state.stack:
        slots = dict(frame.slots)
        evidence = slots.pop("evidence", None) or {}
        drafts.append(
            {
                "flow": frame.flow,
                "answers": slots,
                "files": len(evidence.get("files", [])),
                "evidence_notes": evidence.get("notes", []),
            }
        )
    return {
        "uitleg": text(None, "privacy_export_about"),
        "exported_at": ctx.now.isoformat(),
        "reporter": {
            "role": reporter.role,
            "municipality": reporter.municipality,
            "verified": bool(reporter.verified),
            "verified_at": reporter.verified_at.isoformat() if reporter.verified_at else None,
            "first_contact": reporter.created_at.isoformat(),
        },
        "cases": [_case_export(c, [k for k in checkins if k.case_id == c.id]) for c in cases],
        "unfinished": drafts,
    }


# --- deletion --------------------------------------------------------------------------------


async def _erase_case(
    store: Store, session: AsyncSession, case: Case, anonymous: Reporter, *, deleted: bool
) -> int:
    """Strip a case to its anonymous counts; returns how many evidence files went."""
    now = store.clock.now()
    if case.purged_at is None:
        await tally_erased(store, session, case, case.reporter)
    if deleted:
        case.status = "closed"
        case.closed_reason = DELETED_REASON
        case.deleted_at = now
        await store.add_event(session, case, "deleted", "melder")
    for field in PERSONAL_FIELDS:
        setattr(case, field, None)
    case.purged_at = now
    case.reporter = anonymous
    files = len(case.evidence)
    await session.execute(delete(Evidence).where(Evidence.case_id == case.id))
    await session.execute(delete(Checkin).where(Checkin.case_id == case.id))
    await session.execute(
        update(CaseEvent)
        .where(CaseEvent.case_id == case.id)
        .values(detail={})
        .execution_options(synchronize_session=False)
    )
    await _drop_messages(store, session, OutboxMessage.case_id == case.id)
    if case.slack_ts:
        # Updating the card takes the story off it; a deletion is also said in its thread.
        message = (
            ToTeam("note", case.ref, text=DELETED_REASON, key=f"deleted:{case.ref}")
            if deleted
            else ToTeam("card", case.ref)
        )
        await store.tell_team(session, message, case_id=case.id)
    return files


async def _drop_messages(store: Store, session: AsyncSession, which: Any) -> None:
    """Empty queued messages and mark them done; a sender that claimed one finds it done."""
    await session.execute(
        update(OutboxMessage)
        .where(which)
        .values(payload={})
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(OutboxMessage)
        .where(which, OutboxMessage.delivered_at.is_(None))
        .values(delivered_at=store.clock.now())
        .execution_options(synchronize_session=False)
    )


async def erase_reporter(ctx: TurnContext) -> tuple[int, int]:
    """Delete what this reporter told and sent; returns (cases, files) removed."""
    store, session, reporter = ctx.store, ctx.session, ctx.reporter
    anonymous = await store.reporter(session, ANONYMOUS)
    cases = list(await store.cases(session, reporter.id))
    files = 0
    for case in cases:
        files += await _erase_case(store, session, case, anonymous, deleted=True)
    await cancel_case_jobs(session, *[c.ref for c in cases])
    drafts = await session.execute(delete(Evidence).where(Evidence.reporter_id == reporter.id))
    files += rowcount(drafts)
    await _drop_messages(store, session, OutboxMessage.reporter_id == reporter.id)
    await session.execute(
        update(Invite).where(Invite.reporter_id == reporter.id).values(reporter_id=None)
    )
    reporter.role = reporter.municipality = None
    reporter.verified, reporter.verified_at = False, None
    reporter.redeem_failures, reporter.redeem_failed_at = 0, None
    ctx.state.stack.clear()
    ctx.state.pending_cancel = False
    log.info(
        "data erased for %s: cases=%d files=%d", user_tag(reporter.user_key), len(cases), files
    )
    return len(cases), files


# --- retention -------------------------------------------------------------------------------


async def purge(store: Store, settings: Settings) -> dict[str, int]:
    """Remove what has been kept long enough; returns counts of what went."""
    now = store.clock.now()
    closed_before = now - timedelta(days=settings.retention_days)
    idle_before = now - timedelta(hours=settings.draft_ttl_hours)
    counts = {"cases": 0, "files": 0, "drafts": 0, "messages": 0}
    async with store.session() as session:
        expired = await session.execute(
            select(Case).where(
                Case.status == "closed", Case.purged_at.is_(None), Case.updated_at < closed_before
            )
        )
        cases = list(expired.scalars())
        if cases:
            anonymous = await store.reporter(session, ANONYMOUS)
            for case in cases:
                counts["files"] += await _erase_case(store, session, case, anonymous, deleted=False)
            await cancel_case_jobs(session, *[c.ref for c in cases])
        counts["cases"] = len(cases)
        idle = await session.execute(
            select(Conversation).where(Conversation.updated_at < idle_before)
        )
        for conversation in idle.scalars():
            if conversation.state.get("stack"):
                conversation.state = {}
                counts["drafts"] += 1
        stale = await session.execute(
            delete(Evidence).where(Evidence.case_id.is_(None), Evidence.received_at < idle_before)
        )
        counts["files"] += rowcount(stale)
        delivered = await session.execute(
            delete(OutboxMessage).where(OutboxMessage.delivered_at < now - DELIVERED_KEEP)
        )
        counts["messages"] = rowcount(delivered)
        # Telegram gives up redelivering an update within a day; older keys guard nothing.
        await session.execute(delete(Delivery).where(Delivery.handled_at < now - DELIVERED_KEEP))
    log.info("retention purge: %s", counts)
    return counts


def next_run(now: datetime) -> datetime:
    """The next retention run: RETENTION_AT in Amsterdam, today if still ahead, else tomorrow."""
    local = now.astimezone(AMSTERDAM)
    at = datetime.combine(local.date(), RETENTION_AT, tzinfo=AMSTERDAM)
    return (
        at
        if at > local
        else datetime.combine(local.date() + timedelta(days=1), RETENTION_AT, tzinfo=AMSTERDAM)
    )


async def plan_retention(scheduler: Scheduler) -> datetime:
    """Plan the daily retention run (replacing an earlier plan); call once at start-up."""
    run_at = next_run(scheduler.clock.now())
    await scheduler.schedule(RETENTION_JOB, RETENTION_JOB, run_at)
    return run_at


@feature.job(RETENTION_JOB)
async def apply_retention(scheduler: Scheduler) -> None:
    """Job: purge what has been kept long enough, then plan tomorrow's run."""
    await purge(scheduler.store, scheduler.settings)
    await plan_retention(scheduler)


@feature.intent("privacy")
async def on_privacy(ctx: TurnContext) -> None:
    explain(ctx)


@feature.button("privacy")
async def on_privacy_button(ctx: TurnContext, value: str) -> None:
    if await on_button(ctx, value):
        await ctx.resume()
