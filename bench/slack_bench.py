"""Support request to card: from the reporter's last message to the card arriving at Slack.

Runs the real dialogue, outbox, desk (delivery loop woken on commit, polling each second as a
fallback) and slack-sdk against the fake Slack Web API on 127.0.0.1, on a SQLite file.
Baseline in the same run: posting the same card straight to the fake with the same client.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

REQUESTS = 200


def _stats(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100)
    return {
        "p50": round(statistics.median(samples), 2),
        "p95": round(cuts[94], 2),
        "max": round(max(samples), 2),
    }


async def _measure(folder: Path, requests: int) -> dict[str, Any]:
    from bot.app import FEATURES, App
    from bot.base.messages import Incoming
    from bot.base.settings import Settings
    from bot.channels.slack import SlackDesk, cards
    from bot.core.dialogue import Dialogue
    from bot.store import open_store
    from knowledge import Knowledge
    from tests.fakes.keyword_nlu import KeywordNLU
    from tests.fakes.slack_api import BOT_TOKEN, CHANNEL, SIGNING_SECRET, FakeSlack

    fake = FakeSlack(members=("U0ANNA0001",))
    await fake.start()
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    store = await open_store(url)
    settings = Settings(
        database_url=url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_support_channel=CHANNEL,
        slack_api_base_url=fake.url,
    )
    nlu, knowledge = KeywordNLU(), Knowledge.load()
    dialogue = Dialogue(store, nlu, settings, knowledge, features=FEATURES)
    desk = SlackDesk(App(settings, store, nlu, knowledge, dialogue), web.Application())
    await desk.start()
    try:
        end_to_end, turns, after_turn = [], [], []
        for n in range(requests):
            user = f"bench:{n}"
            await dialogue.handle(
                Incoming(user=user, text="Er staat iemand met een mes voor mijn deur")
            )
            started = time.perf_counter()
            await dialogue.handle(Incoming(user=user, button="alert_team"))
            answered = time.perf_counter()
            await fake.cards_posted(n + 1, timeout=10)
            arrived = fake.top_level()[-1].at
            end_to_end.append((arrived - started) * 1000)
            turns.append((answered - started) * 1000)
            after_turn.append((arrived - answered) * 1000)

        async with store.session() as session:
            card = cards.card((await store.cases(session))[0])
        direct = []
        for _ in range(requests):
            started = time.perf_counter()
            await desk.client.chat_postMessage(channel=CHANNEL, text=card.text, blocks=card.blocks)
            direct.append((fake.top_level()[-1].at - started) * 1000)
    finally:
        await desk.stop()
        await store.close()
        await fake.stop()
    return {
        "requests": requests,
        "database": "sqlite",
        "request_to_card_ms": _stats(end_to_end),
        "reporter_turn_ms": _stats(turns),
        "turn_answered_to_card_ms": _stats(after_turn),
        "baseline_direct_post_ms": _stats(direct),
    }


def run() -> dict[str, Any]:
    """p50/p95 of support request to card over 200 requests, with a direct-post baseline."""
    with tempfile.TemporaryDirectory(prefix="weerbaar-slack-bench-") as folder:
        return asyncio.run(_measure(Path(folder), REQUESTS))


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
