"""The conversation between a reporter and the support team while a case is in contact.

A team member's reply in the case's thread goes to the reporter and puts the case in contact;
while it is in contact, what the reporter types goes to the thread instead of the dialogue.
The reporter ends it with /stop or the button; the team ends it, and closing the case ends it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.messages import Button
from bot.store import Case, Store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from flows.engine import TurnContext

END_CONTACT = "contact:end"
END_LABEL = "Contact beëindigen"
MAX_RELAY = 3000

TO_REPORTER = {
    "started": (
        "Het Ondersteuningsteam Weerbaar Bestuur is nu met je in gesprek over melding {ref}. "
        "Wat je hier typt, gaat naar het team. Stoppen kan met /stop."
    ),
    "from_team": "Ondersteuningsteam Weerbaar Bestuur ({name}): {text}",
    "forwarded": "Doorgestuurd naar het Ondersteuningsteam. Je krijgt hier antwoord.",
    "ended_by_reporter": (
        "Het gesprek met het Ondersteuningsteam is beëindigd. Je melding {ref} blijft open; "
        "het team kan je hier nog een bericht sturen."
    ),
    "ended_by_team": (
        "Het Ondersteuningsteam heeft het gesprek beëindigd. Je melding {ref} blijft open. "
        "Je kunt me altijd weer een bericht sturen."
    ),
    "no_contact": "Er loopt nu geen gesprek met het Ondersteuningsteam.",
}
TO_TEAM = {
    "ended_by_reporter": "De melder heeft het gesprek beëindigd.",
    "started": "{name} is een gesprek met de melder begonnen.",
    "ended_by_team": "{name} heeft het gesprek met de melder beëindigd.",
}


def end_button() -> Button:
    return Button(END_LABEL, END_CONTACT)


async def tell_reporter(
    store: Store, session: AsyncSession, case: Case, text: str, *, end_button_too: bool = False
) -> None:
    """Queue a message to the case's reporter."""
    payload: dict[str, Any] = {"user": case.reporter.user_key, "case": case.ref, "text": text}
    if end_button_too:
        payload["buttons"] = [{"label": END_LABEL, "payload": END_CONTACT}]
    await store.enqueue(session, "user", payload, reporter_id=case.reporter_id, case_id=case.id)


async def tell_team(
    store: Store, session: AsyncSession, case: Case, kind: str, **fields: Any
) -> None:
    """Queue something for the case's thread; `key` makes its delivery idempotent."""
    payload = {"kind": kind, "case": case.ref, "key": uuid.uuid4().hex, **fields}
    await store.enqueue(session, "support", payload, case_id=case.id)


async def start_contact(store: Store, session: AsyncSession, case: Case, actor: str) -> bool:
    """Put a case in contact; the reporter hears that their messages now go to the team."""
    if case.status not in ("open", "acknowledged"):
        return False
    case.status = "in_contact"
    case.owner = case.owner or actor
    await store.add_event(session, case, "contact_started", actor)
    await tell_reporter(
        store, session, case, TO_REPORTER["started"].format(ref=case.ref), end_button_too=True
    )
    return True


async def end_contact(store: Store, session: AsyncSession, case: Case, actor: str) -> bool:
    """Take a case out of contact; the reporter's messages go to the dialogue again."""
    if case.status != "in_contact":
        return False
    case.status = "acknowledged"
    await store.add_event(session, case, "contact_ended", actor)
    return True


async def from_team(
    store: Store, session: AsyncSession, case: Case, actor: str, first_name: str, text: str
) -> bool:
    """A team member's reply in the thread goes to the reporter; False when the case is closed."""
    if case.status == "closed":
        return False
    await start_contact(store, session, case, actor)
    await store.add_event(session, case, "relayed_to_reporter", actor)
    reply = TO_REPORTER["from_team"].format(name=first_name, text=text[:MAX_RELAY])
    await tell_reporter(store, session, case, reply)
    return True


async def case_in_contact(store: Store, session: AsyncSession, reporter_id: int) -> Case | None:
    """The reporter's case that is in contact now (the latest, should there be more)."""
    result = await session.execute(
        select(Case)
        .where(Case.reporter_id == reporter_id, Case.status == "in_contact")
        .order_by(Case.updated_at.desc(), Case.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


def _is_end(pressed: str) -> bool:
    from flows.validators import normalise

    return pressed == END_CONTACT or normalise(pressed) == normalise(END_LABEL)


async def intercept(ctx: TurnContext) -> bool:
    """While a case is in contact, the reporter's words go to the team; True when handled."""
    message = ctx.incoming
    command = ctx.text.split()[0].split("@")[0].lower() if ctx.text.startswith("/") else None
    if message.button is not None and not _is_end(message.button):
        return False
    if command not in (None, "/stop") or (message.button is None and not ctx.text):
        return False
    case = await case_in_contact(ctx.store, ctx.session, ctx.reporter.id)
    if case is None:
        if message.button is not None:
            ctx.say(TO_REPORTER["no_contact"])
            return True
        return False
    if message.button is not None or command == "/stop":
        await end_contact(ctx.store, ctx.session, case, "melder")
        await tell_team(ctx.store, ctx.session, case, "note", text=TO_TEAM["ended_by_reporter"])
        ctx.say(TO_REPORTER["ended_by_reporter"].format(ref=case.ref))
        return True
    danger = ctx.parse is not None and ctx.parse.intent == "emergency"
    if danger:
        from flows import catalog

        ctx.say(catalog().text(None, "emergency"))  # calling 112 comes first, always
    await ctx.store.add_event(ctx.session, case, "relayed_to_team", "melder")
    await tell_team(
        ctx.store, ctx.session, case, "relay", text=ctx.text[:MAX_RELAY], emergency=danger
    )
    ctx.say(TO_REPORTER["forwarded"], [end_button()])
    return True
