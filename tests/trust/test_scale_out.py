"""Two workers (`python -m bot run`, webhook mode) on one PostgreSQL behind one address.

A small round-robin proxy stands in for the load balancer; the fake Bot API posts updates to it
as Telegram does: a chat's next update only after the answer to the previous one, and again when
the answer is not a 2xx. Halfway, the worker that runs the scheduler is killed (SIGKILL).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.store import Case, Delivery, OutboxMessage, Reporter, Store, open_store
from tests.fakes.telegram_api import FakeTelegram, Sent
from tests.trust.processes import Worker, telegram_env
from tests.trust.reporters import Persona

PEOPLE = 24
WEBHOOK_PATH = "/telegram/webhook"


class Proxy:
    """One address in front of the workers: each request to the next worker in turn."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers
        self.in_flight: dict[int, set[int]] = {w.port: set() for w in workers}  # update ids
        self._turn = itertools.cycle(workers)
        self._client = aiohttp.ClientSession()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        server = web.Application()
        server.router.add_post(WEBHOOK_PATH, self._forward)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}{WEBHOOK_PATH}"

    async def _forward(self, request: web.Request) -> web.Response:
        worker = next(self._turn)
        body = await request.read()
        update_id = json.loads(body)["update_id"]
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-")}
        self.in_flight[worker.port].add(update_id)
        try:
            async with self._client.post(
                f"http://127.0.0.1:{worker.port}{request.path}",
                data=body,
                headers=headers | {"Content-Type": "application/json"},
            ) as reply:
                return web.Response(status=reply.status, body=await reply.read())
        except aiohttp.ClientError:
            return web.Response(status=502)
        finally:
            self.in_flight[worker.port].discard(update_id)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self._client.close()


async def _stored_but_unanswered(store: Store, proxy: Proxy, worker: Worker) -> bool:
    """Whether the worker holds a request whose turn is stored but not yet answered."""
    keys = [f"telegram:{u}" for u in proxy.in_flight[worker.port]]
    if not keys:
        return False
    async with store.session() as session:
        found = await session.execute(select(Delivery.key).where(Delivery.key.in_(keys)))
        return found.first() is not None


async def _all_delivered(store: Store, chat_id: int) -> bool:
    async with store.session() as session:
        waiting = await session.execute(
            select(func.count(OutboxMessage.id))
            .join(Reporter, Reporter.id == OutboxMessage.reporter_id)
            .where(
                Reporter.user_key == f"telegram:{chat_id}",
                OutboxMessage.delivered_at.is_(None),
            )
        )
        return waiting.scalar_one() == 0


def _seen(messages: list[Sent]) -> list[dict[str, Any]]:
    return [
        {"text": m.text, "buttons": [{"label": label, "payload": d} for label, d in m.buttons]}
        for m in messages
    ]


async def _report(fake: FakeTelegram, store: Store, persona: Persona, chat_id: int) -> None:
    """The persona completes a report; each update is stored before the next is sent."""
    while not persona.done:
        assert persona.turns < 60, persona.last
        before = len(fake.sent(chat_id))
        message = persona.next_input()
        if "button" in message:
            sent = fake.sent(chat_id)
            target = next(
                m for m in reversed(sent) if any(d == message["button"] for _, d in m.buttons)
            )
            await fake.press(chat_id, message["button"], target.message_id)
        else:
            await fake.send_text(chat_id, message["text"])
        # The answer to the webhook came after the turn was stored: its replies are queued.
        for _ in range(1800):  # a message leased by the killed worker waits for the lease
            if await _all_delivered(store, chat_id):
                break
            await asyncio.sleep(0.1)
        persona.saw(_seen(fake.sent(chat_id)[before:]))


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_webhook_workers_keep_order_handle_once_and_hand_over_the_scheduler(
    database_url: str, rasa: str, tmp_path: Path, keys: tuple[str, ...]
) -> None:
    fake = FakeTelegram()
    await fake.start()
    fake.webhook_attempts = 600
    fake.webhook_retry_seconds = 0.1
    env = telegram_env(database_url, rasa, fake.base_url)
    first, second = Worker("first", env, tmp_path), Worker("second", env, tmp_path)
    proxy = Proxy([first, second])
    await proxy.start()
    for worker in (first, second):
        worker.env["TELEGRAM_WEBHOOK_URL"] = proxy.url
    store = await open_store(database_url)
    personas = [Persona(n) for n in range(PEOPLE)]
    try:
        async with aiohttp.ClientSession() as http:
            await first.start()
            await first.wait_until(http, "active", timeout=120)
            await second.start()
            await second.wait_until(http, "standby", timeout=120)
            assert fake.webhook is not None and fake.webhook["url"] == proxy.url

            reports = [
                asyncio.create_task(_report(fake, store, p, 9000 + p.number)) for p in personas
            ]
            while sum(p.turns for p in personas) < PEOPLE * 4:
                for report in reports:
                    if report.done():
                        report.result()  # a report that failed says why
                await asyncio.sleep(0.05)
            # Replies wait: turns are stored, their webhook requests not answered yet. Kill the
            # first worker then, so Telegram sends such an update again, to the second.
            sending = fake.hold("sendMessage")
            for _ in range(400):
                if await _stored_but_unanswered(store, proxy, first):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("no stored turn in flight on the first worker")
            assert first.process is not None
            first.process.kill()
            sending.set()
            await asyncio.gather(*reports)
            await second.wait_until(http, "active", timeout=30)
    finally:
        await first.stop()
        await second.stop()
        await proxy.close()
        await fake.close()

    async with store.session() as session:
        cases = list((await session.execute(select(Case))).scalars())
        written = await session.execute(
            select(OutboxMessage.reporter_id, func.count(OutboxMessage.id))
            .where(OutboxMessage.destination == "user")
            .group_by(OutboxMessage.reporter_id)
        )
        replies_written = {reporter: count for reporter, count in written.all()}
    await store.close()
    by_reporter = {c.reporter.user_key: c for c in cases}
    assert len(cases) == len(by_reporter) == PEOPLE  # one report each: none lost, none twice
    for persona in personas:
        case = by_reporter[f"telegram:{9000 + persona.number}"]
        assert (case.ref, case.story, case.location) == (persona.ref, persona.story, persona.place)
    # Every person took the same path: an update handled twice or out of order would have
    # pushed someone off it (a stale button, a question asked again, an answer in the wrong
    # place), and the path would be longer.
    assert len({p.turns for p in personas}) == 1, sorted(p.turns for p in personas)
    # And every update was handled once: an update handled twice writes its replies twice.
    assert len(replies_written) == PEOPLE
    assert len(set(replies_written.values())) == 1, sorted(replies_written.values())
    assert 502 in fake.webhook_statuses  # the kill was felt
    assert "handled before; ignored" in second.log_text()  # and a stored turn came again
    logs = first.log_text() + second.log_text()
    assert "Traceback" not in logs
    for persona in personas:
        assert not any(word in logs for word in persona.secrets)
