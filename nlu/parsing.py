"""Parsing messages with a Rasa model in this process or on a Rasa server, plus safety net."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from nlu import FALLBACK_THRESHOLD, INTENTS, Entity, NLUUnavailable, Parse
from nlu.safety import is_emergency
from nlu.training import quiet_rasa

log = logging.getLogger("weerbaar.nlu")
RasaResult = dict[str, Any]
Classify = Callable[[str], Awaitable[RasaResult]]
REMOTE_TIMEOUT = 5.0


def escape(text: str) -> str:
    """The part of `text` the classifier sees: no outer white space, no leading slash.

    Rasa reads a message starting with "/" as an intent payload ("/start" would become
    intent `start` with confidence 1.0), so the slash never reaches it.
    """
    return text.strip().lstrip("/").strip()


def _entities(text: str, cleaned: str, result: RasaResult) -> tuple[Entity, ...]:
    """Entities from Rasa's answer, with offsets into the original text, without duplicates."""
    shift = text.find(cleaned)
    found: dict[tuple[str, str, int, int], Entity] = {}
    for item in result.get("entities") or []:
        try:
            start, end = int(item["start"]) + shift, int(item["end"]) + shift
            key = (str(item["entity"]), str(item["value"]), start, end)
        except (KeyError, TypeError, ValueError):
            continue  # a malformed entity from a server is dropped, not fatal
        if shift <= start < end <= shift + len(cleaned):
            found.setdefault(key, Entity(key[0], key[1], start, end, text[start:end]))
    return tuple(sorted(found.values(), key=lambda e: (e.start, e.entity)))


def _ranking(result: RasaResult) -> tuple[tuple[str, float], ...]:
    """The classifier's contract intents, best first."""
    items = result.get("intent_ranking") or [result.get("intent") or {}]
    ranking = [
        (str(item["name"]), float(item.get("confidence") or 0.0))
        for item in items
        if isinstance(item, dict) and item.get("name") in INTENTS
    ]
    return tuple(sorted(ranking, key=lambda pair: -pair[1]))


def to_parse(text: str, result: RasaResult | None, threshold: float = FALLBACK_THRESHOLD) -> Parse:
    """Combine the classifier's answer, the safety net and the fallback rule into a Parse."""
    cleaned = escape(text)
    ranking = _ranking(result) if result else ()
    entities = _entities(text, cleaned, result) if result else ()
    if is_emergency(cleaned):
        return Parse(text, "emergency", 1.0, ranking, entities, "safety_net", False)
    if not ranking:
        return Parse(text, "out_of_scope", 0.0, (), entities, "classifier", True)
    intent, confidence = ranking[0]
    return Parse(text, intent, confidence, ranking, entities, "classifier", confidence < threshold)


def unclassified(text: str) -> Parse:
    """The Parse of a message the classifier could not see: danger is still recognised."""
    parse = to_parse(text, None)
    if parse.intent == "emergency":
        return parse
    return dataclasses.replace(parse, source="unavailable")


class RasaNLU:
    """NLU on top of `classify`, a coroutine that returns Rasa's answer for escaped text."""

    def __init__(
        self,
        classify: Classify,
        threshold: float = FALLBACK_THRESHOLD,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.classify = classify
        self._closers = [close] if close is not None else []
        self.threshold = threshold

    def add_close(self, close: Callable[[], Awaitable[None]]) -> None:
        """Also run `close` when this NLU is closed (after what was there)."""
        self._closers.append(close)

    async def parse(self, text: str) -> Parse:
        """Parse one message; raises NLUUnavailable when Rasa cannot answer (unless in danger)."""
        cleaned = escape(text)
        if not cleaned:
            return to_parse(text, None, self.threshold)
        try:
            result = await self.classify(cleaned)
        except NLUUnavailable:
            # Danger is recognised even when the classifier is down.
            if is_emergency(cleaned):
                return to_parse(text, None, self.threshold)
            raise
        return to_parse(text, result, self.threshold)

    async def aclose(self) -> None:
        """Release the HTTP client or worker thread (and stop a service of our own)."""
        for close in self._closers:
            await close()


def in_executor(blocking: Callable[[str], RasaResult], executor: ThreadPoolExecutor) -> Classify:
    """Run a blocking classify function in `executor`, so the event loop never waits on it."""

    async def classify(text: str) -> RasaResult:
        return await asyncio.get_running_loop().run_in_executor(executor, blocking, text)

    return classify


def _load_agent(path: Path) -> tuple[Any, asyncio.AbstractEventLoop]:
    """Load a Rasa model archive (slow: imports TensorFlow the first time) and a worker loop."""
    quiet_rasa()
    from rasa.core.agent import Agent

    agent = Agent.load(str(path))
    if agent.processor is None:
        raise ValueError("the archive holds no NLU model")
    # Agent.parse_message is a coroutine that never waits on I/O. The worker thread runs it on
    # its own loop; a fresh asyncio.run per message would cost about a millisecond more.
    return agent, asyncio.new_event_loop()


async def load_local(path: Path, threshold: float = FALLBACK_THRESHOLD) -> RasaNLU:
    """Load the model archive at `path` into this process."""
    # One worker thread: Rasa's graph is not documented as thread-safe, and parsing is
    # CPU-bound, so more threads would not make it faster.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")
    loop = asyncio.get_running_loop()
    try:
        agent, worker_loop = await loop.run_in_executor(executor, _load_agent, path)
    except Exception as exc:
        executor.shutdown(wait=False)
        raise NLUUnavailable(
            f"NLU-model {path.name} kan niet geladen worden / cannot be loaded: {exc}"
        ) from exc

    def blocking(text: str) -> RasaResult:
        return worker_loop.run_until_complete(agent.parse_message(text))

    async def close() -> None:
        await asyncio.get_running_loop().run_in_executor(executor, worker_loop.close)
        executor.shutdown(wait=False)

    return RasaNLU(in_executor(blocking, executor), threshold, close)


async def connect_remote(
    url: str, token: str | None = None, threshold: float = FALLBACK_THRESHOLD
) -> RasaNLU:
    """Use a Rasa server (`rasa run --enable-api`, or `python -m nlu serve`): POST /model/parse.

    The token goes as `?token=`, as Rasa's `--auth-token` wants it. Each request opens a new
    connection when the last one broke, so a server that comes back is used again by itself;
    the log says once that it is away and once that it is back.
    """
    client = httpx.AsyncClient(
        base_url=url.rstrip("/"),
        timeout=REMOTE_TIMEOUT,
        params={"token": token} if token else None,
    )
    away: list[str] = []  # the problem while the server is away (logged once), else empty

    async def ask(text: str) -> RasaResult:
        try:
            response = await client.post("/model/parse", json={"text": text})
            response.raise_for_status()
            result = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise NLUUnavailable(
                f"Rasa-server {url} geeft geen bruikbaar antwoord / gives no usable answer: "
                f"{exc.__class__.__name__}"
            ) from exc
        if not isinstance(result, dict) or "intent" not in result:
            raise NLUUnavailable(
                f"Rasa-server {url} antwoordt zonder intent / answers without intent"
            )
        return result

    async def classify(text: str) -> RasaResult:
        try:
            result = await ask(text)
        except NLUUnavailable as problem:
            if not away:
                away.append(str(problem))
                log.warning("NLU unavailable, answering without classification: %s", problem)
            raise
        if away:
            away.clear()
            log.info("NLU available again: %s", url)
        return result

    try:
        await ask("hallo")
    except NLUUnavailable:
        await client.aclose()
        raise
    return RasaNLU(classify, threshold, client.aclose)
