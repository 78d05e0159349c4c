"""Turn a reporter's answer into a slot value, or say why it does not fit."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flows.model import Slot
from nlu.dates import parse_when

DONE_WORDS = {
    "klaar",
    "dat was het",
    "dat is alles",
    "geen",
    "nee",
    "niets",
    "niks",
    "verder",
    "done",
    "nee dat was het",
    "nee dat is alles",
    "nee hoor",
    "nee niets",
    "nee verder niets",
    "verder niets",
    "dat was het wel",
}
SKIP_WORDS = {"overslaan", "sla over", "skip", "sla maar over", "volgende"}
# "I don't know", as people type it; an answer in itself where a slot allows it.
UNKNOWN = re.compile(
    r"\b(weet (ik )?(het |dat )?(niet|nie|nt)|geen idee|geen flauw idee|onbekend|ik weet het niet"
    r"|kan ik niet zeggen|weet ik niet meer|geen idee meer)\b"
)
AFFIRM_INTENTS = {"affirm"}
DENY_INTENTS = {"deny"}


@dataclass(frozen=True)
class Valid:
    """An accepted answer; `confirm` asks the reporter to check a guess first."""

    value: Any
    display: str
    confirm: bool = False


@dataclass(frozen=True)
class Invalid:
    """An answer that does not fit; `reason` names the text to show."""

    reason: str


def normalise(text: str) -> str:
    """Lower case, no accents, single spaces, no surrounding punctuation."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^\w\s:/+-]", " ", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def _match_choice(slot: Slot, answer: str) -> str | None:
    if slot.choice(answer):
        return answer
    words = normalise(answer)
    if not words:
        return None
    for choice in slot.choices:
        names = {
            choice.value.replace("_", " "),
            normalise(choice.label),
            *map(normalise, choice.synonyms),
        }
        if words in names:
            return choice.value
    return find_choice(slot, words)


def choice_spans(slot: Slot, text: str) -> list[tuple[int, int, str]]:
    """Where each choice's synonyms occur in a text: (start, end, value), a longer phrase winning
    over a word inside it ("nee nog niet" is "nog niet", not also "niet")."""
    words = normalise(text)
    spans = [
        (match.start(), match.end(), choice.value)
        for choice in slot.choices
        for synonym in choice.synonyms
        if len(synonym) > 3
        for match in re.finditer(rf"\b{re.escape(normalise(synonym))}\b", words)
    ]
    return [
        (start, end, value)
        for start, end, value in spans
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans)
    ]


def find_choice(slot: Slot, text: str) -> str | None:
    """The one choice whose synonym occurs in a longer text ("ik heb het al gedaan"); else None."""
    found = {value for _, _, value in choice_spans(slot, text)}
    return found.pop() if len(found) == 1 else None


def is_unknown(text: str) -> bool:
    """Whether an answer says "I don't know" ("weet ik niet", "geen idee", "onbekend")."""
    return bool(UNKNOWN.search(normalise(text)))


def unknown_answer(slot: Slot, text: str, display: str) -> Valid:
    """The value a slot keeps for "weet ik niet": its unknown choice, or nothing (with the words)."""
    if isinstance(slot.unknown, str):
        choice = slot.choice(slot.unknown)
        return Valid(slot.unknown, choice.label if choice else display)
    if slot.type == "when":
        return Valid({"moment": None, "precision": "unknown", "text": text.strip()[:200]}, display)
    return Valid(None, display)


_PHONE = re.compile(r"^(?:\+31|0031|0)([1-9]\d{8})$")


def dutch_phone(text: str) -> str | None:
    """A Dutch phone number in +31 form, or None."""
    digits = re.sub(r"[\s().-]", "", text)
    match = _PHONE.match(digits)
    return f"+31{match.group(1)}" if match else None


def interpret(
    slot: Slot,
    text: str,
    *,
    payload: str | None,
    intent: str | None,
    entity: str | None,
    now: datetime,
    unknown_display: str = "",
) -> Valid | Invalid:
    """Read one answer for a slot."""
    answer = payload if payload is not None else text
    if slot.unknown and payload is None and is_unknown(answer):
        when = parse_when(answer, now) if slot.type == "when" else None
        told = slot.type == "text" and len(answer.split()) > 4  # "weet niet precies, bij de kerk"
        if when is None and not told and (slot.type != "choice" or not _match_choice(slot, answer)):
            return unknown_answer(slot, answer, unknown_display)
    if slot.type in ("choice", "yesno"):
        value = _match_choice(slot, answer)
        if value is None and slot.type == "yesno" and payload is None:
            value = "ja" if intent in AFFIRM_INTENTS else "nee" if intent in DENY_INTENTS else None
        if value is None and entity and slot.choice(entity):
            value = entity
        if value is None:
            return Invalid(f"invalid_{slot.name}")
        choice = slot.choice(value)
        return Valid(value, choice.label if choice else value)
    if slot.type == "when":
        if normalise(answer) == "eerder":
            return Invalid("hint_when_earlier")
        when = parse_when(answer, now)
        if when is None:
            return Invalid("invalid_when")
        return Valid(
            {
                "moment": when.moment.isoformat(),
                "precision": when.precision,
                "text": answer.strip()[:200],
            },
            when.describe(now),
            confirm=when.ambiguous,
        )
    if slot.type == "phone":
        number = dutch_phone(answer)
        return Valid(number, number) if number else Invalid("invalid_phone")
    # text
    cleaned = " ".join(answer.split())
    if len(cleaned) > slot.max_length:
        return Invalid("too_long")
    if len(cleaned.split()) < slot.min_words:
        return Invalid(f"invalid_{slot.name}")
    return Valid(cleaned, cleaned)


def moment(value: Any) -> datetime | None:
    """The moment a date slot's value holds; None for "weet ik niet" or no value."""
    if isinstance(value, dict) and value.get("moment"):
        return datetime.fromisoformat(value["moment"])
    return None
