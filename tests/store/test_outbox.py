"""Outbox delivery: one transaction to claim, one to mark; lanes in order; escalations first."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.base.clock import FixedClock
from bot.store import OutboxMessage, Store, open_store, outbox
from bot.store.outbox import MARKING, Claimed, DeliveryFailed, deliver_due, send_claimed


async def _support(store: Store, kinds: list[tuple[str, str]]) -> None:
    """Queue (case owner, kind) support payloads, one case per owner, in this order."""
    cases: dict[str, Any] = {}
    for owner, kind in kinds:
        async with store.turn(f"local:{owner}") as turn:
            if owner not in cases:
                cases[owner] = await store.create_case(turn.session, turn.reporter, kind="support")
            case = cases[owner]
            payload = {"kind": kind, "case": case.ref, "text": f"{owner} {kind}"}
            await store.enqueue(turn.session, "support", payload, case_id=case.id)


async def test_escalations_go_first_and_a_case_waits_behind_its_failed_message(
    store: Store,
) -> None:
    await _support(store, [("anna", "note"), ("anna", "relay"), ("bert", "escalation")])
    sent: list[str] = []

    async def send(payload: dict[str, Any], retry: bool) -> None:
        if payload["text"] == "anna note":
            raise DeliveryFailed("slack 503")
        sent.append(payload["text"])

    begun = 0

    def on_begin(_connection: Any) -> None:
        nonlocal begun
        begun += 1

    event.listen(store.engine.sync_engine, "begin", on_begin)
    try:
        delivered = await deliver_due(store, "support", send, at_once=1)
    finally:
        event.remove(store.engine.sync_engine, "begin", on_begin)
    assert (delivered, sent, begun) == (1, ["bert escalation"], 2)  # claim, then mark
    async with store.session() as session:
        rows = await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        note, relay, escalation = rows.scalars()
    assert escalation.delivered_at is not None
    assert note.delivered_at is None and note.attempts == 1 and note.last_error == "slack 503"
    assert relay.delivered_at is None and relay.attempts == 0  # released, never tried
    # The relay is due, but its case's note waits for its retry: the relay waits behind it.
    assert await deliver_due(store, "support", send) == 0


async def test_lanes_of_different_cases_are_on_their_way_side_by_side(store: Store) -> None:
    await _support(store, [(f"owner{n}", "escalation") for n in range(6)])
    on_the_way = 0
    most = 0

    async def send(payload: dict[str, Any], retry: bool) -> None:
        nonlocal on_the_way, most
        on_the_way += 1
        most = max(most, on_the_way)
        await asyncio.sleep(0.05)
        on_the_way -= 1

    assert await deliver_due(store, "support", send, at_once=4) == 6
    assert most == 4


async def _claimed_support(store: Store, owners: int) -> list[list[Claimed]]:
    """One escalation per owner, each claimed by a sender of its own."""
    await _support(store, [(f"owner{n}", "escalation") for n in range(owners)])
    async with store.session() as session:
        ids = (await session.execute(select(OutboxMessage.id).order_by(OutboxMessage.id))).all()
    return [
        [Claimed(row_id, {"kind": "escalation", "text": "x"}, False, None)] for (row_id,) in ids
    ]


async def test_marks_of_senders_that_finish_together_are_written_in_one_transaction(
    store: Store,
) -> None:
    senders = await _claimed_support(store, 8)
    marked: list[int] = []  # delivered messages found marked when each sender returned
    begun = 0

    def on_begin(_connection: Any) -> None:
        nonlocal begun
        begun += 1

    async def send(payload: dict[str, Any], retry: bool) -> None:
        await asyncio.sleep(0)

    async def sender(claimed: list[Claimed]) -> None:
        await send_claimed(store, claimed, send)
        async with store.reading() as session:
            row = await session.get(OutboxMessage, claimed[0].id)
            assert row is not None
            marked.append(int(row.delivered_at is not None))

    event.listen(store.engine.sync_engine, "begin", on_begin)
    try:
        await asyncio.gather(*(sender(claimed) for claimed in senders))
    finally:
        event.remove(store.engine.sync_engine, "begin", on_begin)
    assert marked == [1] * 8  # each sender returns once its own marks are committed
    # Not one transaction per sender: those that come while a batch is written share the next
    # one (the senders' own reads are counted too, one each).
    assert 1 <= begun - 8 <= 2


async def test_a_closed_store_that_marked_deliveries_is_freed(
    database_url: str, clock: FixedClock
) -> None:
    """The marks' bookkeeping per store must not keep the store, its engine and its caches."""
    store = await open_store(database_url, clock)
    (claimed,) = await _claimed_support(store, 1)

    async def send(payload: dict[str, Any], retry: bool) -> None:
        return None

    assert await send_claimed(store, claimed, send) == 1
    await store.close()
    gone = weakref.ref(store)
    del store, claimed
    gc.collect()
    assert gone() is None


async def test_a_sender_cut_off_while_its_marks_are_written_still_gets_them_written(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    (claimed,) = await _claimed_support(store, 1)
    writing, go_on = asyncio.Event(), asyncio.Event()
    settle = outbox._settle

    async def slow_settle(*args: Any) -> None:
        writing.set()
        await go_on.wait()
        await settle(*args)

    async def send(payload: dict[str, Any], retry: bool) -> None:
        return None

    monkeypatch.setattr("bot.store.outbox._settle", slow_settle)
    sender = asyncio.create_task(send_claimed(store, claimed, send))
    await writing.wait()
    sender.cancel()  # a shutdown, say, while the marks are being written
    with pytest.raises(asyncio.CancelledError):
        await sender
    go_on.set()
    (marking,) = [task for task in asyncio.all_tasks() if task.get_name() == MARKING]
    await marking  # ends without an error
    async with store.reading() as session:
        row = await session.get(OutboxMessage, claimed[0].id)
    assert row is not None and row.delivered_at is not None


async def test_a_failed_mark_reaches_every_sender_of_its_batch(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    senders = await _claimed_support(store, 3)

    async def send(payload: dict[str, Any], retry: bool) -> None:
        return None

    async def store_away(*_args: Any) -> None:
        raise ConnectionError("store away")

    monkeypatch.setattr("bot.store.outbox._settle", store_away)
    outcomes = await asyncio.gather(
        *(send_claimed(store, claimed, send) for claimed in senders), return_exceptions=True
    )
    assert [type(o) for o in outcomes] == [ConnectionError] * 3
    monkeypatch.undo()
    # Unmarked, the messages stay leased and are sent again once the lease ends.
    async with store.reading() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
    assert all(m.delivered_at is None for m in rows)
