"""Support: a request for help, its escalation to the team, acknowledge, close, re-escalate and the
promises made."""

from __future__ import annotations

from bot.base.messages import ToTeam
from bot.core.danger import draft, recent_said
from bot.core.features import Feature
from bot.core.turn import TurnContext
from bot.features import relay
from bot.store import Case
from flows import catalog, text
from flows.engine import Frame
from flows.model import END, Flow
from flows.validators import moment

feature = Feature("support")


def short(story: str, limit: int = 300) -> str:
    story = " ".join(story.split())
    return story if len(story) <= limit else story[: limit - 1].rstrip() + "…"


async def request_support(
    ctx: TurnContext, *, urgency: str, contact: str, phone: str | None, need: str | None
) -> Case:
    """Create a support case and queue its escalation in the same transaction.

    The case carries what the alert is about: the reporter's recent words, what they need, and
    the report they were filling in (its type, time, place and story so far).
    """
    flow = catalog().flows["request_support"]
    said = recent_said(ctx)
    report = draft(ctx)
    slots = report.slots if report is not None else {}
    story_parts = [str(slots["story"])] if slots.get("story") else []
    story_parts += [p for p in (*said, need) if p and p not in story_parts]
    case = await ctx.store.create_case(
        ctx.session,
        ctx.reporter,
        kind="support",
        urgency=urgency,
        contact_preference=contact,
        phone=phone,
        story="\n".join(story_parts) or None,
        incident_type=slots.get("incident_type"),
        platform=slots.get("platform"),
        occurred_at=moment(slots.get("occurred")),
        occurred_text=report.shown.get("occurred") if report else None,
        location=slots.get("location"),
        targeted=slots.get("targeted"),
        wants_support=True,
    )
    waiting = await relay.waiting_case(ctx.store, ctx.session, ctx.reporter.id)
    if waiting is not None and waiting.id != case.id:
        case.linked_case_id = waiting.id
        await ctx.store.add_event(ctx.session, case, "linked", "melder", {"case": waiting.ref})
    relay.start_waiting(ctx.store, case)
    ctx.state.said = []
    lines = [
        text(
            flow,
            "escalation",
            kind=text(flow, "team_kind_support"),
            ref=case.ref,
            urgency=text(flow, f"team_urgency_{urgency}"),
            contact=text(flow, f"team_contact_{contact}"),
        )
    ]
    if report is not None:
        lines.append(
            text(
                flow,
                "escalation_draft",
                type=report.shown.get("incident_type", "?"),
                when=report.shown.get("occurred", "?"),
                story=short(str(slots.get("story") or "?")),
            )
        )
    words = [p for p in (*said, need) if p]
    if words:
        lines.append(text(flow, "escalation_said", said=" / ".join(words)))
    elif report is None:
        lines.append(text(flow, "escalation_nothing_said"))
    await ctx.store.tell_team(
        ctx.session,
        ToTeam("escalation", case=case.ref, text="\n".join(lines), details={"urgency": urgency}),
        case_id=case.id,
    )
    await ctx.store.add_event(ctx.session, case, "escalated", "systeem", {"urgency": urgency})
    how = text(flow, "how_call" if contact == "bellen" else "how_chat")
    ctx.say(
        text(
            flow,
            "support_requested",
            ref=case.ref,
            minutes=ctx.settings.support_response_minutes,
            how=how,
        )
    )
    if report is not None:
        ctx.say(text(flow, "draft_attached"))
    return case


@feature.action("create_support_request")
async def create_support_request(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Escalate a request for help to the support team."""
    await request_support(
        ctx,
        urgency="normal",
        contact=str(frame.slots.get("contact_preference", "chatten")),
        phone=frame.slots.get("phone") if frame.slots.get("phone_consent") == "ja" else None,
        need=frame.slots.get("need"),
    )
    return END


@feature.button("alert_team")
async def alert_team(ctx: TurnContext, value: str) -> None:
    """After the 112 answer: warn the team now, with what was said; then go on where we were."""
    await request_support(ctx, urgency="urgent", contact="chatten", phone=None, need=None)
    await ctx.resume()
