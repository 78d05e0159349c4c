"""Local mode: a check-in appears in the JSON chat when it falls due, and its answer works."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.app import FEATURES, App
from bot.base.clock import FixedClock
from bot.base.settings import Settings
from bot.channels.local import json_chat
from bot.core.dialogue import Dialogue
from bot.store import Store
from knowledge import Knowledge
from tests.fakes.keyword_nlu import KeywordNLU
from tests.features.aftercare.helpers import STORY
from tests.plugins.desk import REF


async def test_a_check_in_appears_in_the_json_chat_when_due(
    store: Store, database_url: str, knowledge: Knowledge, clock: FixedClock
) -> None:
    settings = Settings(database_url=database_url)  # no tokens: local mode
    nlu = KeywordNLU()
    app = App(
        settings,
        store,
        nlu,
        knowledge,
        Dialogue(store, nlu, settings, knowledge, clock, features=FEATURES),
    )
    read_end, write_end = os.pipe()
    stdin, feed = os.fdopen(read_end, "rb"), os.fdopen(write_end, "wb", buffering=0)
    out: list[dict[str, Any]] = []
    chat = asyncio.create_task(
        json_chat(app, "anna", stdin, lambda line: out.append(json.loads(line)), every=0.01)
    )

    def send(**line: str) -> None:
        feed.write(json.dumps(line).encode() + b"\n")

    async def seen(check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        for _ in range(1000):
            found = [line for line in out if check(line)]
            if found:
                return found[-1]
            await asyncio.sleep(0.01)
        raise AssertionError(f"not in the chat: {out[-5:]}")

    try:
        send(text="/melden")
        send(text=STORY)
        send(button="Nee, dat was het")
        send(button="Bedreiging of intimidatie")
        send(text="gisteravond")
        send(text="Bij het gemeentehuis in Zwolle")
        for label in ("Ikzelf", "Geen bewijs / klaar", "Al gedaan", "Nee", "Ja"):
            send(button=label)
        send(button="Klopt, versturen")
        saved = await seen(lambda line: "Je melding is opgeslagen" in line.get("text", ""))
        found = REF.search(saved["text"])
        assert found
        ref = found.group(0)
        await asyncio.sleep(0.1)
        assert not [line for line in out if "Hoe gaat het" in line.get("text", "")]

        clock.advance(timedelta(days=1))
        question = await seen(lambda line: line.get("text") == "Hoe gaat het nu met je?")
        assert question == {
            "to": "user",
            "user": "anna",
            "text": "Hoe gaat het nu met je?",
            "buttons": [
                {"label": "Het gaat goed", "payload": f"checkin:{ref}:goed"},
                {"label": "Het gaat niet zo goed", "payload": f"checkin:{ref}:niet_goed"},
                {"label": "Ik wil contact", "payload": f"checkin:{ref}:contact"},
            ],
        }
        digest = await seen(lambda line: line.get("to") == "support")  # Monday 09:00 came too
        assert digest == {"to": "support", "case": None, "text": f"Nog niet opgepakt (1): {ref}"}

        send(button=f"checkin:{ref}:contact")
        answer = await seen(
            lambda line: "gevraagd contact met je op te nemen" in line.get("text", "")
        )
        assert answer["to"] == "user" and answer["user"] == "anna"
        note = await seen(lambda line: line.get("case") == ref and "Nazorg" in line["text"])
        assert note == {
            "to": "support",
            "case": ref,
            "text": f"Nazorg {ref}: de melder wil contact (antwoord op de vraag hoe het gaat).",
        }
        assert sum(line.get("text") == "Hoe gaat het nu met je?" for line in out) == 1
    finally:
        feed.close()
        await asyncio.wait_for(chat, 10)
        stdin.close()
