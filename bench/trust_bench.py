"""Bad input at volume: over 10,000 generated inputs, and how many crashed (must be 0).

Three front doors, with the generators of tests/trust/strategies.py: the dialogue core (real NLU,
SQLite; arbitrary Unicode, huge, empty, forged and replayed buttons, malformed files), the JSON
chat's line reader, and the support desk's HTTP handler (forged, stale and missing signatures,
malformed payloads) against the fake Slack. A crash is an exception out of the front door, a
reply that shows a traceback or says the turn failed, a 5xx, or a conversation that no longer
starts a report. Baseline in the same run: ordinary, scripted turns through the same core.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings

DIALOGUE_INPUTS = 4000
LINE_INPUTS = 4000
SLACK_INPUTS = 2500
USERS = 40  # generated messages rotate over these reporters, so conversations get long
BASELINE_REPORTS = 60  # scripted reports, each turn timed


def _stats(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100)
    return {"p50_ms": round(statistics.median(samples), 3), "p95_ms": round(cuts[94], 3)}


def _generate(count: int) -> settings:
    return settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def _drive(strategy: Any, count: int, check: Callable[[Any], None]) -> None:
    """Feed `count` generated values to `check` (which records failures instead of raising)."""
    given(strategy)(_generate(count)(check))()


def _dialogue(loop: asyncio.AbstractEventLoop, folder: Path) -> dict[str, Any]:
    from bot.app import FEATURES
    from bot.base.messages import Incoming
    from bot.base.settings import Settings
    from bot.core.dialogue import Dialogue
    from bot.store import open_store
    from knowledge import Knowledge
    from nlu.service import load_nlu
    from tests.trust import strategies
    from tests.trust.reporters import Persona, seen

    store = loop.run_until_complete(open_store(f"sqlite+aiosqlite:///{folder / 'trust.db'}"))
    nlu = loop.run_until_complete(load_nlu())
    dialogue = Dialogue(store, nlu, Settings(), Knowledge.load(), features=FEATURES)
    offered: dict[str, list[str]] = {}
    crashes: Counter[str] = Counter()
    times: list[float] = []
    inputs = 0

    def check(message: tuple[Any, ...]) -> None:
        nonlocal inputs
        user = f"local:trust{inputs % USERS}"
        inputs += 1
        pressed = offered.get(user, [])
        started = time.perf_counter()
        try:
            replies = loop.run_until_complete(
                dialogue.handle(strategies.incoming(user, message, pressed))
            )
        except Exception as error:
            crashes[f"exception {type(error).__name__}"] += 1
            return
        times.append((time.perf_counter() - started) * 1000)
        if not replies or any("Traceback" in r.text for r in replies):
            crashes["traceback or silence"] += 1
        if any(r.text == dialogue.text("error") for r in replies):
            crashes["turn failed"] += 1
        offered[user] = (pressed + [b.payload for r in replies for b in r.buttons])[-50:]
        if inputs % 100 == 0:  # the conversation still works: a report can start
            fresh = loop.run_until_complete(dialogue.handle(Incoming(user, "/melden")))
            if "Vertel in je eigen woorden" not in fresh[-1].text:
                crashes["conversation broken"] += 1

    started = time.perf_counter()
    _drive(strategies.messages, DIALOGUE_INPUTS, check)
    seconds = time.perf_counter() - started

    baseline: list[float] = []
    for number in range(BASELINE_REPORTS):
        persona = Persona(number)
        while not persona.done:
            message = persona.next_input()
            before = time.perf_counter()
            replies = loop.run_until_complete(
                dialogue.handle(
                    Incoming(
                        f"local:{persona.name}", message.get("text", ""), message.get("button")
                    )
                )
            )
            baseline.append((time.perf_counter() - before) * 1000)
            persona.saw(seen(replies))
    loop.run_until_complete(nlu.aclose())
    loop.run_until_complete(store.close())
    return {
        "inputs": inputs,
        "crashes": sum(crashes.values()),
        "crash_kinds": dict(crashes),
        "seconds": round(seconds, 1),
        "turn": _stats(times),
        "baseline_scripted_turn": _stats(baseline),
        "baseline_turns": len(baseline),
    }


def _lines() -> dict[str, Any]:
    from bot.channels.local import BadInput, read_line
    from tests.trust import strategies

    counts: Counter[str] = Counter()
    times: list[float] = []

    def check(raw: bytes) -> None:
        started = time.perf_counter()
        try:
            read_line(raw, "local:bench")
            counts["message"] += 1
        except BadInput:
            counts["refused in Dutch"] += 1
        except Exception as error:
            counts[f"crash {type(error).__name__}"] += 1
        times.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    _drive(strategies.chat_lines, LINE_INPUTS, check)
    crashes = sum(v for k, v in counts.items() if k.startswith("crash"))
    return {
        "inputs": len(times),
        "crashes": crashes,
        "outcomes": dict(counts),
        "seconds": round(time.perf_counter() - started, 1),
        "read": _stats(times),
    }


async def _client() -> Any:
    import aiohttp

    return aiohttp.ClientSession()


def _slack(loop: asyncio.AbstractEventLoop, folder: Path) -> dict[str, Any]:
    from aiohttp import web

    from bot.app import FEATURES, App
    from bot.base.settings import Settings
    from bot.channels.slack import SlackDesk, listeners
    from bot.core.dialogue import Dialogue
    from bot.store import open_store
    from knowledge import Knowledge
    from tests.fakes.keyword_nlu import KeywordNLU
    from tests.fakes.slack_api import BOT_TOKEN, CHANNEL, SIGNING_SECRET, FakeSlack
    from tests.trust import strategies

    fake = FakeSlack(members=(strategies.MEMBER,))
    loop.run_until_complete(fake.start())
    url = f"sqlite+aiosqlite:///{folder / 'slack.db'}"
    store = loop.run_until_complete(open_store(url))
    config = Settings(
        database_url=url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_support_channel=CHANNEL,
        slack_api_base_url=fake.url,
    )
    nlu, knowledge = KeywordNLU(), Knowledge.load()
    app = App(
        config, store, nlu, knowledge, Dialogue(store, nlu, config, knowledge, features=FEATURES)
    )
    server = web.Application()
    desk = SlackDesk(app, server, poll_seconds=None, http_timeout=0.5)
    runner = web.AppRunner(server)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    loop.run_until_complete(desk.start())
    http = loop.run_until_complete(_client())
    statuses: Counter[int] = Counter()
    kinds: Counter[str] = Counter()
    times: list[float] = []
    failures: list[BaseException] = []
    original_trace = listeners.safe_trace

    def keep(error: BaseException) -> str:
        failures.append(error)
        return original_trace(error)

    class Kept(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info and record.exc_info[1] is not None:
                failures.append(record.exc_info[1])

    listeners.safe_trace = keep
    quiet = {name: logging.getLogger(name) for name in ("aiohttp.server", "weerbaar.slack")}
    for logger in quiet.values():
        logger.propagate = False
    quiet["aiohttp.server"].addHandler(kept := Kept())
    quiet["weerbaar.slack"].addHandler(silent := logging.NullHandler())

    async def send(request: Any) -> int:
        async with http.post(
            f"http://127.0.0.1:{port}/slack/events",
            data=request.body.encode(),
            headers=request.headers(),
        ) as response:
            await desk.settled()
            return response.status

    def check(request: Any) -> None:
        failures.clear()
        started = time.perf_counter()
        try:
            status = loop.run_until_complete(send(request))
        except Exception as error:
            status = -1
            failures.append(error)
        times.append((time.perf_counter() - started) * 1000)
        statuses[status] += 1
        if status < 0 or status >= 500 or failures:
            kinds[
                "slack-bolt could not read it"
                if failures and all(strategies.only_bolt(f) for f in failures)
                else "in our code"
            ] += 1

    started = time.perf_counter()
    try:
        _drive(strategies.slack_requests, SLACK_INPUTS, check)
    finally:
        listeners.safe_trace = original_trace
        quiet["aiohttp.server"].removeHandler(kept)
        quiet["weerbaar.slack"].removeHandler(silent)
        for logger in quiet.values():
            logger.propagate = True
        loop.run_until_complete(http.close())
        loop.run_until_complete(desk.stop())
        loop.run_until_complete(runner.cleanup())
        loop.run_until_complete(store.close())
        loop.run_until_complete(fake.stop())
    return {
        "inputs": sum(statuses.values()),
        "crashes": sum(v for k, v in statuses.items() if k < 0 or k >= 500),
        "crash_kinds": dict(kinds),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "seconds": round(time.perf_counter() - started, 1),
        "request": _stats(times),
    }


def run() -> dict[str, Any]:
    """Crashes (0 expected), inputs and time per front door; over 10,000 inputs in all."""
    loop = asyncio.new_event_loop()
    try:
        with tempfile.TemporaryDirectory(prefix="weerbaar-trust-bench-") as name:
            folder = Path(name)
            doors = {
                "dialogue": _dialogue(loop, folder),
                "json_chat_lines": _lines(),
                "slack_http": _slack(loop, folder),
            }
    finally:
        loop.close()
    return {
        **doors,
        "total_inputs": sum(d["inputs"] for d in doors.values()),
        "total_crashes": sum(d["crashes"] for d in doors.values()),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
