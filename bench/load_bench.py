"""Load: 200 reporters completing a report at the same time, through fake Telegram and Slack.

Everything `python -m bot run` starts, in one process, on a fresh database of a throwaway
PostgreSQL server: python-telegram-bot polling the fake Bot API on 127.0.0.1, the Slack desk
posting escalation cards to the fake Slack Web API from its own delivery loop (woken on commit,
polling each second), the scheduler, one aiohttp web server, the trained NLU and encryption at
rest. Each reporter runs the whole /melden flow (free text, buttons, a summary, "Klopt,
versturen") and asks for contact with the support team, so every confirmed report is a case
with an escalation card in Slack. A turn lasts from the fake offering the update to getUpdates
until the turn's last reply reached the fake; the fakes share the event loop with the bot.

Baseline in the same run, same servers and database: ten reporters one after another (an idle
bot), after one untimed reporter who warms everything up and shows how many messages each step
gets. Then 200 reporters at once, other chat ids, each sending the next message as soon as the
last reply arrived (so under load a turn's latency is mostly its wait behind the other 199).
Reported: throughput (turns/s, reports/s), p50/p95 turn latency and their ratio to the baseline,
CPU time per turn, confirmation to card in Slack, peak RSS of this process (PostgreSQL's own
processes not included), and, after the outbox is drained, counted in the database and the
fakes: reporters with no case or more than one, cases with no card or more than one in Slack,
replies to Telegram users missing or sent twice. All of these must be 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import resource
import statistics
import time
from collections import Counter
from typing import Any, cast

from aiohttp import web
from sqlalchemy import func, select

from bench import throwaway_postgres, transactions
from bot.app import FEATURES, App
from bot.base import crypto
from bot.base.settings import Settings
from bot.channels.slack import SlackDesk
from bot.channels.telegram import TelegramChannel
from bot.core.dialogue import Dialogue
from bot.jobs.scheduler import Scheduler
from bot.store import Case, OutboxMessage, Reporter, Store, open_store
from knowledge import Knowledge
from nlu import NLU, NLUUnavailable
from nlu.service import load_nlu
from tests.fakes.slack_api import BOT_TOKEN, CHANNEL, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram_api import TOKEN, FakeTelegram

PEOPLE = 200
ALONE = 10  # reporters one after another: the baseline
WAIT = 120.0  # seconds a turn may take before the reporter counts as stuck
DRAIN = 60.0  # seconds the outbox gets to empty after the last turn
REF = re.compile(r"WB-\d{4}-\d{4}")
# One report: a command, the story (through the NLU), buttons and free text, then confirm.
# Buttons are pressed by their label on the bot's latest keyboard, as a person would.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("text", "/melden"),
    ("text", "Er is iets naars gebeurd met een inwoner na afloop van de vergadering"),
    ("button", "Nee, dat was het"),  # nothing to add to the story
    ("button", "Bedreiging of intimidatie"),
    ("text", "gisteravond"),
    ("text", "Bij het gemeentehuis in Zwolle"),
    ("button", "Ikzelf"),
    ("button", "Geen bewijs / klaar"),
    ("button", "Al gedaan"),
    ("button", "Ja"),  # contact with the support team: the case is escalated
    ("button", "Nee"),  # no check-ins later
    ("button", "Klopt, versturen"),
)


class Stuck(Exception):
    """A reporter could not go on: no reply in time, or the expected button was missing."""


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _result(latencies: list[float], reports: list[float], seconds: float) -> dict[str, Any]:
    return {
        "reports": len(reports),
        "turns": len(latencies),
        "seconds": round(seconds, 2),
        "turns_per_second": round(len(latencies) / seconds, 1),
        "reports_per_second": round(len(reports) / seconds, 2),
        "turn_p50_ms": _ms(statistics.median(latencies)),
        "turn_p95_ms": _ms(_percentile(latencies, 0.95)),
        "turn_max_ms": _ms(max(latencies)),
        "report_p50_s": round(statistics.median(reports), 2),
        "report_p95_s": round(_percentile(reports, 0.95), 2),
    }


class LogCount(logging.Handler):
    """Counts warnings and errors by logger and message template (no personal data in either)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.name}: {record.msg}"] += 1


class Load:
    """The running bot with both fakes, and the reporters that talk to it."""

    def __init__(self, fake: FakeTelegram, telegram: TelegramChannel, error_text: str) -> None:
        self.fake = fake
        self.telegram = telegram
        self.error_text = error_text
        self.counts: list[int] = []  # messages the bot sends at each step of SCRIPT
        self.stuck: Counter[str] = Counter()
        self.error_replies = 0
        self.confirmed: dict[int, tuple[str, float]] = {}  # chat -> (case ref, reply arrived)

    async def _push(self, chat: int, kind: str, value: str) -> dict[str, Any]:
        if kind == "text":
            return await self.fake.send_text(chat, value)
        for sent in reversed(self.fake.sent(chat)):
            data = next((d for label, d in sent.buttons if label == value), None)
            if data is not None:
                return await self.fake.press(chat, data, sent.message_id)
        raise Stuck(f"no button {value!r}")

    async def learn_counts(self, chat: int) -> None:
        """One reporter, each turn waited out completely: how many messages each step gets."""
        for kind, value in SCRIPT:
            before = len(self.fake.sent(chat))
            await self._push(chat, kind, value)
            # The first reply means the turn runs in its lane; the lane ends after its last one.
            await self.fake.wait_sent(chat, before + 1, WAIT)
            await asyncio.wait_for(self.telegram.idle(), WAIT)
            self.counts.append(len(self.fake.sent(chat)) - before)
        last = self.fake.texts(chat)[-1]
        if not REF.search(last):
            raise RuntimeError(f"the report flow did not end in a case: {last[:200]!r}")

    async def report(self, chat: int) -> tuple[list[float], float | None]:
        """One reporter's whole report; turn latencies and the report's time (None if stuck)."""
        latencies: list[float] = []
        started = time.perf_counter()
        try:
            for (kind, value), expected in zip(SCRIPT, self.counts, strict=True):
                before = len(self.fake.sent(chat))
                update = await self._push(chat, kind, value)
                pushed = self.fake.pushed_at[update["update_id"]]
                try:
                    sent = await self.fake.wait_sent(chat, before + expected, WAIT)
                except asyncio.TimeoutError:
                    raise Stuck(f"no reply within {WAIT:.0f} s") from None
                latencies.append(sent[before + expected - 1].at - pushed)
                if any(m.text == self.error_text for m in sent[before:]):
                    self.error_replies += 1
            last = sent[-1]
            if found := REF.search(last.text):
                self.confirmed[chat] = (found.group(0), last.at)
        except Stuck as stuck:  # counted as a lost reporter; the others go on
            self.stuck[str(stuck)] += 1
            return latencies, None
        return latencies, time.perf_counter() - started

    async def one_by_one(self, chats: range) -> dict[str, Any]:
        cpu, started = _cpu_seconds(), time.perf_counter()
        runs = [await self.report(chat) for chat in chats]
        return self._summary(runs, time.perf_counter() - started, _cpu_seconds() - cpu)

    async def at_once(self, chats: range) -> dict[str, Any]:
        cpu, started = _cpu_seconds(), time.perf_counter()
        runs = await asyncio.gather(*(self.report(chat) for chat in chats))
        return self._summary(list(runs), time.perf_counter() - started, _cpu_seconds() - cpu)

    @staticmethod
    def _summary(
        runs: list[tuple[list[float], float | None]], seconds: float, cpu: float
    ) -> dict[str, Any]:
        latencies = [t for turns, _ in runs for t in turns]
        reports = [t for _, t in runs if t is not None]
        return {
            **_result(latencies, reports, seconds),
            "cpu_seconds": round(cpu, 1),  # this process, every thread
            "cpu_ms_per_turn": _ms(cpu / max(1, len(latencies))),
        }


async def _undelivered(store: Store) -> dict[str, int]:
    async with store.session() as session:
        rows = await session.execute(
            select(OutboxMessage.destination, func.count())
            .where(OutboxMessage.delivered_at.is_(None))
            .group_by(OutboxMessage.destination)
        )
        return {destination: count for destination, count in rows.all()}


async def _drain(store: Store, telegram: TelegramChannel) -> tuple[float, dict[str, int]]:
    """Wait (at most DRAIN seconds) until nothing is left undelivered in the outbox."""
    started = time.perf_counter()
    with contextlib.suppress(asyncio.TimeoutError):  # what is left is counted below
        await asyncio.wait_for(telegram.idle(), DRAIN)
    while True:
        left = await _undelivered(store)
        if not left or time.perf_counter() - started > DRAIN:
            return time.perf_counter() - started, left
        await asyncio.sleep(0.2)


def _cards(slack: FakeSlack) -> dict[str, list[float]]:
    """Escalation cards in the support channel by case reference: when each one arrived."""
    cards: dict[str, list[float]] = {}
    for posted in slack.top_level(CHANNEL):
        key = str(((posted.metadata or {}).get("event_payload") or {}).get("key", ""))
        if key.startswith("card:"):
            cards.setdefault(key.removeprefix("card:"), []).append(posted.at)
    return cards


def _card_latency(load: Load, slack: FakeSlack, chats: list[int]) -> dict[str, float | None]:
    """From the reporter's confirmation arriving to the case's first card arriving in Slack."""
    cards = _cards(slack)
    waits = [
        min(cards[ref]) - at
        for ref, at in (load.confirmed[chat] for chat in chats if chat in load.confirmed)
        if ref in cards
    ]
    if not waits:
        return {"confirm_to_card_p50_ms": None, "confirm_to_card_p95_ms": None}
    return {
        "confirm_to_card_p50_ms": _ms(statistics.median(waits)),
        "confirm_to_card_p95_ms": _ms(_percentile(waits, 0.95)),
    }


async def _integrity(
    store: Store, fake: FakeTelegram, slack: FakeSlack, chats: list[int], counts: list[int]
) -> dict[str, Any]:
    """Cases per reporter, cards per case, messages per chat: each should be exactly as planned."""
    users = [f"telegram:{chat}" for chat in chats]
    async with store.session() as session:
        rows = await session.execute(
            select(Reporter.user_key, Case.ref, Case.slack_ts)
            .join(Case, Case.reporter_id == Reporter.id)
            .where(Reporter.user_key.in_(users))
        )
        cases = rows.all()
        queued = await session.execute(
            select(OutboxMessage).where(OutboxMessage.destination == "support")
        )
        escalations = Counter(
            str(m.payload.get("case"))
            for m in queued.scalars()
            if m.payload.get("kind") == "escalation"
        )
    per_reporter = Counter(user for user, _, _ in cases)
    refs = [ref for _, ref, _ in cases]
    cards = {ref: len(times) for ref, times in _cards(slack).items()}
    expected = sum(counts)
    sent = [len(fake.sent(chat)) for chat in chats]
    return {
        "reporters": len(chats),
        "cases": len(cases),
        "lost_cases": sum(1 for user in users if per_reporter[user] == 0),
        "duplicated_cases": sum(1 for user in users if per_reporter[user] > 1),
        "escalations_queued": sum(escalations[ref] for ref in refs),
        "cards_in_slack": sum(cards.get(ref, 0) for ref in refs),
        "lost_escalations": sum(1 for ref in refs if cards.get(ref, 0) == 0),
        "duplicated_escalations": sum(1 for ref in refs if cards.get(ref, 0) > 1),
        "cases_without_card_ts": sum(1 for _, _, ts in cases if ts is None),
        "replies_expected": expected * len(chats),
        "replies_sent": sum(sent),
        "missing_replies": sum(max(0, expected - n) for n in sent),
        "duplicated_replies": sum(max(0, n - expected) for n in sent),
    }


async def _measure(url: str, nlu: NLU, knowledge: Knowledge) -> dict[str, Any]:
    key = crypto.new_key()
    previous_keys = crypto.use([key])
    fake, slack = FakeTelegram(), FakeSlack(members=("U0BOTUSER",))
    await fake.start()
    await slack.start()
    store = await open_store(url)
    settings = Settings(
        database_url=url,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake.base_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_support_channel=CHANNEL,
        slack_api_base_url=slack.url,
        encryption_keys=(key,),
    )
    dialogue = Dialogue(store, nlu, settings, knowledge, features=FEATURES)
    app = App(settings, store, nlu, knowledge, dialogue)
    shared = web.Application()  # one web server for both, as `python -m bot run` has it
    scheduler = Scheduler(store, settings, FEATURES.jobs)
    desk = SlackDesk(app, shared, scheduler=scheduler)  # delivery loop: poll_seconds=1.0
    telegram = TelegramChannel(app, shared, poll_timeout=1)
    runner = web.AppRunner(shared, access_log=None)
    logged = LogCount()
    quiet = logging.getLogger("weerbaar")
    quiet.addHandler(logged)
    quiet.propagate = False
    load = Load(fake, telegram, dialogue.text("error"))
    try:
        await scheduler.start()
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        await desk.start()
        await telegram.start()

        await load.learn_counts(30_000)  # also warms up every part; not timed
        baseline = await load.one_by_one(range(20_000, 20_000 + ALONE))
        rss_before = _peak_rss_mb()
        started = time.perf_counter()
        with transactions(store) as counted:
            busy = await load.at_once(range(10_000, 10_000 + PEOPLE))
        busy["transactions_per_turn"] = counted.per(busy["turns"])  # every part of the bot
        drain_seconds, left = await _drain(store, telegram)
        peak_rss = _peak_rss_mb()
        crowd = list(range(10_000, 10_000 + PEOPLE))
        alone = list(range(20_000, 20_000 + ALONE))
        baseline.update(_card_latency(load, slack, alone))
        busy.update(_card_latency(load, slack, crowd))
        cards = _cards(slack)
        crowd_refs = [load.confirmed[chat][0] for chat in crowd if chat in load.confirmed]
        last_card = max((max(cards[ref]) for ref in crowd_refs if ref in cards), default=None)
        integrity = await _integrity(store, fake, slack, crowd, load.counts)
        baseline_integrity = await _integrity(store, fake, slack, [30_000, *alone], load.counts)
    finally:
        await telegram.stop()
        await desk.stop()
        await runner.cleanup()
        await scheduler.stop()
        await store.close()
        await slack.stop()
        await fake.close()
        quiet.removeHandler(logged)
        quiet.propagate = True
        crypto.restore(previous_keys)
    card_p95 = busy["confirm_to_card_p95_ms"]
    return {
        "card_p95_s": None if card_p95 is None else round(card_p95 / 1000, 2),
        "transactions_per_turn": busy["transactions_per_turn"],
        "lost_reporters": sum(load.stuck.values()),
        "people": PEOPLE,
        "turns_per_report": len(SCRIPT),
        "messages_per_report": sum(load.counts),
        "one_at_a_time": baseline,
        f"{PEOPLE}_at_once": busy,
        "vs_one_at_a_time": {
            "turn_p50_ratio": round(busy["turn_p50_ms"] / baseline["turn_p50_ms"], 2),
            "turn_p95_ratio": round(busy["turn_p95_ms"] / baseline["turn_p95_ms"], 2),
            "turns_per_second_ratio": round(
                busy["turns_per_second"] / baseline["turns_per_second"], 2
            ),
            "cpu_per_turn_ratio": round(busy["cpu_ms_per_turn"] / baseline["cpu_ms_per_turn"], 2),
        },
        "all_cards_in_slack_after_s": round(last_card - started, 2) if last_card else None,
        "drain_seconds": round(drain_seconds, 2),
        "undelivered_after_drain": left,
        "peak_rss_mb": peak_rss,
        "peak_rss_mb_before_load": rss_before,
        "integrity": integrity,
        "integrity_one_at_a_time": baseline_integrity,
        "stuck_reporters": dict(load.stuck),
        "error_replies": load.error_replies,
        "log_warnings": dict(logged.counts.most_common(10)),
        "bot_api_calls": dict(sorted(fake.calls.items())),
        "slack_api_calls": dict(sorted(slack.calls.items())),
    }


async def _run() -> dict[str, Any]:
    server = throwaway_postgres()
    if isinstance(server, str):
        return {"skipped": server}
    try:
        nlu: NLU = await load_nlu()
        model = "trained"
    except NLUUnavailable:
        from tests.fakes.keyword_nlu import KeywordNLU

        nlu, model = cast(NLU, KeywordNLU()), "keyword stand-in (no trained model)"
    try:
        server.start()
        url = server.create_database("load_bench")
        result = await _measure(url, nlu, Knowledge.load())
    finally:
        server.destroy()
        if (close := getattr(nlu, "aclose", None)) is not None:  # the stand-in has none
            await close()
    return {**result, "database": "postgresql", "nlu": model}


def run() -> dict[str, Any]:
    """Throughput, p50/p95 turn latency, peak RSS and lost/duplicated cases and cards at 200."""
    return asyncio.run(_run())


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
