"""Messages typed the way people do on a phone reach the right flow through the dialogue core."""

from __future__ import annotations

import pytest

from bot.store import Store
from tests.plugins.chat import Chat


@pytest.mark.parametrize("text", ["melding doen", "report an incident"])
async def test_a_bare_command_or_english_starts_a_report(chat: Chat, text: str) -> None:
    await chat.send(text)
    assert "Vertel in je eigen woorden" in chat.last


async def test_a_negation_in_the_middle_of_a_report_stops_it(chat: Chat, store: Store) -> None:
    await chat.send("melding doen")
    await chat.send("ik wil toch geen melding maken")
    assert "Wil je stoppen?" in chat.last
    await chat.press("Ja, stoppen")
    assert "niets bewaard" in chat.last
    async with store.session() as session:
        assert list(await store.cases(session)) == []


async def test_an_acronym_question_gets_the_protocol_answer(chat: Chat) -> None:
    await chat.send("wat is het ela")
    assert "ELA" in chat.replies[0].text
    assert "Daar kan ik je helaas niet mee helpen" not in chat.text


async def test_the_team_by_its_acronym_starts_a_support_request(chat: Chat) -> None:
    await chat.send("contact met het ot")
    assert "Ben je nu in direct gevaar?" in chat.last
