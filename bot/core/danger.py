"""Danger now: the emergency answer (112 first), and what the reporter just said, kept for an alert."""

from __future__ import annotations

from datetime import datetime

from bot.base.messages import Button
from bot.core.features import Feature
from bot.core.turn import TurnContext
from flows import text
from flows.engine import Frame
from flows.model import Flow

feature = Feature("danger")


@feature.action("emergency_in_flow")
async def emergency_in_flow(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Danger now, said in answer to the question: call 112, then the ways on; this flow ends."""
    ctx.state.stack.remove(frame)
    say_emergency(ctx, first="emergency_now")
    return None


REPORT_NOW = "report_now"
NOT_NEEDED = "not_needed"
# How long what the reporter said stays the content of an alert they may still raise.
SAID_MINUTES = 30
MAX_SAID = 3


def say_emergency(ctx: TurnContext, first: str = "emergency") -> None:
    """The emergency answer: calling 112 comes first, always; then alert, report or leave it."""
    ctx.say(text(None, first))
    buttons = [Button(text(None, "button_alert_team"), "alert_team")]
    if draft(ctx) is None:
        buttons.append(Button(text(None, "button_report_now"), REPORT_NOW))
    if ctx.state.stack:
        buttons.append(Button(text(None, "button_continue"), "resume"))
    else:
        buttons.append(Button(text(None, "button_not_needed"), NOT_NEEDED))
    ctx.say(text(None, "emergency_offer"), buttons)


def remember_said(ctx: TurnContext) -> None:
    """Keep the reporter's last few words (for the content of an alert raised from them)."""
    recent = [s for s in ctx.state.said if _recent(ctx, s)][-(MAX_SAID - 1) :]
    ctx.state.said = [*recent, {"at": ctx.now.isoformat(), "text": ctx.text[:1000]}]


def _recent(ctx: TurnContext, said: dict[str, str]) -> bool:
    at = datetime.fromisoformat(said["at"])
    return (ctx.now - at).total_seconds() <= SAID_MINUTES * 60


def recent_said(ctx: TurnContext) -> list[str]:
    """What the reporter said in the last half hour, oldest first."""
    return [s["text"] for s in ctx.state.said if _recent(ctx, s)]


def last_said(ctx: TurnContext) -> str | None:
    """What the reporter said last, if recent: the story of "it is over, I want to report it"."""
    recent = recent_said(ctx)
    return recent[-1] if recent else None


def draft(ctx: TurnContext) -> Frame | None:
    """The report being filled in, if any."""
    return next((f for f in ctx.state.stack if f.flow == "report_incident"), None)
