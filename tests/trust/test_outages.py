"""Outages delay and never drop: the real `python -m bot run` on PostgreSQL, fake Telegram.

A message that fails on its own (a poison message) is set aside as a dead letter, shown in
/healthz and in Slack, and handled after an operator's fix; PostgreSQL stopped for 20 s and for
70 s delays every message and loses none, in polling mode and in webhook mode.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, text

from bot.store import DeadLetter, Delivery, Store, open_store
from flows import catalog
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.plugins.desk import BOT_TOKEN, CHANNEL, SIGNING_SECRET
from tests.plugins.rasa import StandInRasa
from tests.postgres import PostgresServer
from tests.trust.processes import Worker, run_bot, telegram_env

POISON = "Dit bericht laat de taalherkenning struikelen"


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
    env = telegram_env(
        database_url,
        rasa_server.url,
        telegram.base_url,
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
            done = await asyncio.to_thread(run_bot, env, "deadletters", "retry", "1")
            assert done.returncode == 0, done.stderr
            await telegram.wait_sent(501, 3, timeout=30)
            assert telegram.sent(501)[2].text == texts["fallback"]
            listed = await asyncio.to_thread(run_bot, env, "deadletters", "list", "--json")
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


SCRIPT = ("/start", "/privacy", "/help")  # each answered by one message, the same every time
CHATS = 5
SPACING = 3.0  # seconds between a reporter's messages during an outage


class Reporters:
    """Five reporters on one worker, each sending SCRIPT in order."""

    def __init__(self, fake: FakeTelegram, first_chat: int) -> None:
        self.fake = fake
        self.chats = [first_chat + n for n in range(CHATS)]
        self.pushed: list[int] = []  # update ids

    async def chat(self, chat_id: int, spacing: float) -> None:
        for number, command in enumerate(SCRIPT):
            if number:
                await asyncio.sleep(spacing)
            update = await self.fake.send_text(chat_id, command)  # webhook: until answered 2xx
            self.pushed.append(update["update_id"])

    async def everyone(self, spacing: float) -> None:
        await asyncio.gather(*(self.chat(c, spacing) for c in self.chats))

    def counts(self) -> dict[int, int]:
        return {c: len(self.fake.sent(c)) for c in self.chats}


async def _answered(
    reporters: Reporters, before: dict[int, int], more: int, timeout: float
) -> None:
    await _until(
        lambda: all(len(reporters.fake.sent(c)) >= before[c] + more for c in reporters.chats),
        timeout,
        lambda: (before, reporters.counts()),
    )


@pytest.mark.long
@pytest.mark.postgres
async def test_postgres_stopped_for_20_and_70_seconds_delays_every_message_and_drops_none(
    postgres: PostgresServer, rasa: str, tmp_path: Path, keys: tuple[str, ...]
) -> None:
    """Polling and webhook workers side by side, each on its own database of one server."""
    notice = catalog().texts["outage"]
    fakes = [FakeTelegram(), FakeTelegram()]
    for fake in fakes:
        await fake.start()
    fakes[1].webhook_attempts = 100_000  # as Telegram: again and again until it is answered 2xx
    fakes[1].webhook_retry_seconds = 0.5
    urls = [postgres.create_database(f"outage_{mode}_{os.getpid()}") for mode in ("poll", "hook")]
    polling = Worker("polling", telegram_env(urls[0], rasa, fakes[0].base_url), tmp_path)
    webhook = Worker("webhook", telegram_env(urls[1], rasa, fakes[1].base_url), tmp_path)
    webhook.env["TELEGRAM_WEBHOOK_URL"] = f"http://127.0.0.1:{webhook.port}/telegram/webhook"
    workers = (polling, webhook)
    groups = [Reporters(fakes[0], 601), Reporters(fakes[1], 701)]
    try:
        async with aiohttp.ClientSession() as http:
            for worker in workers:
                await worker.start()
            for worker in workers:
                await _healthy(worker, http, status="ok")
            assert fakes[1].webhook is not None and fakes[0].webhook is None

            # Before any outage: what the script is answered with.
            for group in groups:
                before = group.counts()
                await group.everyone(spacing=0.5)
                await _answered(group, before, len(SCRIPT), 60)
            await asyncio.sleep(1.0)  # nothing more comes
            expected = [m.text for m in fakes[0].sent(601)]
            assert len(expected) == len(SCRIPT) and notice not in expected
            for group in groups:
                for chat in group.chats:
                    assert [m.text for m in group.fake.sent(chat)] == expected

            for down in (20.0, 70.0):
                before_all = [g.counts() for g in groups]
                await asyncio.to_thread(postgres.stop, "fast")
                stopped = asyncio.get_running_loop().time()
                chatting = asyncio.gather(*(g.everyone(spacing=SPACING) for g in groups))
                await asyncio.sleep(down)
                for worker in workers:  # /healthz still answers, and says what is wrong
                    health = await worker.health(http)
                    assert health is not None and health["store"] == "unavailable", health
                for group, before in zip(groups, before_all, strict=True):
                    for chat in group.chats:  # nothing was answered while the store was away
                        assert len(group.fake.sent(chat)) <= before[chat] + 1
                await asyncio.to_thread(postgres.start, postgres.port)
                assert asyncio.get_running_loop().time() - stopped >= down
                await asyncio.wait_for(chatting, 120)
                for group, before in zip(groups, before_all, strict=True):
                    await _answered(group, before, len(SCRIPT) + 1, 120)
                await asyncio.sleep(1.0)  # nothing more comes
                for group, before in zip(groups, before_all, strict=True):
                    for chat in group.chats:
                        after = [m.text for m in group.fake.sent(chat)[before[chat] :]]
                        # Told once, during the outage; then every message answered, in order.
                        assert after == [notice, *expected], (down, chat, after)
            for worker in workers:
                await _healthy(worker, http, status="ok", store="ok", dead_letters=0)
    finally:
        for worker in workers:
            await worker.stop()
        for fake in fakes:
            await fake.close()

    for url, group in zip(urls, groups, strict=True):
        store = await open_store(url)
        async with store.session() as session:
            handled = set((await session.execute(select(Delivery.key))).scalars())
            assert not (await session.execute(select(DeadLetter))).first()
        await store.close()
        assert len(group.pushed) == CHATS * len(SCRIPT) * 3
        assert {f"telegram:{u}" for u in group.pushed} <= handled  # no update skipped
    assert 503 in fakes[1].webhook_statuses  # the webhook said "not now" during the outages
    for worker in workers:
        log = worker.log_text()
        assert "waits for the store" in log and "set aside" not in log
        assert "Traceback" not in log
