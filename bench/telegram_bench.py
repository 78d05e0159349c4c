"""Telegram channel: turns per second and turn latency for 200 people at once, via a fake Bot API.

Three runs of the same conversations on a fresh database each, in the same bench run:
  core      the dialogue core called directly (replies queued in the outbox, nothing sent);
  outbox    the core plus outbox delivery to a sender that does nothing;
  telegram  the whole channel: python-telegram-bot polling a fake Bot API on 127.0.0.1,
            button answers, keyboards, sendMessage; latency from the update being offered
            to getUpdates until the turn's last reply reached the fake.
Each run lets at most 32 turns work at once (the channel's default), and runs ten people one
after another (an idle bot) before the 200 at once: first each sending the next message as soon
as the last reply arrived (idle_p50_ratio_to_core), then ten others who read for a quarter of a
second first (reading_p50_ratio_to_core), so that what a turn leaves to do after its replies
(marks, the button's answer) does not run into the next turn's time. The fake Bot API and the
people run in a process of their own (bench.telegram_people), as Telegram and the phones do:
the bot's process does only the bot's work. They still share this machine's two cores with the
bot, the NLU service and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import transactions
from bot.app import FEATURES, App
from bot.base.messages import Incoming
from bot.base.settings import Settings
from bot.channels.telegram import TelegramChannel, pending
from bot.core.dialogue import Dialogue
from bot.store import Store, open_store
from bot.store.outbox import deliver_due
from knowledge import Knowledge
from nlu import NLU, NLUUnavailable
from nlu.service import load_nlu
from tests.fakes.telegram_api import TOKEN

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 200
SLOTS = 32  # turns at once, in every run (the channel's max_turns)
ALONE = 10  # people who talk one after another, for the latency of an idle bot
PAUSE = 0.25  # seconds a person reads before the next message, in the second idle measurement
IDLE = ("one_at_a_time", "one_at_a_time_reading")
WAIT = 60.0  # seconds a turn may take before it counts as lost
# One conversation: a command, a menu button, a story (through the NLU), a choice.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("text", "/start"),
    ("button", "intent:report_incident"),
    ("text", "Er is iets naars gebeurd met een inwoner na afloop van de vergadering"),
    ("button", "bedreiging"),
)
# These chats at once, with this pause before each next message: their turn latencies.
Together = Callable[[list[int], float], Awaitable[list[float]]]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _result(latencies: list[float], seconds: float) -> dict[str, Any]:
    return {
        "turns": len(latencies),
        "seconds": round(seconds, 2),
        "turns_per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
    }


async def _measure_people(store: Store, together: Together) -> dict[str, Any]:
    """Ten people one after another (twice: at once and with a pause between a person's
    messages), then 200 at once (other chat ids each time)."""
    started = time.perf_counter()
    alone = [t for person in range(ALONE) for t in await together([20_000 + person], 0.0)]
    one_by_one = _result(alone, time.perf_counter() - started)
    paused = [t for person in range(ALONE) for t in await together([30_000 + person], PAUSE)]
    started = time.perf_counter()
    with transactions(store) as counted:
        latencies = await together([10_000 + person for person in range(PEOPLE)], 0.0)
    at_once = _result(latencies, time.perf_counter() - started)
    at_once["transactions_per_turn"] = counted.per(len(latencies))
    return {
        "one_at_a_time": one_by_one,
        "one_at_a_time_reading": _result(paused, sum(paused)),  # turns/s while busy
        f"{PEOPLE}_at_once": at_once,
    }


@asynccontextmanager
async def _database(kind: str) -> AsyncIterator[str]:
    """A fresh SQLite file, or a fresh database on a throwaway PostgreSQL server."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    from tests.postgres import PostgresServer

    server = PostgresServer.create()
    server.start()
    try:
        yield server.create_database("telegram_bench")
    finally:
        server.destroy()


def _incoming(user: str, step: tuple[str, str]) -> Incoming:
    kind, value = step
    return Incoming(user=user, text=value) if kind == "text" else Incoming(user=user, button=value)


async def _core(
    store: Store, dialogue: Dialogue, deliver: bool
) -> tuple[dict[str, Any], list[int]]:
    """The baseline: each turn straight into the core; also the reply count of each step."""
    counts: list[int] = []

    async def ignore(payload: dict[str, Any], retry: bool) -> None:
        return None

    slots = asyncio.Semaphore(SLOTS)

    async def conversation(chat: int, pause: float) -> list[float]:
        user = f"telegram:{chat}"
        latencies = []
        for number, step in enumerate(SCRIPT):
            if number and pause:
                await asyncio.sleep(pause)
            started = time.perf_counter()
            async with slots:
                replies = await dialogue.handle(_incoming(user, step), queue_replies=True)
                if deliver and (reporter := await pending.sendable(store, user)) is not None:
                    await deliver_due(store, "user", ignore, reporter_id=reporter)
            latencies.append(time.perf_counter() - started)
            if len(counts) < len(SCRIPT):
                counts.append(len(replies))
        return latencies

    async def together(chats: list[int], pause: float) -> list[float]:
        runs = await asyncio.gather(*(conversation(chat, pause) for chat in chats))
        return [t for run in runs for t in run]

    return await _measure_people(store, together), counts


class People:
    """The fake Bot API and the people who use it, in their own process (bench.telegram_people)."""

    def __init__(self, process: asyncio.subprocess.Process, base_url: str) -> None:
        self.process = process
        self.base_url = base_url

    @classmethod
    async def start(cls) -> People:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.telegram_people",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        people = cls(process, "")
        people.base_url = (await people._answer())["base_url"]
        return people

    async def _ask(self, question: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(question).encode() + b"\n")
        await self.process.stdin.drain()
        return await self._answer()

    async def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError("the Telegram side of the bench ended early")
        return dict(json.loads(line))

    async def talk(
        self, chats: list[int], counts: list[int], pause: float
    ) -> tuple[list[float], int]:
        """These people at once, the whole script each: turn latencies and people lost."""
        question = {
            "chats": chats,
            "script": SCRIPT,
            "counts": counts,
            "wait": WAIT,
            "pause": pause,
        }
        answer = await self._ask(question)
        return list(answer["latencies"]), int(answer["lost"])

    async def calls(self) -> dict[str, int]:
        return dict((await self._ask({"calls": True}))["calls"])

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        await self.process.wait()


async def _telegram(app: App, counts: list[int]) -> dict[str, Any]:
    """The whole channel against the fake Bot API; a turn ends when its last reply arrived."""
    people = await People.start()
    app.settings = replace(
        app.settings, telegram_bot_token=TOKEN, telegram_api_base_url=people.base_url
    )
    channel = TelegramChannel(app, poll_timeout=1, max_turns=SLOTS)
    await channel.start()
    lost = 0

    async def together(chats: list[int], pause: float) -> list[float]:
        nonlocal lost
        latencies, gone = await people.talk(chats, counts, pause)
        lost += gone
        return latencies

    try:
        result = await _measure_people(app.store, together)
        result["bot_api_calls"] = await people.calls()
    finally:
        await channel.stop()
        await people.stop()
    result["lost_reporters"] = lost
    return result


async def _measure(kind: str, nlu: NLU, knowledge: Knowledge) -> dict[str, Any]:
    results: dict[str, Any] = {}
    counts: list[int] = []
    for mode in ("core", "outbox", "telegram"):
        async with _database(kind) as url:
            store = await open_store(url)
            settings = Settings(database_url=url)
            dialogue = Dialogue(store, nlu, settings, knowledge, features=FEATURES)
            try:
                if mode == "telegram":
                    app = App(settings, store, nlu, knowledge, dialogue)
                    results[mode] = await _telegram(app, counts)
                else:
                    results[mode], found = await _core(store, dialogue, deliver=mode == "outbox")
                    counts = counts or found
            finally:
                await store.close()
    busy = f"{PEOPLE}_at_once"
    core, channel = results["core"][busy], results["telegram"][busy]
    idle = {k: (results["core"][k]["p50_ms"], results["telegram"][k]["p50_ms"]) for k in IDLE}
    results["telegram_vs_core"] = {
        "throughput_ratio": round(channel["turns_per_second"] / core["turns_per_second"], 2),
        "idle_p50_ratio": round(idle["one_at_a_time"][1] / idle["one_at_a_time"][0], 2),
        "reading_p50_ratio": round(
            idle["one_at_a_time_reading"][1] / idle["one_at_a_time_reading"][0], 2
        ),
        "p50_ratio": round(channel["p50_ms"] / core["p50_ms"], 2),
        "p95_ratio": round(channel["p95_ms"] / core["p95_ms"], 2),
        "idle_p50_added_ms": round(idle["one_at_a_time"][1] - idle["one_at_a_time"][0], 1),
    }
    return results


async def _run() -> dict[str, Any]:
    try:
        nlu: NLU = await load_nlu()
        model = "trained"
    except NLUUnavailable:
        from tests.fakes.keyword_nlu import KeywordNLU

        nlu, model = KeywordNLU(), "keyword stand-in (no trained model)"
    knowledge = Knowledge.load()
    skipped: dict[str, Any] = {}
    try:
        measured = {"sqlite": await _measure("sqlite", nlu, knowledge)}
        if os.environ.get("BENCH_POSTGRES", "1") != "0":
            from tests.postgres import PostgresMissing

            try:
                measured["postgresql"] = await _measure("postgresql", nlu, knowledge)
            except PostgresMissing as missing:
                skipped["postgresql"] = {"skipped": str(missing)}
    finally:
        if (close := getattr(nlu, "aclose", None)) is not None:  # the stand-in has none
            await close()
    ratios = {kind: result["telegram_vs_core"] for kind, result in measured.items()}
    return {
        "people": PEOPLE,
        "turns_per_person": len(SCRIPT),
        "nlu": model,
        # Telegram turns/s over the core's, same run, 200 at once: the lower of the databases.
        "ratio_to_core": min(r["throughput_ratio"] for r in ratios.values()),
        "idle_p50_ratio_to_core": max(r["idle_p50_ratio"] for r in ratios.values()),
        # The same with a person who reads for PAUSE seconds before the next message.
        "reading_p50_ratio_to_core": max(r["reading_p50_ratio"] for r in ratios.values()),
        **measured,
        **skipped,
    }


def run() -> dict[str, Any]:
    return asyncio.run(_run())
