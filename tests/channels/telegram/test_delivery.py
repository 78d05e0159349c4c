"""Delivery through the outbox: order, retries, duplicates, many users at once, long texts."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from telegram import Update

from bot.app import App
from bot.base.clock import FixedClock
from bot.channels.telegram import TelegramChannel
from bot.store import OutboxMessage, Store
from tests.fakes.telegram_api import FakeTelegram
from tests.plugins.telegram import Person, eventually

WELCOME = "Hallo, ik ben de assistent van Weerbaar."
PRIVACY = "Wat ik bewaar:"
HELP = "Ik kan je helpen met:"


async def _user_outbox(store: Store) -> list[OutboxMessage]:
    async with store.session() as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.destination == "user")
            .order_by(OutboxMessage.id)
        )
        return list((await session.execute(query)).scalars())


async def test_a_duplicate_update_is_handled_once(fake: FakeTelegram, person: Person) -> None:
    update = {"update_id": 555, **fake.message(person.chat_id, "/start")}
    await fake.push_batch([update, copy.deepcopy(update)])
    await person.say("/help")  # taken after both copies, so the copy is dealt with by now
    texts = fake.texts(person.chat_id)
    assert len(texts) == 2
    assert texts[0].startswith(WELCOME) and texts[1].startswith(HELP)


async def test_an_update_seen_before_a_restart_is_not_handled_again(
    fake: FakeTelegram, make_app: Callable[..., App], store: Store
) -> None:
    sticker = {"file_id": "s1", "file_unique_id": "us1", "type": "regular", "width": 512}
    sticker |= {"height": 512, "is_animated": False, "is_video": False}
    updates = [
        {"update_id": 700, **fake.message(4343, "/start")},
        {"update_id": 701, **fake.message(4343, "", sticker=sticker)},
    ]
    first = TelegramChannel(make_app(), poll_timeout=1, retry_interval=0.02)
    await first.start()
    await fake.push_batch(copy.deepcopy(updates))
    await fake.wait_sent(4343, 2)
    await first.stop()

    # A worker that died before confirming the batch gets the same updates again.
    second = TelegramChannel(make_app(), poll_timeout=1, retry_interval=0.02)
    await second.start()
    try:
        await fake.push_batch(copy.deepcopy(updates))
        await Person(fake, second, 4343).say("/help")
    finally:
        await second.stop()
    texts = fake.texts(4343)
    assert len(texts) == 3
    assert texts[0].startswith(WELCOME) and texts[2].startswith(HELP)


async def test_updates_queued_in_a_process_that_dies_are_handled_by_the_next_once(
    fake: FakeTelegram, make_app: Callable[..., App]
) -> None:
    first = TelegramChannel(make_app(), poll_timeout=1, retry_interval=0.02)
    await first.start()
    downloading = fake.hold("getFile")  # the photo's turn hangs; the texts queue behind it
    photo = await fake.send_photo(4545, b"\x89PNG" + b"0" * 500)
    await fake.send_text(4545, "/help")
    last = await fake.send_text(4545, "/privacy")
    await fake.send_text(4646, "/start")  # another chat: handled meanwhile
    await fake.wait_sent(4646, 1)
    await eventually(lambda: first.newest_update >= last["update_id"])
    await eventually(lambda: not first.lanes.busy(4646))

    # The process dies: the turn in progress and the queued ones end without a word.
    await first.lanes.close()
    await first.stop(grace=0)
    assert fake.sent(4545) == []

    downloading.set()
    second = TelegramChannel(make_app(), poll_timeout=1, retry_interval=0.02)
    await second.start()
    try:
        await fake.wait_sent(4545, 3)
        await Person(fake, second, 4646).say("/help")
    finally:
        await second.stop()
    texts = fake.texts(4545)
    assert len(texts) == 3 and texts[1].startswith(HELP) and texts[2].startswith(PRIVACY)
    assert [t[:20] for t in fake.texts(4646)] == [WELCOME[:20], HELP[:20]]  # /start once
    assert photo["update_id"] < last["update_id"]


async def test_an_update_whose_turn_always_fails_is_tried_three_times_then_passed_over(
    fake: FakeTelegram, make_app: Callable[..., App]
) -> None:
    channel = TelegramChannel(make_app(), poll_timeout=1, retry_interval=0.02)
    real_turn = channel._turn
    tries: list[int] = []

    async def turn(update: Update) -> None:
        if update.effective_chat is not None and update.effective_chat.id == 4747:
            tries.append(update.update_id)
            raise RuntimeError("this update cannot be handled")
        await real_turn(update)

    channel._turn = turn  # type: ignore[method-assign]
    await channel.start()
    try:
        await fake.send_text(4747, "/start")
        await Person(fake, channel, 4848).say("/help")
        await eventually(lambda: len(tries) == 3, timeout=10)
        await Person(fake, channel, 4848).say("/privacy")  # the bot goes on with the rest
    finally:
        await channel.stop()
    assert len(set(tries)) == 1 and len(tries) == 3
    texts = fake.texts(4848)
    assert texts[0].startswith(HELP) and texts[1].startswith(PRIVACY)


async def test_429_is_retried_after_retry_after_and_order_is_kept(
    fake: FakeTelegram, person: Person, store: Store, clock: FixedClock
) -> None:
    fake.fail_next("sendMessage", 429, retry_after=5)
    await person.say("/start")
    assert person.replies == []
    await person.say("/privacy")
    assert person.replies == []  # waits behind the welcome, which waits for its retry
    assert fake.calls["sendMessage"] == 1
    first = (await _user_outbox(store))[0]
    assert first.attempts == 1 and first.last_error == "telegram 429"

    clock.advance(timedelta(seconds=6))
    await fake.wait_sent(person.chat_id, 2)
    await person.channel.idle()
    texts = fake.texts(person.chat_id)
    assert len(texts) == 2
    assert texts[0].startswith(WELCOME) and texts[1].startswith(PRIVACY)
    assert fake.calls["sendMessage"] == 3
    assert all(m.delivered_at is not None for m in await _user_outbox(store))


async def test_server_errors_back_off_and_then_deliver_once(
    fake: FakeTelegram, person: Person, store: Store, clock: FixedClock
) -> None:
    fake.fail_next("sendMessage", 502)
    fake.fail_next("sendMessage", 500)
    await person.say("/help")
    assert person.replies == []
    clock.advance(timedelta(seconds=3))  # first back-off: 2 s
    await eventually(lambda: fake.calls["sendMessage"] == 2)
    await person.channel.idle()
    assert fake.sent(person.chat_id) == []
    clock.advance(timedelta(seconds=5))  # second back-off: 4 s
    await fake.wait_sent(person.chat_id, 1)
    await person.channel.idle()
    assert len(fake.sent(person.chat_id)) == 1
    (message,) = await _user_outbox(store)
    assert message.attempts == 3 and message.delivered_at is not None


async def test_fifty_people_at_once_each_get_their_answers_in_order(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    chats = range(7001, 7051)
    commands = ("/start", "/privacy", "/help")
    # Interleaved as Telegram would deliver them: everyone's first message, then the second…
    await fake.push_batch([fake.message(chat, command) for command in commands for chat in chats])
    await eventually(lambda: all(len(fake.sent(chat)) >= 3 for chat in chats), timeout=60)
    await channel.idle()
    for chat in chats:
        texts = fake.texts(chat)
        assert len(texts) == 3, chat
        assert texts[0].startswith(WELCOME)
        assert texts[1].startswith(PRIVACY)
        assert texts[2].startswith(HELP)


async def test_one_slow_chat_does_not_hold_up_others_but_keeps_its_own_order(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    slow, quick = 8001, 8002
    release = fake.hold("getFile")
    await fake.send_photo(slow, b"\xff\xd8" + b"x" * 500)
    await fake.send_text(slow, "/help")
    await fake.send_text(quick, "/start")
    await fake.wait_sent(quick, 1)
    assert fake.sent(slow) == []  # its /help waits behind its photo
    release.set()
    await fake.wait_sent(slow, 2)
    await channel.idle()
    first, second = fake.texts(slow)
    assert "bestanden alleen bewaren tijdens een melding" in first
    assert second.startswith(HELP)


async def test_a_long_message_is_split_at_paragraphs_with_buttons_on_the_last_part(
    fake: FakeTelegram, person: Person, store: Store
) -> None:
    paragraph = "Dit is een alinea met uitleg over wat je kunt doen na een incident. " * 20
    text = "\n\n".join(f"{n}. {paragraph.strip()}" for n in range(1, 8))
    assert len(text) > 2 * 4096
    async with store.session() as session:
        reporter = await store.reporter(session, f"telegram:{person.chat_id}")
        payload = {
            "user": reporter.user_key,
            "text": text,
            "buttons": [{"label": "Iets anders", "payload": "intent:help"}],
        }
        await store.enqueue(session, "user", payload, reporter_id=reporter.id)
    parts = await fake.wait_sent(person.chat_id, 3)
    assert len(parts) == 3
    assert all(len(p.text) <= 4096 for p in parts)
    assert all(p.text.endswith(".") for p in parts)
    assert "\n\n".join(p.text for p in parts) == text
    assert [bool(p.buttons) for p in parts] == [False, False, True]


async def test_danger_during_a_store_outage_gets_112_at_once_and_is_answered_after(
    fake: FakeTelegram, make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = TelegramChannel(make_app(), poll_timeout=1, retry_interval=0.02)
    real_turn = channel._turn
    store_away = True

    async def turn(update: Update) -> None:
        if store_away:
            raise OSError("connection refused")
        await real_turn(update)

    async def reachable(store: Store) -> bool:
        return not store_away

    channel._turn = turn  # type: ignore[method-assign]
    monkeypatch.setattr("bot.channels.telegram.channel.reachable", reachable)
    emergency = channel.app.dialogue.text("emergency")
    await channel.start()
    try:
        await fake.send_text(5151, "er staat een man met een mes voor mijn deur")
        await fake.send_text(5252, "vorige week kreeg ik een nare brief")
        await eventually(lambda: fake.texts(5151) == [emergency], timeout=10)
        assert fake.texts(5252) == []  # a calm story waits for the store, with no 112 answer
        store_away = False
        await eventually(lambda: len(fake.texts(5151)) > 1 and bool(fake.texts(5252)), timeout=20)
    finally:
        await channel.stop()
    # Told at once while the store was away; the turn itself is answered once it is back,
    # with its offers (so the 112 answer comes once more, as part of that answer).
    texts = fake.texts(5151)
    assert texts[0] == emergency and texts.count(emergency) == 2
    assert any("Ondersteuningsteam" in text for text in texts[1:])
