"""Dead letters: updates whose turn failed for their own reason, set aside and replayed later."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from bot.base.messages import ToTeam
from bot.store import DeadLetter, Store, rowcount

WAITING, RETRY, REPLAYING, HANDLED = "waiting", "retry", "replaying", "handled"


class NotFound(LookupError):
    """No dead letter with this number."""


async def set_aside(
    store: Store,
    *,
    key: str,
    channel: str,
    update_json: dict[str, Any],
    error: str,
    user: str,
    to_reporter: str,
    to_team: str,
) -> int:
    """Keep the update (sealed) with the error's type and place; tell the reporter and the team.

    `to_team` may hold {number}. Returns the dead letter's number.
    """
    now = store.clock.now()
    async with store.session() as session:
        found = await session.execute(select(DeadLetter).where(DeadLetter.key == key))
        letter = found.scalar_one_or_none()
        if letter is None:
            letter = DeadLetter(
                key=key, channel=channel, attempts=1, status=WAITING, created_at=now
            )
            session.add(letter)
        else:
            letter.attempts += 1  # replayed after a fix, and it failed again
        first = letter.attempts == 1
        letter.update, letter.error, letter.status, letter.updated_at = (
            update_json,
            error[:200],
            WAITING,
            now,
        )
        await session.flush()
        if first:
            reporter = await store.reporter(session, user)
            notice = {"user": user, "text": to_reporter, "buttons": []}
            await store.enqueue(session, "user", notice, reporter_id=reporter.id)
        team = ToTeam(
            "dead_letter",
            text=to_team.format(number=letter.id),
            key=f"dead_letter:{letter.id}:{letter.attempts}",
        )
        await store.tell_team(session, team)
        return int(letter.id)


async def open_count(store: Store) -> int:
    """How many dead letters wait for a fix or a replay."""
    async with store.session() as session:
        query = select(func.count(DeadLetter.id)).where(DeadLetter.status != HANDLED)
        return int((await session.execute(query)).scalar_one())


async def listing(store: Store) -> list[dict[str, Any]]:
    """Every dead letter without its content: number, key, state, error, times."""
    async with store.session() as session:
        rows = await session.execute(select(DeadLetter).order_by(DeadLetter.id))
        return [
            {
                "id": letter.id,
                "key": letter.key,
                "channel": letter.channel,
                "status": letter.status,
                "attempts": letter.attempts,
                "error": letter.error,
                "created_at": letter.created_at.isoformat(),
                "updated_at": letter.updated_at.isoformat(),
            }
            for letter in rows.scalars()
        ]


async def request_retry(store: Store, number: int | None) -> int:
    """Mark one dead letter (or every one, with None) for replay by the running bot."""
    async with store.session() as session:
        query = update(DeadLetter).where(DeadLetter.status.in_((WAITING, REPLAYING)))
        if number is not None:
            if await session.get(DeadLetter, number) is None:
                raise NotFound(number)
            query = query.where(DeadLetter.id == number)
        result = await session.execute(
            query.values(status=RETRY, updated_at=store.clock.now()).execution_options(
                synchronize_session=False
            )
        )
        return rowcount(result)


async def claim_retries(store: Store, channel: str, limit: int = 20) -> list[tuple[int, Any]]:
    """Dead letters of this channel marked for replay, taken so that one worker replays each."""
    async with store.session() as session:
        rows = await session.execute(
            select(DeadLetter.id)
            .where(DeadLetter.channel == channel, DeadLetter.status == RETRY)
            .order_by(DeadLetter.id)
            .limit(limit)
        )
        claimed = []
        for number in rows.scalars().all():
            taken = await session.execute(
                update(DeadLetter)
                .where(DeadLetter.id == number, DeadLetter.status == RETRY)
                .values(status=REPLAYING, updated_at=store.clock.now())
                .execution_options(synchronize_session=False)
            )
            if rowcount(taken):
                letter = await session.get(DeadLetter, number)
                assert letter is not None
                claimed.append((number, letter.update))
        return claimed


async def mark_handled(store: Store, key: str) -> bool:
    """The update behind this key was handled after all: forget its content."""
    async with store.session() as session:
        result = await session.execute(
            update(DeadLetter)
            .where(DeadLetter.key == key, DeadLetter.status != HANDLED)
            .values(status=HANDLED, update=None, updated_at=store.clock.now())
            .execution_options(synchronize_session=False)
        )
        return bool(rowcount(result))
