"""The path of one turn: one transaction and one more to mark the replies, updates read once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from telegram import Update

from bot.app import App
from bot.base.clock import FixedClock
from bot.channels.telegram import TelegramChannel
from bot.store import OutboxMessage, Store, TelegramInbox
from bot.store.outbox import LEASE, MARKING
from tests.fakes.telegram_api import FakeTelegram
from tests.plugins.telegram import Person, eventually

HELP = "Ik kan je helpen met:"
PRIVACY = "Wat ik bewaar:"


async def test_a_turn_is_one_transaction_and_its_replies_are_marked_in_one_more(
    fake: FakeTelegram, make_app: Callable[..., App], store: Store
) -> None:
    channel = TelegramChannel(make_app(), poll_timeout=1, retry_interval=3600)
    turns: set[asyncio.Task[Any]] = set()
    real_turn = channel._turn

    async def turn(update: Update) -> None:
        task = asyncio.current_task()
        assert task is not None
        turns.add(task)
        await real_turn(update)

    begun: list[asyncio.Task[Any] | None] = []

    def on_begin(_connection: Any) -> None:
        task = asyncio.current_task()
        begun.append(task)
        if task is not None and task.get_name() == MARKING:  # marks the turn's replies
            turns.add(task)

    channel._turn = turn  # type: ignore[method-assign]
    await channel.start()
    person = Person(fake, channel, 6161)
    event.listen(store.engine.sync_engine, "begin", on_begin)
    try:
        await person.say("/start")
        await person.press(person.replies[0].buttons[0][0])
        await person.say("/help")
    finally:
        event.remove(store.engine.sync_engine, "begin", on_begin)
        await channel.stop()
    assert person.replies and person.replies[0].text.startswith(HELP)
    assert sum(1 for task in begun if task in turns) == 2 * 3  # the turn, then the mark


async def test_replies_stored_but_never_sent_go_out_once_after_a_restart(
    fake: FakeTelegram,
    make_app: Callable[..., App],
    store: Store,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def dies_before_sending(*_args: Any, **_kwargs: Any) -> int:
        return 0  # the process dies right after the turn's commit

    first = TelegramChannel(make_app(), poll_timeout=1, retry_interval=0.02)
    monkeypatch.setattr("bot.channels.telegram.channel.send_claimed", dies_before_sending)
    await first.start()
    await Person(fake, first, 6262).say("/help")
    await first.stop()
    monkeypatch.undo()
    assert fake.sent(6262) == []

    second = TelegramChannel(make_app(), poll_timeout=1, retry_interval=0.02)
    await second.start()
    try:
        await asyncio.sleep(0.2)
        assert fake.sent(6262) == []  # still leased to the worker that wrote them
        clock.advance(LEASE + timedelta(seconds=1))
        await fake.wait_sent(6262, 1)
        await Person(fake, second, 6262).say("/privacy")
    finally:
        await second.stop()
    texts = fake.texts(6262)
    assert len(texts) == 2 and texts[0].startswith(HELP) and texts[1].startswith(PRIVACY)
    async with store.session() as session:
        undelivered = await session.execute(
            select(OutboxMessage).where(OutboxMessage.delivered_at.is_(None))
        )
        assert list(undelivered.scalars()) == []


async def test_each_update_is_fetched_once_and_the_inbox_empties(
    fake: FakeTelegram, make_app: Callable[..., App], store: Store
) -> None:
    offered: Counter[int] = Counter()
    real_get_updates = fake._m_getUpdates

    async def get_updates(params: dict[str, Any]) -> Any:
        updates = await real_get_updates(params)
        offered.update(u["update_id"] for u in updates)
        return updates

    fake._m_getUpdates = get_updates  # type: ignore[method-assign]
    channel = TelegramChannel(make_app(), poll_timeout=1, retry_interval=0.02)
    await channel.start()
    try:
        downloading = fake.hold("getFile")  # the photo's turn hangs; the texts queue behind it
        await fake.send_photo(6363, b"\x89PNG" + b"0" * 500)
        for _ in range(3):
            await fake.send_text(6363, "/help")
        last = await fake.send_text(6464, "/help")
        await fake.wait_sent(6464, 1)  # another chat goes on meanwhile
        await eventually(lambda: channel.newest_update >= last["update_id"])
        await asyncio.sleep(0.3)  # a few more polls while the photo's turn still hangs
        downloading.set()
        await fake.wait_sent(6363, 4)
        await Person(fake, channel, 6464).say("/privacy")
    finally:
        await channel.stop()
    assert offered and set(offered.values()) == {1}
    assert [t[:20] for t in fake.texts(6363)[1:]] == [HELP[:20]] * 3
    async with store.session() as session:
        assert list((await session.execute(select(TelegramInbox))).scalars()) == []
