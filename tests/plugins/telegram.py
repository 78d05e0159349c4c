"""The real python-telegram-bot against a fake Bot API, with the real dialogue core."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from bot.app import FEATURES, App
from bot.base.clock import FixedClock
from bot.base.settings import Settings
from bot.channels.telegram import TelegramChannel
from bot.core.dialogue import Dialogue
from bot.store import Store
from knowledge import Knowledge
from nlu import NLU
from tests.fakes.telegram_api import TOKEN, FakeTelegram, Sent


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API, started; closed after the test."""
    server = FakeTelegram()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def make_app(
    database_url: str,
    store: Store,
    nlu_model: NLU,
    knowledge: Knowledge,
    clock: FixedClock,
    telegram_api: FakeTelegram,
) -> Callable[..., App]:
    """An App on the test store whose Telegram settings point at the fake."""

    def make(**overrides: Any) -> App:
        settings = Settings(
            database_url=database_url,
            telegram_bot_token=TOKEN,
            telegram_api_base_url=telegram_api.base_url,
            **overrides,
        )
        dialogue = Dialogue(store, nlu_model, settings, knowledge, clock, features=FEATURES)
        return App(settings, store, nlu_model, knowledge, dialogue)

    return make


@pytest.fixture
async def channel(make_app: Callable[..., App]) -> AsyncIterator[TelegramChannel]:
    """A polling channel, started; stopped after the test."""
    telegram = TelegramChannel(make_app(), poll_timeout=1, retry_interval=0.02)
    await telegram.start()
    yield telegram
    await telegram.stop()


@pytest.fixture
async def webhook_channel(
    make_app: Callable[..., App],
) -> AsyncIterator[tuple[TelegramChannel, str]]:
    """A webhook channel on a shared aiohttp server; yields it and the server's base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = web.Application()
    telegram = TelegramChannel(
        make_app(telegram_webhook_url=f"{base}/telegram/webhook"), server, retry_interval=0.02
    )
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.SockSite(runner, listener).start()
    await telegram.start()
    yield telegram, base
    await telegram.stop()
    await runner.cleanup()


async def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll condition() every few milliseconds; fail when it is still false after timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


class Person:
    """Someone in a private chat with the bot; each call waits until the bot has answered."""

    def __init__(self, fake: FakeTelegram, channel: TelegramChannel, chat_id: int = 4242) -> None:
        self.fake = fake
        self.channel = channel
        self.chat_id = chat_id
        self.replies: list[Sent] = []

    async def _after(self, pushing: Awaitable[dict[str, Any]]) -> list[Sent]:
        """Push an update, wait until the channel took it and is idle again."""
        before = len(self.fake.sent(self.chat_id))
        update = await pushing
        await eventually(lambda: self.channel.newest_update >= update["update_id"])
        await self.channel.idle()
        self.replies = self.fake.sent(self.chat_id)[before:]
        return self.replies

    async def say(self, text: str) -> list[Sent]:
        return await self._after(self.fake.send_text(self.chat_id, text))

    async def push(self, update: dict[str, Any]) -> list[Sent]:
        return await self._after(self.fake.push(update))

    async def photo(self, data: bytes, caption: str = "") -> list[Sent]:
        return await self._after(self.fake.send_photo(self.chat_id, data, caption))

    async def press_data(self, data: str, message_id: int) -> list[Sent]:
        return await self._after(self.fake.press(self.chat_id, data, message_id))

    async def press(self, label: str) -> list[Sent]:
        """Press the button with this label on the bot's latest keyboard."""
        latest = next(m for m in reversed(self.fake.sent(self.chat_id)) if m.reply_markup)
        data = next((d for text, d in latest.buttons if text == label), None)
        assert data is not None, f"no button {label!r} in {latest.buttons}"
        return await self.press_data(data, latest.message_id)

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.replies)

    @property
    def last(self) -> str:
        assert self.replies, "the bot did not answer"
        return self.replies[-1].text

    @property
    def labels(self) -> list[str]:
        return [label for m in self.replies for label, _ in m.buttons]


@pytest.fixture
def person(telegram_api: FakeTelegram, channel: TelegramChannel) -> Person:
    return Person(telegram_api, channel)
