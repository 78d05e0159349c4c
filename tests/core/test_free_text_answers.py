"""Free-text answers (where it happened, what is needed) that sound like a greeting are kept."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.app import FEATURES
from bot.base.settings import Settings
from bot.core.dialogue import Dialogue
from bot.store import Store
from nlu import NLU, Parse
from tests.plugins.chat import Chat

# Places as reporters type them; several contain a greeting word or a name whose letters look
# like one (Heiloo, Hallum, Goedereede), which the classifier may take for "greet".
PLACE_ANSWERS = (
    "Bij het gemeentehuis van Zaanstad",
    "Bij het gemeentehuis van Heiloo",
    "Bij het gemeentehuis van Goedereede",
    "Op het stadhuis van Hengelo",
    "op het stadhuis in Leiden",
    "Voor mijn huis in Goedereede",
    "Tijdens de raadsvergadering in Hellendoorn",
    "Hallo, bij het gemeentehuis van Zaanstad",
    "Hoi, in Zaanstad",
    "Goedemiddag, het was in Hoorn",
    "Hoi. Bij het gemeentehuis van Heiloo, rond 8 uur",
    "Bij de ingang, hij riep eerst hallo en begon toen te schelden",
    "In Hallum",
    "Heiloo",
)
GREETINGS = ("hallo?", "hoi", "Goedemiddag!", "hallo daar", "hey?", "hallo, is daar iemand")


async def _to_the_place_question(chat: Chat) -> None:
    await chat.send("/melden")
    assert "Vertel in je eigen woorden" in chat.last
    await chat.send("Er is iets naars gebeurd met een inwoner na afloop van de vergadering")
    await chat.press("Nee, dat was het")
    assert "Wat voor incident was het?" in chat.last
    await chat.press("Bedreiging of intimidatie")
    await chat.send("gisteravond")
    assert "Waar gebeurde het?" in chat.last


async def _summary(chat: Chat) -> str:
    await chat.press("Ikzelf")
    await chat.press("Geen bewijs / klaar")
    await chat.press("Al gedaan")
    await chat.press("Ja")
    await chat.press("Ja")
    assert "Dit heb ik genoteerd" in chat.last
    return chat.last


@pytest.mark.parametrize("place", PLACE_ANSWERS)
async def test_place_answer_is_kept_not_taken_for_a_greeting(chat: Chat, place: str) -> None:
    await _to_the_place_question(chat)
    await chat.send(place)
    assert "We waren nog bezig" not in chat.text
    assert "Op wie was het gericht?" in chat.last
    assert f"• Waar: {place}" in await _summary(chat)


@pytest.mark.parametrize("greeting", GREETINGS)
async def test_a_bare_greeting_at_the_place_question_is_not_taken_as_the_place(
    chat: Chat, greeting: str
) -> None:
    await _to_the_place_question(chat)
    await chat.send(greeting)
    assert "Hallo. We waren nog bezig." in chat.text
    assert "Waar gebeurde het?" in chat.last
    await chat.send("Bij het gemeentehuis van Zaanstad")
    assert "Op wie was het gericht?" in chat.last
    assert "• Waar: Bij het gemeentehuis van Zaanstad" in await _summary(chat)


async def test_danger_at_the_place_question_still_gets_112_first(chat: Chat) -> None:
    await _to_the_place_question(chat)
    await chat.send("Hallo, er staat nu iemand met een mes voor mijn deur")
    assert chat.replies[0].text.startswith("Ben je nu in gevaar? Bel direct 112.")


async def test_support_need_that_sounds_like_a_greeting_is_kept(chat: Chat, store: Store) -> None:
    await chat.send("/hulp")
    await chat.press("Nee")
    await chat.press("Chatten via deze chat")
    assert "waar je hulp bij nodig hebt" in chat.last
    await chat.send("Even praten, goedemiddag")
    assert "We waren nog bezig" not in chat.text
    async with store.session() as session:
        (case,) = list(await store.cases(session))
    assert (case.kind, case.story) == ("support", "Even praten, goedemiddag")


class SureItIs:
    """The real model, except that whatever is not danger comes out as one sure intent."""

    def __init__(self, nlu: NLU, intent: str) -> None:
        self.nlu = nlu
        self.intent = intent

    async def parse(self, text: str) -> Parse:
        parse = await self.nlu.parse(text)
        if parse.intent == "emergency":
            return parse
        return replace(
            parse,
            intent=self.intent,
            confidence=0.95,
            ranking=((self.intent, 0.95),),
            fallback=False,
        )

    async def aclose(self) -> None:
        pass


async def test_a_sure_greeting_only_interrupts_free_text_when_it_is_just_a_greeting(
    store: Store, nlu_model: NLU, knowledge, clock
) -> None:
    dialogue = Dialogue(
        store, SureItIs(nlu_model, "greet"), Settings(), knowledge, clock, features=FEATURES
    )
    chat = Chat(dialogue)
    await _to_the_place_question(chat)  # the story, too, is kept although called a greeting
    await chat.send("goedemiddag")
    assert "Hallo. We waren nog bezig." in chat.text
    assert "Waar gebeurde het?" in chat.last
    await chat.send("Tijdens de raadsvergadering in Purmerend")
    assert "Op wie was het gericht?" in chat.last
    await chat.send("Iemand anders")
    await chat.press("Geen bewijs / klaar")
    assert "Heb je al aangifte gedaan" in chat.last
    await chat.send("hoi daar, zijn we er bijna?")  # a choice question: the classifier decides
    assert "Hallo. We waren nog bezig." in chat.text
    assert "Heb je al aangifte gedaan" in chat.last


async def test_a_free_text_answer_about_a_protocol_is_kept_a_question_is_answered(
    store: Store, nlu_model: NLU, knowledge, clock
) -> None:
    dialogue = Dialogue(
        store, SureItIs(nlu_model, "find_protocol"), Settings(), knowledge, clock, features=FEATURES
    )
    chat = Chat(dialogue)
    await chat.send("/melden")
    await chat.send("Hoe doe ik aangifte bij de politie?")  # a question: answered, then on
    assert "Bron" in chat.text
    assert "Vertel in je eigen woorden" in chat.last
    await chat.send("/stop")
    await chat.press("Ja, stoppen")

    await chat.send("/hulp")
    await chat.press("Nee")
    await chat.press("Chatten via deze chat")
    await chat.send("Hulp bij het doen van aangifte")  # what is needed: kept as the answer
    assert "Bron" not in chat.text
    async with store.session() as session:
        (case,) = list(await store.cases(session))
    assert (case.kind, case.story) == ("support", "Hulp bij het doen van aangifte")
