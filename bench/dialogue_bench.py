"""Per-turn time through the dialogue core (NLU included): p50/p95 over 1,000 turns."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.app import FEATURES
from bot.base.messages import Incoming
from bot.base.settings import Settings
from bot.core.dialogue import Dialogue
from bot.store import open_store
from knowledge import Knowledge
from nlu import NLU
from nlu.service import load_nlu

TURNS = 1000
# One complete report, as a reporter types and taps it (button payloads as offered).
SCRIPT: list[dict[str, str]] = [
    {"text": "Ik wil een incident melden"},
    {"text": "Er is iets naars gebeurd met een inwoner na afloop van de vergadering"},
    {"button": "skip"},
    {"button": "bedreiging"},
    {"text": "gisteravond rond tien uur"},
    {"text": "Bij het gemeentehuis"},
    {"button": "ikzelf"},
    {"button": "klaar"},
    {"button": "gedaan"},
    {"button": "nee"},
    {"button": "ja"},
    {"button": "confirm"},
    {"text": "Hoe doe ik aangifte bij de politie?"},
    {"text": "mijn meldingen"},
]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(_percentile(values, 0.95), 2),
        "mean_ms": round(statistics.fmean(values), 2),
    }


async def measure_turns(load: Callable[[], Awaitable[NLU]] = load_nlu) -> dict[str, object]:
    """Turn and parse times with the NLU that `load` gives (closed at the end)."""
    nlu = await load()
    knowledge = Knowledge.load()
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        dialogue = Dialogue(store, nlu, Settings(), knowledge, features=FEATURES)
        turn_ms: list[float] = []
        parse_ms: list[float] = []
        conversations = 0
        while len(turn_ms) < TURNS:
            user = f"local:bench{conversations}"
            conversations += 1
            for step in SCRIPT:
                message = Incoming(user=user, text=step.get("text", ""), button=step.get("button"))
                started = time.perf_counter()
                await dialogue.handle(message)
                turn_ms.append((time.perf_counter() - started) * 1000)
                if "text" in step:
                    # Baseline in the same run: the classifier alone on the same text.
                    started = time.perf_counter()
                    await nlu.parse(step["text"])
                    parse_ms.append((time.perf_counter() - started) * 1000)
                if len(turn_ms) >= TURNS:
                    break
        async with store.session() as session:
            cases = len(await store.cases(session))
        await store.close()
    await nlu.aclose()
    turns = _summary(turn_ms)
    baseline = _summary(parse_ms)
    return {
        "turns": len(turn_ms),
        "conversations": conversations,
        "cases_created": cases,
        "store": "sqlite",
        "turn": turns,
        "baseline_nlu_parse_only": baseline,
        "ratio_turn_to_parse_p50": round(turns["p50_ms"] / baseline["p50_ms"], 2),
    }


def run() -> dict[str, object]:
    return asyncio.run(measure_turns())
