"""After the 112 answer: alert the team, report what is over, or leave it; help in a report."""

from __future__ import annotations

from sqlalchemy import select

from bot.store import Case, OutboxMessage, Store
from tests.plugins.chat import Chat

DANGER = "Er staat een man voor de deur met een mes"
BUTTONS = ["Ondersteuningsteam waarschuwen", "Het is voorbij, ik wil het melden", "Niet nodig"]


async def _cases(store: Store) -> list[Case]:
    async with store.session() as session:
        return list((await session.execute(select(Case).order_by(Case.id))).scalars())


async def _support_lines(store: Store) -> list[str]:
    async with store.session() as session:
        rows = await session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.destination == "support")
            .order_by(OutboxMessage.id)
        )
        return [str(m.payload.get("text", "")) for m in rows.scalars()]


async def test_the_112_answer_offers_three_ways_on(chat: Chat) -> None:
    await chat.send(DANGER)
    assert chat.replies[0].text.startswith("Ben je nu in gevaar? Bel direct 112.")
    assert chat.labels == BUTTONS


async def test_alerting_the_team_sends_what_was_said(chat: Chat, store: Store) -> None:
    await chat.send(DANGER)
    await chat.press("Ondersteuningsteam waarschuwen")
    assert "onderweg naar het Ondersteuningsteam Weerbaar Bestuur" in chat.text
    (case,) = await _cases(store)
    assert (case.kind, case.urgency, case.story) == ("support", "urgent", DANGER)
    assert case.waiting_since is not None
    (line,) = await _support_lines(store)
    assert line == (
        f"Hulpvraag {case.ref}. Urgent. Melder wil chatten via de bot.\nDe melder schreef: {DANGER}"
    )


async def test_it_is_over_starts_the_report_with_the_message_as_its_story(
    chat: Chat, store: Store
) -> None:
    await chat.send(DANGER)
    await chat.press("Het is voorbij, ik wil het melden")
    assert "Vertel in je eigen woorden" not in chat.text
    assert chat.last == "Is er nog iets dat je wilt vertellen?"
    await chat.press("Nee, dat was het")
    assert chat.last == "Wat voor incident was het?"
    await chat.press("Bedreiging of intimidatie")
    await chat.press("Vandaag")  # the place ("voor de deur") was in the story
    await chat.press("Ikzelf")
    await chat.press("Geen bewijs / klaar")
    await chat.press("Al gedaan")
    await chat.press("Nee")
    await chat.press("Nee")
    assert f"Wat er gebeurde: {DANGER}" in chat.text
    await chat.press("Klopt, versturen")
    (case,) = await _cases(store)
    assert (case.kind, case.story, case.incident_type) == ("incident", DANGER, "bedreiging")
    assert await _support_lines(store) == []


async def test_not_needed_ends_calmly_without_a_case(chat: Chat, store: Store) -> None:
    await chat.send(DANGER)
    await chat.press("Niet nodig")
    assert chat.text == (
        "Goed. Je kunt me altijd weer een bericht sturen. In direct gevaar bel je 112."
    )
    assert await _cases(store) == []


async def test_asking_for_a_call_in_the_middle_of_a_report_keeps_the_draft(
    chat: Chat, store: Store
) -> None:
    await chat.send("/melden")
    await chat.send("Er is vanmiddag op het gemeentehuis tegen mij geschreeuwd door een inwoner")
    assert "Dat kon ik niet als moment lezen" not in await _say(chat, "kan iemand me bellen?")
    assert chat.last == "Ben je nu in direct gevaar?"
    await chat.press("Nee")
    await chat.press("Chatten via deze chat")
    assert "onderweg naar het Ondersteuningsteam" in chat.text
    assert chat.replies[-2].text == "We gaan verder waar we waren."
    (case,) = await _cases(store)
    assert case.story is not None and case.story.startswith("Er is vanmiddag op het gemeentehuis")

    await chat.send("/hulp")  # asked again: the team already has it, nothing is dropped
    assert chat.text.startswith("Je hulpvraag loopt al")
    assert len(await _cases(store)) == 1
    assert chat.replies[-2].text == "We gaan verder waar we waren."


async def _say(chat: Chat, text: str) -> str:
    await chat.send(text)
    return chat.text
