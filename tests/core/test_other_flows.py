"""Support requests, protocols, training, menus and fallback through the dialogue core."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.base.settings import Settings
from bot.features.support import promises
from bot.store import OutboxMessage, Store
from tests.plugins.chat import Chat


async def _cases(store: Store):
    async with store.session() as session:
        return list(await store.cases(session))


async def test_greeting_shows_the_menu(chat: Chat) -> None:
    await chat.send("Goedemorgen")
    assert "Bel dan eerst 112" in chat.text
    assert "Incident melden" in chat.labels


async def test_support_request_by_phone_with_consent(make_chat, store: Store) -> None:
    chat = make_chat(settings=Settings(support_response_minutes=20))
    await chat.send("Ik wil graag iemand spreken van het ondersteuningsteam")
    assert "Ben je nu in direct gevaar?" in chat.last
    await chat.press("Nee")
    await chat.press("Bel me")
    assert "Mag het team je telefoonnummer gebruiken" in chat.last
    await chat.press("Ja")
    await chat.send("0612")
    assert "geen Nederlands telefoonnummer" in chat.text
    await chat.send("06 12345678")
    await chat.send("Ik ben erg geschrokken en wil overleggen over aangifte")
    assert "onderweg naar het Ondersteuningsteam" in chat.text
    assert "minuten" not in chat.text  # the response time is promised once the team has it
    (case,) = await _cases(store)
    assert (case.kind, case.contact_preference, case.phone) == ("support", "bellen", "+31612345678")
    async with store.session() as session:  # what the Slack desk does once the card is posted
        await promises.card_posted(store, session, case, Settings(support_response_minutes=20))
        await promises.card_posted(store, session, case, Settings(support_response_minutes=20))
        queued = (await session.execute(select(OutboxMessage.payload))).scalars().all()
    assert [p["text"] for p in queued if p.get("user")] == [
        f"Ik heb het Ondersteuningsteam Weerbaar Bestuur gewaarschuwd (nummer {case.ref}).\n"
        "Iemand neemt binnen 20 minuten contact met je op, telefonisch.\n"
        "Wordt het onveilig? Bel dan meteen 112."
    ]


async def test_support_request_without_phone_consent_stores_no_number(
    chat: Chat, store: Store
) -> None:
    await chat.send("/hulp")
    await chat.press("Nee")
    await chat.press("Bel me")
    await chat.press("Nee")
    await chat.press("Overslaan")
    (case,) = await _cases(store)
    assert case.phone is None


async def test_support_request_in_danger_gets_112_first(chat: Chat, store: Store) -> None:
    await chat.send("/hulp")
    await chat.press("Ja")
    # "Yes, I am in danger" is not asked again: the answer is to call 112 now.
    assert chat.replies[0].text == "Bel nu 112."
    assert chat.labels == [
        "Ondersteuningsteam waarschuwen",
        "Het is voorbij, ik wil het melden",
        "Niet nodig",
    ]


async def test_protocol_question_answers_with_steps_and_source(chat: Chat) -> None:
    await chat.send("Wat moet ik doen als mijn adres online is gezet?")
    assert "Bron" in chat.text
    assert "Iets anders" in chat.labels


async def test_protocol_answer_fits_on_a_phone_and_meer_gives_the_rest(chat: Chat) -> None:
    [first, related] = await chat.send("Hoe doe ik aangifte bij de politie?")
    assert len(first.text) <= 500 and "https://" in first.text
    assert "Meer uitleg" in [b.label for b in first.buttons]
    assert "Iets anders" in [b.label for b in related.buttons]
    await chat.press("Meer uitleg")
    assert "meer" in chat.replies[0].text.splitlines()[0]
    assert "aangifte onder nummer" in chat.text and "Bronnen:" in chat.text


async def test_a_meer_button_for_an_unknown_entry_changes_nothing(chat: Chat) -> None:
    await chat.press_raw("meer:bestaat-niet")
    assert "verlopen" in chat.text


async def test_training_differs_by_role(make_chat) -> None:
    answers = []
    for role in ("Burgemeester", "Raadslid"):
        chat = make_chat(user=f"local:{role.lower()}")
        await chat.send("/training")
        await chat.press(role)
        answers.append(chat.replies[0].text)
    assert answers[0] != answers[1]
    assert "Veiligheidspakket" in answers[0] and "griffie" in answers[1]


async def test_protocol_topics_when_question_is_vague(chat: Chat) -> None:
    await chat.send("/protocol")
    assert "Waar gaat je vraag over?" in chat.last
    await chat.press("Aangifte doen")
    assert "Bron" in chat.text


async def test_training_asks_role_once_then_remembers(chat: Chat) -> None:
    await chat.send("/training")
    assert "Wat is je rol?" in chat.last
    await chat.press("Wethouder")
    first = chat.text
    assert "Bron" in first
    await chat.send("/training")
    assert "Wat is je rol?" not in chat.text


@pytest.mark.parametrize("command", ["/start", "/help", "/privacy", "/mijnmeldingen", "/onbekend"])
async def test_commands_never_reach_the_classifier(chat: Chat, command: str) -> None:
    replies = await chat.send(command)
    assert replies and all(r.text for r in replies)


async def test_out_of_scope_is_said_kindly(chat: Chat) -> None:
    await chat.send("Wat voor weer wordt het morgen in Utrecht?")
    assert "niet mee helpen" in chat.text or "Bedoel je" in chat.text
