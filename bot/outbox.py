"""Deliver what the outbox holds: claimed in one short transaction, sent, then marked."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.store import OutboxMessage, Store

log = logging.getLogger("weerbaar.outbox")

LEASE = timedelta(seconds=60)


class DeliveryFailed(Exception):
    """The platform did not take the message; try again later (after retry_after if given)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


# send(payload, retry): retry is True when an earlier attempt began, whatever became of it (it
# may have reached the platform unanswered, or the worker died during it).
Sender = Callable[[dict[str, Any], bool], Awaitable[None]]


async def _claim(store: Store, destination: str, reporter_id: int | None, limit: int) -> list[int]:
    """Lease due messages so no other worker sends them meanwhile; count the attempt begun."""
    async with store.session() as session:
        due = await store.due_outbox(session, destination, limit=limit, reporter_id=reporter_id)
        until = store.clock.now() + LEASE
        for message in due:
            message.next_attempt_at = until
            message.attempts += 1
        return [m.id for m in due]


async def _earlier_pending(session: Any, message: OutboxMessage) -> OutboxMessage | None:
    """The oldest undelivered message for the same case written before this one, if any."""
    result = await session.execute(
        select(OutboxMessage)
        .where(
            OutboxMessage.destination == message.destination,
            OutboxMessage.case_id == message.case_id,
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.id < message.id,
        )
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    earlier: OutboxMessage | None = result.scalar_one_or_none()
    return earlier


async def deliver_due(
    store: Store,
    destination: str,
    send: Sender,
    *,
    reporter_id: int | None = None,
    limit: int = 50,
) -> int:
    """Send due messages oldest first; one reporter's messages stop at the first failure."""
    ids = await _claim(store, destination, reporter_id, limit)
    delivered = 0
    blocked: set[int | None] = set()  # reporters whose earlier message failed: keep their order
    for message_id in ids:
        async with store.session() as session:
            message = (
                await session.execute(select(OutboxMessage).where(OutboxMessage.id == message_id))
            ).scalar_one()
            if message.delivered_at is not None:
                continue
            key = message.reporter_id if destination == "user" else None
            if key in blocked and destination == "user":
                message.next_attempt_at = store.clock.now()
                message.attempts -= 1  # not attempted after all
                continue
            if destination == "support" and message.case_id is not None:
                earlier = await _earlier_pending(session, message)
                if earlier is not None:  # one case's thread stays in order: wait behind it
                    message.next_attempt_at = max(earlier.next_attempt_at, store.clock.now())
                    message.attempts -= 1
                    continue
            payload, retry = dict(message.payload), message.attempts > 1
        try:
            await send(payload, retry)
        except DeliveryFailed as failure:
            blocked.add(key)
            async with store.session() as session:
                failed = await session.get(OutboxMessage, message_id)
                assert failed is not None
                await store.mark_failed(
                    session, failed, failure.reason, retry_after=failure.retry_after
                )
            log.warning("delivery to %s failed (%s); will retry", destination, failure.reason)
            continue
        async with store.session() as session:
            sent = await session.get(OutboxMessage, message_id)
            assert sent is not None
            await store.mark_delivered(session, sent)
        delivered += 1
    return delivered
