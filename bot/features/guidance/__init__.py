"""Guidance: protocols and training from the knowledge base, first answer short, the rest behind a
button."""

from __future__ import annotations

from typing import Any

from bot.base.messages import Button
from bot.core.features import Feature
from bot.core.turn import TurnContext
from flows import choice_label, text
from flows.engine import Frame
from flows.model import END, Flow
from knowledge import render, render_more

feature = Feature("guidance")


def _knowledge_buttons(
    ctx: TurnContext, hits: list[Any], flow: Flow, other_payload: str
) -> list[Button]:
    buttons = [Button(hit.entry.title[:60], f"kb:{hit.entry.id}") for hit in hits]
    buttons.append(Button(text(None, "fallback_other"), other_payload))
    return buttons


def _say_entry(
    ctx: TurnContext, entry: Any, role: str | None = None, extra: tuple[Button, ...] = ()
) -> None:
    """The first answer of an entry, with a button for the rest."""
    more = (Button(text(None, "knowledge_more"), f"meer:{entry.id}"),)
    ctx.say(render(entry, role=role), [*(more if entry.has_more else ()), *extra])


def show_entry(ctx: TurnContext, entry_id: str, flow: Flow | None = None) -> bool:
    """Say one knowledge entry; False when it does not exist."""
    entry = ctx.knowledge.get(entry_id)
    if entry is None:
        return False
    _say_entry(ctx, entry, ctx.reporter.role)
    return True


def show_more(ctx: TurnContext, entry_id: str) -> bool:
    """Say the rest of one knowledge entry; False when it does not exist."""
    entry = ctx.knowledge.get(entry_id)
    if entry is None:
        return False
    ctx.say(render_more(entry))
    return True


def _answer(
    ctx: TurnContext, flow: Flow, hits: list[Any], other_payload: str, role: str | None = None
) -> None:
    best, more = hits[0], hits[1:3]
    if more:
        _say_entry(ctx, best.entry, role)
        ctx.say(text(flow, "more"), _knowledge_buttons(ctx, more, flow, other_payload))
    else:
        other = Button(text(None, "fallback_other"), other_payload)
        _say_entry(ctx, best.entry, role, (other,))


def _typed_question(ctx: TurnContext) -> str | None:
    """The reporter's own words, when this turn is a typed question and not a button or command."""
    if ctx.payload is not None or not ctx.text or ctx.text.startswith("/"):
        return None
    return ctx.text


@feature.action("answer_question")
async def answer_question(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Answer a typed question straight away; otherwise ask for the topic."""
    question = _typed_question(ctx)
    if question is None:
        return None
    topic = ctx.parse.entity("topic") if ctx.parse else None
    hits = ctx.knowledge.search(question, kind="protocol", topic=topic, limit=3)
    if not hits:
        return None
    _answer(ctx, flow, hits, "intent:find_protocol")
    return END


@feature.action("answer_topic")
async def answer_topic(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Answer for the chosen topic."""
    topic = str(frame.slots["topic"])
    label = choice_label(flow, "topic", topic)
    hits = ctx.knowledge.search(label, kind="protocol", topic=topic, limit=3)
    if not hits:
        ctx.say(text(flow, "nothing_found"))
        return END
    _answer(ctx, flow, hits, "intent:find_protocol")
    return END


@feature.action("remembered_role")
async def remembered_role(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Skip the role question when the reporter's role is known."""
    role = ctx.reporter.role or (ctx.parse.entity("role") if ctx.parse else None)
    if role and flow.slots["role"].choice(role):
        frame.slots["role"] = role
        return "answer"
    return None


@feature.action("answer_training")
async def answer_training(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Show the training offer that fits the reporter's role, and remember the role."""
    role = str(frame.slots["role"])
    if not ctx.reporter.verified:  # a verified role comes from the invite and stays
        ctx.reporter.role = role
    query = _typed_question(ctx) or "training"
    hits = ctx.knowledge.search(query, kind="training", role=role, limit=3)
    if not hits:
        hits = ctx.knowledge.search("training", kind="training", role=role, limit=3)
    if not hits:
        ctx.say(text(flow, "nothing_found"))
        return END
    _answer(ctx, flow, hits, "intent:find_protocol", role)
    return END


@feature.button("kb")
async def on_entry(ctx: TurnContext, value: str) -> None:
    await ctx.resume(expired=not show_entry(ctx, value))


@feature.button("meer")
async def on_more(ctx: TurnContext, value: str) -> None:
    await ctx.resume(expired=not show_more(ctx, value))
