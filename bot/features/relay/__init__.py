"""The reporter and the support team, from the escalation until the case is closed.

From the moment a case is escalated it waits for the team (`Case.waiting_since`, in the store, so a
restart keeps it): everything the reporter sends goes on the timeline and into the card's thread,
with a short receipt; a question about the wait gets the real status; danger gets 112 first and
makes the case urgent. A team member's reply in the thread goes to the reporter and puts the case
in contact. The reporter ends it with /stop or the button; the team ends it, and closing the case
ends it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.base.messages import Attachment, Button, ToTeam
from bot.core.features import Feature
from bot.core.turn import TurnContext
from bot.features.evidence import file_kind, keep_file
from bot.store import Case, Store
from flows import text
from flows.validators import normalise

feature = Feature("relay")

FLOW = "request_support"  # the support conversation's texts are in its flow file
END_CONTACT = "contact:end"
MAX_RELAY = 3000
# "hoe lang duurt het nog?", "is er al iemand?", "wanneer belt er iemand?": asking about the wait.
_ASKS_STATUS = re.compile(
    r"\b(hoe ?lang|duurt|is er (al|nog) (iemand|niemand)|komt er (al |nog )?iemand|"
    r"nog (steeds |altijd )?niemand|wanneer (belt|komt|hoor|reageert|krijg)|al opgepakt|"
    r"waar blijf|stand van zaken|hoor ik (nog |al )?iets|status)\b",
    re.IGNORECASE,
)

_OWN_CASES = re.compile(r"\b(meldingen|mijn (melding|zaak|zaken))\b", re.IGNORECASE)


def next_step(case: Case, owner: str) -> str:
    """What the team member who picked the case up will do: call, or write in this chat."""
    how = (
        "call"
        if case.contact_preference == "bellen" and case.phone
        else "chat"
        if case.contact_preference
        else "other"
    )
    return text(None, f"case_next_{how}", owner=owner)


def end_button() -> Button:
    return Button(text(FLOW, "button_end_contact"), END_CONTACT)


async def tell_reporter(
    store: Store, session: AsyncSession, case: Case, message: str, *, end_button_too: bool = False
) -> None:
    """Queue a message to the case's reporter."""
    payload: dict[str, Any] = {"user": case.reporter.user_key, "case": case.ref, "text": message}
    if end_button_too:
        button = end_button()
        payload["buttons"] = [{"label": button.label, "payload": button.payload}]
    await store.enqueue(session, "user", payload, reporter_id=case.reporter_id, case_id=case.id)


async def tell_team(
    store: Store, session: AsyncSession, case: Case, kind: str, text: str, **details: Any
) -> None:
    """Queue something for the case's thread, posted once however often it is sent."""
    message = ToTeam(kind, case.ref, text=text, key=uuid.uuid4().hex, details=details)
    await store.tell_team(session, message, case_id=case.id)


def start_waiting(store: Store, case: Case) -> None:
    """The case is escalated: from now on the reporter's messages go to its thread."""
    if case.waiting_since is None:
        case.waiting_since = store.clock.now()


async def start_contact(store: Store, session: AsyncSession, case: Case, actor: str) -> bool:
    """Put a case in contact; the reporter hears that their messages now go to the team."""
    if case.status not in ("open", "acknowledged"):
        return False
    case.status = "in_contact"
    case.owner = case.owner or actor
    start_waiting(store, case)
    await store.add_event(session, case, "contact_started", actor)
    await tell_reporter(
        store, session, case, text(FLOW, "contact_started", ref=case.ref), end_button_too=True
    )
    return True


async def end_contact(store: Store, session: AsyncSession, case: Case, actor: str) -> bool:
    """Stop relaying; the reporter's messages go to the dialogue again."""
    if case.waiting_since is None and case.status != "in_contact":
        return False
    if case.status == "in_contact":
        case.status = "acknowledged"
    case.waiting_since = None
    await store.add_event(session, case, "contact_ended", actor)
    return True


async def from_team(
    store: Store, session: AsyncSession, case: Case, actor: str, first: str, message: str
) -> bool:
    """A team member's reply in the thread goes to the reporter; False when the case is closed."""
    if case.status == "closed":
        return False
    await start_contact(store, session, case, actor)
    await store.add_event(session, case, "relayed_to_reporter", actor)
    reply = text(FLOW, "from_team", name=first, text=message[:MAX_RELAY])
    await tell_reporter(store, session, case, reply)
    return True


async def waiting_case(store: Store, session: AsyncSession, reporter_id: int) -> Case | None:
    """The reporter's case that waits for (or talks with) the team now; the latest, if more."""
    result = await session.execute(
        select(Case)
        .where(
            Case.reporter_id == reporter_id,
            Case.waiting_since.isnot(None),
            Case.status != "closed",
        )
        .order_by(Case.waiting_since.desc(), Case.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


def status(ctx: TurnContext, case: Case) -> str:
    """Where the reporter's request stands: picked up or not, by whom, how long, what was promised."""
    assert case.waiting_since is not None
    waited = max(0, int((ctx.now - case.waiting_since).total_seconds() // 60))
    how_long = (
        text(FLOW, "waited_just")
        if waited < 1
        else text(FLOW, "waited_one")
        if waited == 1
        else text(FLOW, "waited_minutes", minutes=waited)
    )
    if ctx.settings.slack_bot_token and case.slack_ts is None:
        # The card is not in Slack yet: the team does not have it, so say so.
        return text(FLOW, "waiting_status_on_its_way", ref=case.ref, waited=how_long)
    owner = (case.owner or "").split(" ", 1)[0]
    if case.status == "in_contact":
        return text(FLOW, "waiting_status_contact", owner=owner, ref=case.ref)
    if case.owner:
        return text(
            FLOW,
            "waiting_status_taken",
            owner=owner,
            ref=case.ref,
            waited=how_long,
            next=next_step(case, owner),
        )
    minutes = ctx.settings.support_response_minutes
    how = text(FLOW, "how_call" if case.contact_preference == "bellen" else "how_chat")
    promise = (
        text(FLOW, "waiting_promise", minutes=minutes, how=how)
        if waited < minutes
        else text(FLOW, "waiting_promise_late", minutes=minutes)
    )
    return text(FLOW, "waiting_status_open", ref=case.ref, waited=how_long, promise=promise)


def asks_status(ctx: TurnContext) -> bool:
    """Whether the reporter asks about the wait ("hoe lang duurt het nog?", "is er al iemand?")."""
    return bool(_ASKS_STATUS.search(ctx.text))


def asks_own_cases(ctx: TurnContext) -> bool:
    """ "Mijn meldingen" typed: the menu's list of the reporter's cases, not a message for the team."""
    parse = ctx.parse
    return (
        parse is not None
        and not parse.fallback
        and parse.intent == "case_status"
        and bool(_OWN_CASES.search(ctx.text))
        and not asks_status(ctx)
    )


def asks_help(ctx: TurnContext) -> bool:
    """Whether the reporter asks for help (again): /hulp, or the classifier hears it."""
    parse = ctx.parse
    command = ctx.command
    return command == "/hulp" or (
        parse is not None and not parse.fallback and parse.intent == "request_support"
    )


def _is_end(pressed: str) -> bool:
    return pressed == END_CONTACT or normalise(pressed) == normalise(
        text(FLOW, "button_end_contact")
    )


async def _raise_urgency(ctx: TurnContext, case: Case) -> None:
    """Danger while waiting: the case becomes urgent and its card shows it."""
    if case.urgency == "urgent":
        return
    case.urgency = "urgent"
    await ctx.store.add_event(ctx.session, case, "urgency_raised", "melder", {"urgency": "urgent"})
    note = text(FLOW, "team_now_urgent", ref=case.ref)
    await ctx.store.tell_team(
        ctx.session, ToTeam("card", case=case.ref, text=note), case_id=case.id
    )


async def _pass_file(ctx: TurnContext, case: Case, attachment: Attachment) -> str | None:
    """Keep a file as evidence of the case and tell the thread; the receipt, or None if refused."""
    kept = await keep_file(ctx, attachment, case_id=case.id)
    if kept is None:
        return None
    kind = file_kind(attachment.kind)
    await ctx.store.add_event(
        ctx.session,
        case,
        "relayed_to_team",
        "melder",
        {"file": attachment.kind, "sha256": kept.sha256},
    )
    note = text(
        FLOW,
        "team_file_from_reporter",
        kind=kind,
        size=max(1, round(kept.size / 1024)),
        hash=kept.sha256[:12],
    )
    await tell_team(ctx.store, ctx.session, case, "relay", text=note, file=True)
    return text(FLOW, "waiting_file_forwarded", kind=kind, hash=kept.sha256[:12])


@feature.intercept
async def intercept(ctx: TurnContext, *, in_flow: bool, sure_danger: bool) -> bool:
    """While a case waits for the team, the reporter's words go to its thread; True when handled.

    Buttons and commands keep working; while the reporter fills in a flow (a report, say) its
    answers go to the flow, except danger and a request for help, which concern the waiting case.
    Danger always gets the 112 line; the case becomes urgent when the danger is certain.
    """
    message = ctx.incoming
    command = ctx.command
    ending = message.button is not None and _is_end(message.button)
    if message.button is not None and not ending:
        return False
    case = await waiting_case(ctx.store, ctx.session, ctx.reporter.id)
    if case is None:
        if ending:
            ctx.say(text(FLOW, "no_contact"))
            return True
        return False
    if ending or (command == "/stop" and not in_flow):
        await end_contact(ctx.store, ctx.session, case, "melder")
        await tell_team(
            ctx.store, ctx.session, case, "note", text=text(FLOW, "team_ended_by_reporter")
        )
        ctx.say(text(FLOW, "ended_by_reporter", ref=case.ref))
        return True
    danger = ctx.parse is not None and ctx.parse.intent == "emergency"
    # Help asked again while a request for help waits: that request stands (no second alert);
    # after a report that asked for contact, /hulp still asks how and when.
    helping = asks_help(ctx) and case.kind == "support"
    if (command is not None and not helping) or (in_flow and not danger and not helping):
        return False
    if not danger and asks_own_cases(ctx):
        return False
    if danger:
        ctx.say(text(FLOW, "emergency"))  # calling 112 comes first, always
        if sure_danger:
            await _raise_urgency(ctx, case)
    if message.attachments and not ctx.text:
        for attachment in message.attachments:
            receipt = await _pass_file(ctx, case, attachment)
            if receipt is not None:
                ctx.say(receipt, [end_button()])
        return True
    if command is None:
        words = ctx.text[:MAX_RELAY]
        await ctx.store.add_event(ctx.session, case, "relayed_to_team", "melder", {"text": words})
        await tell_team(ctx.store, ctx.session, case, "relay", text=words, emergency=danger)
    if not danger and (helping or asks_status(ctx)):
        lines = [text(FLOW, "waiting_already")] if helping else []
        lines += [status(ctx, case), text(FLOW, "waiting_unsafe")]
        ctx.say("\n".join(lines), [end_button()])
        return True
    ctx.say(text(FLOW, "waiting_forwarded"), [end_button()])
    return True
