"""Webhook mode: Telegram posts updates with a secret token to the shared web server."""

from __future__ import annotations

import aiohttp
from sqlalchemy import select
from telegram import Update

from bot.channels.telegram import TelegramChannel, webhook_secret
from bot.store import Reporter, Store
from tests.fakes.telegram_api import FakeTelegram
from tests.plugins.telegram import eventually


async def _reporters(store: Store) -> list[str]:
    async with store.session() as session:
        return list((await session.execute(select(Reporter.user_key))).scalars())


async def test_webhook_is_set_with_a_secret_and_updates_are_answered(
    fake: FakeTelegram, webhook_channel: tuple[TelegramChannel, str]
) -> None:
    channel, base = webhook_channel
    assert fake.webhook == {
        "url": f"{base}/telegram/webhook",
        "secret_token": webhook_secret(channel.app.settings),
    }
    assert fake.calls["getUpdates"] == 0

    await fake.send_text(31, "/start")
    await fake.wait_sent(31, 1)
    assert fake.webhook_statuses == [200]
    assert fake.texts(31)[0].startswith("Hallo, ik ben de assistent van Weerbaar.")


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_happens(
    fake: FakeTelegram, webhook_channel: tuple[TelegramChannel, str], store: Store
) -> None:
    channel, base = webhook_channel
    update = {"update_id": 1, **fake.message(32, "/start")}
    async with aiohttp.ClientSession() as client:
        for headers in ({"X-Telegram-Bot-Api-Secret-Token": "raden"}, {}):
            async with client.post(
                f"{base}/telegram/webhook", json=update, headers=headers
            ) as reply:
                assert reply.status == 403
        good = {"X-Telegram-Bot-Api-Secret-Token": channel.secret}
        async with client.post(f"{base}/telegram/webhook", data=b"{kapot", headers=good) as reply:
            assert reply.status == 400
    await channel.idle()
    assert fake.sent(32) == []
    assert await _reporters(store) == []


async def test_a_webhook_delivered_twice_is_answered_once(
    fake: FakeTelegram, webhook_channel: tuple[TelegramChannel, str]
) -> None:
    channel, _ = webhook_channel
    update = await fake.send_text(33, "/start")
    await fake.push(dict(update))  # Telegram retries when it saw no answer in time
    await fake.send_text(33, "/help")
    await fake.wait_sent(33, 2)
    await eventually(lambda: fake.webhook_statuses == [200, 200, 200])
    await channel.idle()
    assert len(fake.sent(33)) == 2


async def test_an_update_whose_turn_was_not_stored_is_answered_503_and_comes_again(
    fake: FakeTelegram, webhook_channel: tuple[TelegramChannel, str], store: Store
) -> None:
    channel, _ = webhook_channel
    fake.webhook_attempts = 5
    real_turn = channel._turn
    failures = [RuntimeError("database away")]

    async def failing_once(update: Update) -> None:
        if failures:
            raise failures.pop()
        await real_turn(update)

    channel._turn = failing_once  # type: ignore[method-assign]
    await fake.send_text(34, "/start")
    await fake.wait_sent(34, 1)
    assert fake.webhook_statuses == [503, 200]
    assert fake.texts(34)[0].startswith("Hallo, ik ben de assistent van Weerbaar.")
