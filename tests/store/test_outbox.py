"""Outbox delivery: one transaction to claim, one to mark; lanes in order; escalations first."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, select

from bot.store import OutboxMessage, Store
from bot.store.outbox import DeliveryFailed, deliver_due


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
