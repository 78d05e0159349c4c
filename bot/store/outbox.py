"""Deliver what the outbox holds: claimed in one short transaction, sent, then marked in one."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import OutboxMessage, Store

log = logging.getLogger("weerbaar.outbox")

LEASE = timedelta(seconds=60)
MARKING = "outbox-marking"  # the task that writes the marks of delivered messages


class DeliveryFailed(Exception):
    """The platform did not take the message; try again later (after retry_after if given)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


# send(payload, retry): retry is True when an earlier attempt began, whatever became of it (it
# may have reached the platform unanswered, or the worker died during it).
Sender = Callable[[dict[str, Any], bool], Awaitable[None]]


@dataclass(frozen=True)
class Claimed:
    """A message leased to this worker: what to send, and whether an attempt began before."""

    id: int
    payload: dict[str, Any]
    retry: bool
    lane: int | None  # one lane's messages (a reporter's, a case's) go out in order


def leased(message: OutboxMessage) -> Claimed:
    """A message leased to this worker (by a claim, or written so: Store.enqueue(lease=...))."""
    lane = message.reporter_id if message.destination == "user" else message.case_id
    return Claimed(message.id, dict(message.payload), message.attempts > 1, lane)


async def _held_by_case(
    session: AsyncSession, store: Store, due: list[OutboxMessage]
) -> list[OutboxMessage]:
    """Leave out a case's message while an earlier one of that case is not due: it waits behind."""
    cases = {m.case_id for m in due if m.case_id is not None}
    if not cases:
        return due
    taking = {m.id for m in due}
    rows = await session.execute(
        select(OutboxMessage.id, OutboxMessage.case_id, OutboxMessage.next_attempt_at)
        .where(
            OutboxMessage.destination == "support",
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.case_id.in_(cases),
        )
        .order_by(OutboxMessage.id)
    )
    waiting: dict[int, tuple[int, datetime]] = {}  # case -> its oldest message not taken
    for row_id, case_id, next_attempt_at in rows.all():
        if row_id not in taking:
            waiting.setdefault(case_id, (row_id, next_attempt_at))
    kept = []
    for message in due:
        earlier = waiting.get(message.case_id) if message.case_id is not None else None
        if earlier is not None and earlier[0] < message.id:
            message.next_attempt_at = max(earlier[1], store.clock.now())
            continue
        kept.append(message)
    return kept


async def _claim(
    store: Store, destination: str, reporter_id: int | None, limit: int
) -> list[Claimed]:
    """Lease due messages so no other worker sends them meanwhile; count the attempt begun."""
    async with store.session() as session:
        due = list(
            await store.due_outbox(session, destination, limit=limit, reporter_id=reporter_id)
        )
        if destination == "support":
            due = await _held_by_case(session, store, due)
        until = store.clock.now() + LEASE
        for message in due:
            message.next_attempt_at = until
            message.attempts += 1
        return [leased(m) for m in due]


async def may_lease(session: AsyncSession, reporter_id: int) -> bool:
    """In a turn's transaction, before its replies are written: may they be leased at once?

    Not while an older message of this reporter is undelivered (it waits for its retry, or is
    on its way): the new ones then go out behind it, through deliver_due.
    """
    older = await session.execute(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.destination == "user",
            OutboxMessage.reporter_id == reporter_id,
            OutboxMessage.delivered_at.is_(None),
        )
        .limit(1)
    )
    return older.first() is None


async def send_claimed(
    store: Store, claimed: list[Claimed], send: Sender, *, at_once: int = 1
) -> int:
    """Send leased messages, lanes side by side (at most `at_once`), then mark them in one go.

    A lane stops at its first failure: that message backs off, the lane's later ones are
    released unattempted, so the recipient reads everything in the order it was written.
    Returns once the marks are committed, so the recipient's next turn sees them delivered.
    """
    lanes: dict[int | None, list[Claimed]] = {}
    for message in claimed:
        key = message.lane if message.lane is not None else -message.id  # no lane: on its own
        lanes.setdefault(key, []).append(message)
    # Escalations first: a waiting reporter's request reaches the team before anything else.
    ordered = sorted(lanes.values(), key=lambda lane: lane[0].payload.get("kind") != "escalation")
    marks = Marks()
    slots = asyncio.Semaphore(at_once)

    async def run(lane: list[Claimed]) -> None:
        async with slots:
            for position, message in enumerate(lane):
                try:
                    await send(message.payload, message.retry)
                except DeliveryFailed as failure:
                    marks.failed[message.id] = failure
                    marks.released.extend(m.id for m in lane[position + 1 :])
                    return
                marks.delivered.append(message)

    try:
        await asyncio.gather(*(run(lane) for lane in ordered))
    finally:
        # Also when cut off: what went out is marked; the rest waits for its lease to end.
        await _settler(store).settle(store, marks)
    for message_id, failure in marks.failed.items():
        log.warning("delivery of message %d failed (%s); will retry", message_id, failure.reason)
    return len(marks.delivered)


@dataclass
class Marks:
    """What became of claimed messages: delivered, failed (to back off), released unattempted."""

    delivered: list[Claimed] = field(default_factory=list)
    failed: dict[int, DeliveryFailed] = field(default_factory=dict)
    released: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.delivered or self.failed or self.released)

    def add(self, other: Marks) -> None:
        self.delivered += other.delivered
        self.failed.update(other.failed)
        self.released += other.released


class _Settler:
    """Group commit of marks: those that come in while one batch is written go in the next.

    Alone, a sender's marks are written at once, as before; under load one transaction marks
    the messages of many turns instead of one each (on SQLite every write transaction holds
    the one writer lock). A sender waits until its own marks are committed.
    """

    def __init__(self) -> None:
        # No reference to the store: it is this settler's weak key, and must be free to go.
        self._waiting: list[tuple[Marks, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def settle(self, store: Store, marks: Marks) -> None:
        if not marks:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # A sender cut off while it waits does not leave the outcome unread.
        done.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._waiting.append((marks, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(store), name=MARKING)
        await asyncio.shield(done)  # the marks are written even when the sender is cancelled

    async def _write(self, store: Store) -> None:
        batch: list[tuple[Marks, asyncio.Future[None]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                together = Marks()
                for marks, _ in batch:
                    together.add(marks)
                try:
                    await _settle(store, together)
                except Exception as error:
                    for _, done in batch:
                        done.set_exception(error)
                else:
                    for _, done in batch:
                        done.set_result(None)
        finally:
            self._writer = None
            for _, done in [*batch, *self._waiting]:  # cut off (shutdown): nobody waits forever
                if not done.done():
                    done.cancel()
            self._waiting = []


_settlers: weakref.WeakKeyDictionary[Store, _Settler] = weakref.WeakKeyDictionary()


def _settler(store: Store) -> _Settler:
    settler = _settlers.get(store)
    if settler is None:
        settler = _settlers[store] = _Settler()
    return settler


async def _settle(store: Store, marks: Marks) -> None:
    """One transaction: delivered ones marked, failed ones backed off, released ones due again.

    A delivered message without a file is marked by one UPDATE for all of them; one with a
    file also loses its content (the recipient has it), so it is loaded and changed.
    """
    plain = [m.id for m in marks.delivered if "file" not in m.payload]
    with_file = [m.id for m in marks.delivered if "file" in m.payload]
    loaded = [*with_file, *marks.failed, *marks.released]
    async with store.session() as session:
        if plain:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(plain))
                .values(delivered_at=store.clock.now())
                .execution_options(synchronize_session=False)
            )
        if not loaded:
            return
        rows = await session.execute(select(OutboxMessage).where(OutboxMessage.id.in_(loaded)))
        messages = {m.id: m for m in rows.scalars()}
        for message_id in with_file:
            await store.mark_delivered(session, messages[message_id])
        for message_id, failure in marks.failed.items():
            await store.mark_failed(
                session, messages[message_id], failure.reason, retry_after=failure.retry_after
            )
        for message_id in marks.released:
            message = messages[message_id]
            message.next_attempt_at = store.clock.now()
            message.attempts -= 1  # not attempted after all


async def deliver_due(
    store: Store,
    destination: str,
    send: Sender,
    *,
    reporter_id: int | None = None,
    limit: int = 50,
    at_once: int = 1,
) -> int:
    """Send due messages oldest first, in one transaction to claim and one to mark them."""
    claimed = await _claim(store, destination, reporter_id, limit)
    return await send_claimed(store, claimed, send, at_once=at_once)
