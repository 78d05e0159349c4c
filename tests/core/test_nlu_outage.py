"""The NLU service killed in the middle of a conversation, and back by itself."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from bot.app import FEATURES
from bot.base.clock import FixedClock
from bot.base.settings import Settings
from bot.core.dialogue import Dialogue
from bot.store import Store
from knowledge import Knowledge
from nlu import NLU, NLUUnavailable
from nlu.service import children, embedded_nlu
from tests.plugins.chat import Chat

STORY = "Er is iets naars gebeurd met een inwoner na afloop van de vergadering"
DANGER = "Er staat nu een man met een mes voor mijn deur"
QUESTION = "Hoe doe ik aangifte bij de politie?"


async def _classified_again(nlu: NLU, seconds: float = 180) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            if (await nlu.parse("hallo")).source == "classifier":
                return
        except NLUUnavailable:
            pass
        assert asyncio.get_running_loop().time() < deadline, "the NLU did not come back"
        await asyncio.sleep(0.5)


@pytest.mark.slow
async def test_a_killed_nlu_service_keeps_112_and_the_report_and_comes_back(
    store: Store, knowledge: Knowledge, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    before = children(os.getpid())
    nlu = await embedded_nlu()
    try:
        (child,) = children(os.getpid()) - before
        dialogue = Dialogue(store, nlu, Settings(), knowledge, clock, features=FEATURES)
        anna, bram = Chat(dialogue, "local:anna"), Chat(dialogue, "local:bram")
        await anna.send("Ik wil een incident melden")
        assert "Vertel in je eigen woorden" in anna.last

        os.kill(child, signal.SIGKILL)
        caplog.set_level(logging.INFO, logger="weerbaar.nlu")

        # Danger: 112 first, without the classifier.
        await anna.send(DANGER)
        assert "112" in anna.replies[0].text.splitlines()[0]
        # The report goes on: free text and buttons.
        await anna.send(STORY)
        assert "Is er nog iets dat je wilt vertellen?" in anna.last
        await anna.press("Nee, dat was het")
        await anna.press("Bedreiging of intimidatie")
        assert "Wanneer gebeurde het?" in anna.last
        # What needs the classifier gets the menu with a short note, every time.
        for _ in range(3):
            await bram.send(QUESTION)
            assert bram.text == dialogue.text("nlu_unavailable")
            assert "Incident melden" in bram.labels
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert [r.getMessage() for r in warnings if "NLU unavailable" in r.getMessage()] != []
        assert len([r for r in warnings if "NLU unavailable" in r.getMessage()]) == 1
        assert all("Traceback" not in r.getMessage() for r in caplog.records)

        # Back by itself: the service is started again and classification returns.
        await _classified_again(nlu)
        await bram.send(QUESTION)
        assert bram.text != dialogue.text("nlu_unavailable")
        assert "aangifte" in bram.text.lower()
        assert any("NLU available again" in r.getMessage() for r in caplog.records)
        await anna.send("gisteravond")
        assert "Waar gebeurde het?" in anna.last
    finally:
        await nlu.aclose()
    assert not children(os.getpid()) - before, "the NLU service outlived its bot"
