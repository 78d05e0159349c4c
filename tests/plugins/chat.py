"""A reporter talking to the real dialogue core (real NLU model, real flows and knowledge)."""

from __future__ import annotations

import pytest

from bot.app import FEATURES
from bot.base.clock import FixedClock
from bot.base.messages import Incoming, Reply
from bot.base.settings import Settings
from bot.core.dialogue import Dialogue
from bot.store import Store
from knowledge import Knowledge
from nlu import NLU


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return Knowledge.load()


class Chat:
    """One reporter's side of a conversation."""

    def __init__(self, dialogue: Dialogue, user: str = "local:anna") -> None:
        self.dialogue = dialogue
        self.user = user
        self.replies: list[Reply] = []

    async def send(self, text: str) -> list[Reply]:
        self.replies = await self.dialogue.handle(Incoming(user=self.user, text=text))
        return self.replies

    async def press(self, label: str) -> list[Reply]:
        """Press the offered button with this label (or payload)."""
        offered = [b for r in self.replies for b in r.buttons]
        button = next((b for b in offered if label in (b.label, b.payload)), None)
        assert button is not None, f"no button {label!r} in {[b.label for b in offered]}"
        self.replies = await self.dialogue.handle(Incoming(user=self.user, button=button.payload))
        return self.replies

    async def press_raw(self, payload: str) -> list[Reply]:
        self.replies = await self.dialogue.handle(Incoming(user=self.user, button=payload))
        return self.replies

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def last(self) -> str:
        return self.replies[-1].text

    @property
    def labels(self) -> list[str]:
        return [b.label for r in self.replies for b in r.buttons]


@pytest.fixture
def make_chat(store: Store, nlu_model: NLU, knowledge: Knowledge, clock: FixedClock):
    def make(user: str = "local:anna", settings: Settings | None = None) -> Chat:
        dialogue = Dialogue(
            store, nlu_model, settings or Settings(), knowledge, clock, features=FEATURES
        )
        return Chat(dialogue, user)

    return make


@pytest.fixture
def chat(make_chat) -> Chat:
    return make_chat()
