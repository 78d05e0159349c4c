"""The running parts a channel works with, built once per process by the wiring (bot.app)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.base.settings import Settings
from bot.core.dialogue import Dialogue
from bot.store import Store
from knowledge import Knowledge
from nlu import NLU


class StartupError(RuntimeError):
    """Start-up cannot go on; the message is one line saying why."""


@dataclass
class App:
    """The running parts, built once per process."""

    settings: Settings
    store: Store
    nlu: NLU
    knowledge: Knowledge
    dialogue: Dialogue

    async def close(self) -> None:
        await self.nlu.aclose()
        await self.store.close()
