"""Aftercare on an injected clock: a reporter's report, a pressed button and what went out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.base.messages import Incoming
from bot.store import OutboxMessage, Store
from tests.plugins.desk import REF, Reporter

STORY = "Er is iets naars gebeurd met een inwoner na afloop van de vergadering"


async def report(
    person: Reporter, *, targeted: str = "Ikzelf", support: str = "Nee", checkins: str = "Ja"
) -> str:
    """A whole incident report through the dialogue core; returns the case reference."""
    await person.say("/melden")
    await person.say(STORY)
    await person.press("Nee, dat was het")
    await person.press("Bedreiging of intimidatie")
    await person.say("gisteravond")
    await person.say("Bij het gemeentehuis in Zwolle")
    await person.press(targeted)
    await person.press("Geen bewijs / klaar")
    await person.press("Al gedaan")
    assert "hoe het met je gaat" in await person.press(support)
    await person.press(checkins)
    found = REF.search(await person.press("Klopt, versturen"))
    assert found, person.text
    return found.group(0)


async def press(person: Reporter, payload: str) -> str:
    """Press a button the reporter got in a message from the outbox, not in the last reply."""
    person.replies = await person.dialogue.handle(Incoming(user=person.user, button=payload))
    return person.text


async def checkins_sent(store: Store, ref: str) -> list[dict[str, Any]]:
    """The check-in questions written for the reporter of a case, oldest first."""
    async with store.session() as session:
        rows = await session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.destination == "user")
            .order_by(OutboxMessage.id)
        )
        return [
            dict(m.payload)
            for m in rows.scalars()
            if m.payload.get("case") == ref and "checkin:" in str(m.payload.get("buttons"))
        ]
