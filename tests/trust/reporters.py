"""A reporter who completes one report by answering whatever the bot asks last.

Used where turns get lost (a killed process, a database that went away): the reporter only
looks at the replies it saw. Without replies it asks /help, as a person would after silence,
and finds either the waiting question or, when no report is running, checks /mijnmeldingen.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.base.messages import Attachment, Incoming, Reply

if TYPE_CHECKING:
    from bot.core.dialogue import Dialogue

REF = re.compile(r"WB-\d{4}-\d{4,}")
Replies = list[dict[str, Any]]  # [{"text": ..., "buttons": [{"label", "payload"}]}]

# The question a reply ends with, and the answer to give.
ANSWERS: tuple[tuple[str, dict[str, str]], ...] = (
    ("Vertel in je eigen woorden", {"text": "{story}"}),
    ("Is er nog iets dat je wilt vertellen?", {"button": "skip"}),
    ("Bedoel je", {"button": "ja"}),
    ("Wat voor incident was het?", {"button": "bedreiging"}),
    ("Waar gebeurde het online?", {"button": "anders"}),
    ("Wanneer gebeurde het?", {"text": "gisteravond"}),
    ("Waar gebeurde het?", {"text": "{place}"}),
    ("Op wie was het gericht?", {"button": "ikzelf"}),
    ("Heb je bewijs", {"button": "klaar"}),
    ("Stuur gerust meer", {"button": "klaar"}),
    ("aangifte gedaan", {"button": "gedaan"}),
    ("contact met je opneemt", {"button": "{support}"}),
)


def word(number: int) -> str:
    """A made-up word, different for every number, that no parser reads as a date or a type."""
    letters = ""
    number += 26 * 27
    while number:
        number, rest = divmod(number, 26)
        letters = string.ascii_lowercase[rest] + letters
    return f"zorg{letters}"


@dataclass
class Persona:
    """One reporter and what they have seen so far."""

    number: int
    wants_support: bool = False
    ref: str | None = None
    started: bool = False
    turns: int = 0
    resumed: int = 0
    restarted: int = 0
    last: Replies = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"melder{self.number:03d}"

    @property
    def story(self) -> str:
        # Type and time are in the story, so the bot does not ask for them again.
        return f"Gisteravond ben ik bedreigd na de vergadering, {word(self.number)} was erbij"

    @property
    def place(self) -> str:
        return f"In de raadszaal van het gemeentehuis, kamer {word(self.number + 5000)}"

    @property
    def secrets(self) -> tuple[str, str]:
        """The words only this reporter typed."""
        return word(self.number), word(self.number + 5000)

    @property
    def done(self) -> bool:
        return self.ref is not None

    def lost_replies(self) -> None:
        """The replies to the last input never arrived."""
        self.last = []

    def saw(self, replies: Replies) -> None:
        self.last = replies
        text = "\n".join(r["text"] for r in replies)
        if "We gaan verder waar we waren" in text:
            self.resumed += 1
        if "opgeslagen onder nummer" in text or "Je meldingen, de nieuwste eerst" in text:
            found = REF.search(text)
            if found:
                self.ref = found.group(0)

    def next_input(self) -> dict[str, str]:
        """What to send next, given the replies to the last input."""
        self.turns += 1
        if not self.last:
            return {"text": "/help"} if self.started else self._start()
        texts = [r["text"] for r in self.last]
        payloads = [b["payload"] for r in self.last for b in r["buttons"]]
        if "Je hebt nog geen meldingen" in texts[-1]:
            self.restarted += 1
            return self._start()
        if "confirm" in payloads:
            return {"button": "confirm"}
        for question, answer in ANSWERS:
            if question in texts[-1]:
                return {
                    key: value.format(
                        story=self.story,
                        place=self.place,
                        support="ja" if self.wants_support else "nee",
                    )
                    for key, value in answer.items()
                }
        if "verlopen" in texts[-1]:
            return {"text": "/help"}
        if "nee" in payloads:  # a yes/no question this reporter does not know: no, thanks
            return {"button": "nee"}
        return {"text": "/mijnmeldingen"} if self.started else self._start()

    def _start(self) -> dict[str, str]:
        self.started = True
        return {"text": "/melden"}


def seen(replies: list[Reply]) -> Replies:
    """The core's replies as the reporter sees them (as the JSON chat writes them)."""
    return [
        {"text": r.text, "buttons": [{"label": b.label, "payload": b.payload} for b in r.buttons]}
        for r in replies
    ]


async def complete(
    dialogue: Dialogue, persona: Persona, files: tuple[Attachment, ...] = (), note: str = ""
) -> str:
    """Take the persona through a whole report in this process; files and a note as evidence."""
    user = f"local:{persona.name}"
    evidence = bool(files or note)
    while not persona.done:
        assert persona.turns < 100, persona.last
        message = persona.next_input()
        if message.get("button") == "klaar" and evidence:
            evidence = False
            for file in files:
                await dialogue.handle(Incoming(user, attachments=(file,)))
            if note:
                await dialogue.handle(Incoming(user, text=note))
        replies = await dialogue.handle(
            Incoming(user, message.get("text", ""), message.get("button"))
        )
        persona.saw(seen(replies))
    assert persona.ref is not None
    return persona.ref
