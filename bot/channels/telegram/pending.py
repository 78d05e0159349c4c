"""What waits in the outbox for Telegram users, and how a notice gets into it."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels.telegram.inbound import USER_PREFIX
from bot.store import OutboxMessage, Reporter, Store


async def sendable(
    store: Store, user: str | None = None, reporter: int | None = None
) -> int | None:
    """The reporter (by user key or id) when their due messages may go out now, else None.

    None as well while an older message waits for its retry time (or is out with another
    worker): newer ones wait too, so the reporter reads everything in the order it was written.
    """
    async with store.reading() as session:
        if reporter is None:
            query = select(Reporter.id).where(Reporter.user_key == user)
            reporter = (await session.execute(query)).scalar_one_or_none()
            if reporter is None:
                return None
        held = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.destination == "user",
                OutboxMessage.reporter_id == reporter,
                OutboxMessage.delivered_at.is_(None),
                OutboxMessage.next_attempt_at > store.clock.now(),
            )
            .limit(1)
        )
        return None if (await session.execute(held)).first() is not None else reporter


async def due_reporters(store: Store, limit: int = 500) -> list[tuple[int, str]]:
    """Telegram reporters with a message due now: (reporter id, user key)."""
    async with store.reading() as session:
        query = (
            select(Reporter.id, Reporter.user_key)
            .join(OutboxMessage, OutboxMessage.reporter_id == Reporter.id)
            .where(
                OutboxMessage.destination == "user",
                OutboxMessage.delivered_at.is_(None),
                OutboxMessage.next_attempt_at <= store.clock.now(),
                Reporter.user_key.startswith(USER_PREFIX),
            )
            .distinct()
            .limit(limit)
        )
        return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def enqueue_notice(store: Store, user: str, text: str, delivery: str | None = None) -> None:
    """Queue a message from the channel itself (about a file, an unreadable message).

    With `delivery` (the update's key) an update that comes twice gets the notice once.
    """
    async with store.session() as session:
        if delivery is not None and not await store.first_delivery(session, delivery):
            return
        reporter = await store.reporter(session, user)
        payload = {"user": user, "text": text, "buttons": []}
        await store.enqueue(session, "user", payload, reporter_id=reporter.id)
