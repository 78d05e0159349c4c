"""The turn context: what a feature's handler may see and use during one turn."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.base.messages import Button, Incoming, Reply
from bot.base.settings import Settings
from bot.core.commands import typed_command
from bot.store import Reporter, Store
from flows import text
from flows.engine import DialogueState, Engine, Frame
from knowledge import Knowledge
from nlu import Parse


@dataclass
class TurnContext:
    """One turn: the message, the conversation's state, the store session, the replies so far.

    It is the flow engine's Turn (flows.engine.Turn) and carries what features need besides.
    """

    state: DialogueState
    incoming: Incoming
    now: datetime
    store: Store
    session: AsyncSession
    reporter: Reporter
    settings: Settings
    knowledge: Knowledge
    engine: Engine  # the flows: a handler may start one or ask the pending question again
    parse: Parse | None = None
    payload: str | None = None  # the pressed button, already checked against what was offered
    replies: list[Reply] = field(default_factory=list)

    def say(self, text: str, buttons: Iterable[tuple[str, str]] = ()) -> None:
        self.replies.append(Reply(text, tuple(Button(*b) for b in buttons)))

    @property
    def text(self) -> str:
        return self.incoming.text.strip()

    @property
    def command(self) -> str | None:
        """The command this message starts with ("/melden"), if any."""
        return typed_command(self.text)

    @property
    def has_files(self) -> bool:
        return bool(self.incoming.attachments)

    async def resume(self, *, expired: bool = False) -> None:
        """After a side answer: ask the pending question again ("where were we")."""
        if expired:
            self.say(text(None, "expired_button"))
        await self.engine.reask(self, prefix_key="resume")


def draft_files(frame: Frame) -> list[int]:
    """The evidence kept for a report not yet sent (its files join the case when it is)."""
    return list((frame.slots.get("evidence") or {}).get("files", []))
