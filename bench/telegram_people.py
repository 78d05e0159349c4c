"""The Telegram side of the Telegram bench, in a process of its own: the fake Bot API and people.

On a real deployment Telegram's servers and the people's phones do this work, not the bot's
process; here it runs beside the bot on the same machine, but no longer on the bot's event loop.
It speaks JSON lines: it first prints {"base_url"}; then for each {"chats", "script", "counts",
"wait", "pause"} it has those people talk at once and prints {"latencies", "lost"}; for
{"calls": true} it prints the Bot API calls it got. It ends when its input ends.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from tests.fakes.telegram_api import FakeTelegram


async def _talk(fake: FakeTelegram, chat: int, ask: dict[str, Any]) -> tuple[list[float], bool]:
    """One person's turns, each from the update offered until its last reply; False if lost."""
    latencies: list[float] = []
    for number, (expected, (kind, value)) in enumerate(
        zip(ask["counts"], ask["script"], strict=True)
    ):
        if number and ask["pause"]:
            await asyncio.sleep(ask["pause"])  # the person reads the reply first
        before = len(fake.sent(chat))
        started = time.perf_counter()
        if kind == "text":
            await fake.send_text(chat, value)
        else:
            await fake.press(chat, value)
        try:
            sent = await fake.wait_sent(chat, before + expected, ask["wait"])
        except asyncio.TimeoutError:
            return latencies, False  # the buttons to press next may never have come
        latencies.append(sent[before + expected - 1].at - started)
    return latencies, True


async def _lines() -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def main() -> None:
    fake = FakeTelegram()
    _say({"base_url": await fake.start()})
    reader = await _lines()
    try:
        while line := await reader.readline():
            ask = json.loads(line)
            if ask.get("calls"):
                _say({"calls": dict(sorted(fake.calls.items()))})
                continue
            runs = await asyncio.gather(*(_talk(fake, chat, ask) for chat in ask["chats"]))
            _say(
                {
                    "latencies": [t for turns, _ in runs for t in turns],
                    "lost": sum(1 for _, whole in runs if not whole),
                }
            )
    finally:
        await fake.close()


if __name__ == "__main__":
    asyncio.run(main())
