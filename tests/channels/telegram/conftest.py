"""In the Telegram tests, `fake` is the fake Bot API (elsewhere it is the fake Slack)."""

from __future__ import annotations

import pytest

from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
def fake(telegram_api: FakeTelegram) -> FakeTelegram:
    return telegram_api
