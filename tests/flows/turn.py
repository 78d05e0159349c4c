"""A turn as small as the engine needs, and a fake for every action the flows name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flows.engine import Choice, DialogueState, Frame
from flows.model import Catalog, Flow
from nlu import Parse

# A file step without its own store action keeps files with this one (see the engine).
DEFAULT_STORE = "store_evidence"


@dataclass
class FakeTurn:
    """One message to the engine: typed text or a pressed button; what the engine said back."""

    state: DialogueState
    now: datetime
    message: str = ""
    payload: str | None = None
    parse: Parse | None = None
    has_files: bool = False
    said: list[tuple[str, tuple[Choice, ...]]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.message.strip()

    def say(self, text: str, buttons: tuple[Choice, ...] | list[Choice] = ()) -> None:
        self.said.append((text, tuple(buttons)))


def action_names(catalog: Catalog) -> set[str]:
    """Every action the flows call: steps' actions, rendered questions and file stores."""
    names: set[str] = set()
    for flow in catalog.flows.values():
        for step in flow.steps:
            names.update(n for n in (step.action, step.ask_action) if n)
        for slot in flow.slots.values():
            if slot.type == "files":
                names.add(slot.store or DEFAULT_STORE)
    return names


class FakeActions(dict[str, Callable[[Any, Frame, Flow], Awaitable[str | None]]]):
    """An async fake per action name; each call is recorded as (name, flow, step)."""

    def __init__(self, names: set[str], say: dict[str, str] | None = None) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, str]] = []
        for name in sorted(names):
            self[name] = self._fake(name, (say or {}).get(name))

    def _fake(
        self, name: str, words: str | None
    ) -> Callable[[Any, Frame, Flow], Awaitable[str | None]]:
        async def action(turn: Any, frame: Frame, flow: Flow) -> str | None:
            self.calls.append((name, flow.name, frame.step))
            if words is not None:
                turn.say(words)
            return None

        return action

    @property
    def called(self) -> list[str]:
        return [name for name, _, _ in self.calls]
