"""TELEGRAM_API_BASE_URL as a server root and in python-telegram-bot's own form (…/bot)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from bot.app import App
from bot.base.crypto import new_key
from bot.base.settings import Settings
from bot.channels.telegram import TelegramChannel
from tests.fakes.telegram_api import TOKEN, FakeTelegram
from tests.plugins.telegram import Person


@pytest.mark.parametrize("suffix", ["", "/bot", "/bot/"], ids=["root", "ptb-form", "ptb-slash"])
async def test_the_bot_api_address_works_in_both_forms(
    fake: FakeTelegram, make_app: Callable[..., App], database_url: str, suffix: str
) -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": fake.base_url + suffix,
            "WEERBAAR_ENCRYPTION_KEYS": new_key(),
        }
    )
    assert settings.telegram_api_base_url == fake.base_url.rstrip("/")
    app = make_app()
    app.settings = replace(app.settings, telegram_api_base_url=settings.telegram_api_base_url)
    channel = TelegramChannel(app, poll_timeout=1, retry_interval=0.02)
    await channel.start()
    try:
        person = Person(fake, channel)
        await person.say("/start")
        assert person.last.startswith("Hallo, ik ben de assistent van Weerbaar.")
    finally:
        await channel.stop()
