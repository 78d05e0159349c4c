"""What features add to the core: flow actions, buttons, jobs and hooks, registered by name.

Each feature declares one `Feature` and decorates its handlers with it; the application hands
the features to the dialogue (`Features.of(...)`). The router knows no feature: it looks up a
pressed button's kind (the payload before ":") here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.base.messages import Button
from bot.core.turn import TurnContext
from bot.jobs.scheduler import JobHandler
from flows.engine import Action

# A pressed button of this feature's kind: gets the value after "kind:".
ButtonHandler = Callable[[TurnContext, str], Awaitable[None]]
# An intent answered outside any flow ("privacy").
IntentHandler = Callable[[TurnContext], Awaitable[None]]
# Before routing: True when the feature took the message (a case waiting for the team).
Intercept = Callable[..., Awaitable[bool]]
# Files sent while no flow asks for them: True when the feature took them.
FilesHandler = Callable[[TurnContext], Awaitable[bool]]
# Buttons a feature offers beside a fallback answer (add to the report just sent).
Offer = Callable[[TurnContext], Awaitable[tuple[Button, ...]]]
# A /start deep link's code (an invite).
DeepLink = Callable[[TurnContext, str], Awaitable[None]]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Feature:
    """One feature's registrations."""

    name: str
    actions: dict[str, Action] = field(default_factory=dict)
    buttons: dict[str, ButtonHandler] = field(default_factory=dict)
    # Buttons pressed long after they were offered (a check-in days later): checked by the
    # handler against the store, not against the last turn's buttons.
    standing: dict[str, ButtonHandler] = field(default_factory=dict)
    intents: dict[str, IntentHandler] = field(default_factory=dict)
    jobs: dict[str, JobHandler] = field(default_factory=dict)
    intercepts: list[Intercept] = field(default_factory=list)
    files: list[FilesHandler] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    deep_links: list[DeepLink] = field(default_factory=list)

    def action(self, name: str) -> Callable[[F], F]:
        """Register a flow action under the name flows/*.yml use."""
        return self._put(self.actions, name)

    def button(self, kind: str, *, standing: bool = False) -> Callable[[F], F]:
        """Register the handler of buttons whose payload is `kind` or starts with `kind:`."""
        return self._put(self.standing if standing else self.buttons, kind)

    def intent(self, name: str) -> Callable[[F], F]:
        return self._put(self.intents, name)

    def job(self, name: str) -> Callable[[F], F]:
        """Register a scheduled job's handler: called with the scheduler and the job's arguments."""
        return self._put(self.jobs, name)

    def intercept(self, handler: F) -> F:
        self.intercepts.append(handler)
        return handler

    def on_files(self, handler: F) -> F:
        self.files.append(handler)
        return handler

    def offer(self, handler: F) -> F:
        self.offers.append(handler)
        return handler

    def deep_link(self, handler: F) -> F:
        self.deep_links.append(handler)
        return handler

    @staticmethod
    def _put(table: dict[str, Any], key: str) -> Callable[[F], F]:
        def register(function: F) -> F:
            if key in table:
                raise ValueError(f"{key!r} is registered twice")
            table[key] = function
            return function

        return register


@dataclass(frozen=True)
class Features:
    """All features' registrations merged; a name registered by two features is refused."""

    actions: dict[str, Action]
    buttons: dict[str, ButtonHandler]
    standing: dict[str, ButtonHandler]
    intents: dict[str, IntentHandler]
    jobs: dict[str, JobHandler]
    intercepts: tuple[Intercept, ...]
    files: tuple[FilesHandler, ...]
    offers: tuple[Offer, ...]
    deep_links: tuple[DeepLink, ...]

    @classmethod
    def of(cls, features: Iterable[Feature]) -> Features:
        tables: dict[str, dict[str, Any]] = {
            "actions": {},
            "buttons": {},
            "standing": {},
            "intents": {},
            "jobs": {},
        }
        hooks: dict[str, list[Any]] = {
            "intercepts": [],
            "files": [],
            "offers": [],
            "deep_links": [],
        }
        for feature in features:
            for name, table in tables.items():
                for key, handler in getattr(feature, name).items():
                    if key in table:
                        raise ValueError(f"{name} {key!r} is registered by two features")
                    table[key] = handler
            for name, found in hooks.items():
                found.extend(getattr(feature, name))
        clash = set(tables["buttons"]) & set(tables["standing"])
        if clash:
            raise ValueError(f"buttons {sorted(clash)} are registered twice")
        return cls(
            **tables,  # type: ignore[arg-type]
            **{name: tuple(found) for name, found in hooks.items()},  # type: ignore[arg-type]
        )

    def button(self, payload: str) -> tuple[ButtonHandler, str] | None:
        """The handler of an offered button's kind, and the value after "kind:"."""
        kind, _, value = payload.partition(":")
        handler = self.buttons.get(kind)
        return (handler, value) if handler else None

    def standing_button(self, pressed: str) -> tuple[ButtonHandler, str] | None:
        """The handler of a button that may be pressed long after it was offered."""
        kind, _, value = pressed.strip().partition(":")
        handler = self.standing.get(kind)
        return (handler, value) if handler else None
